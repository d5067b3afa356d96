/**
 * Launching Debian's Chromium with a fake microphone that plays a WAV file.
 *
 * Every page in a browser hears the same fake device, so each fixture gets its own
 * browser. Flags are the ones TESTING.md documents; never a downloaded browser.
 */
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from '@playwright/test';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The preview server's port (VOICE_AGENT_TEST_PORT, default 4173; see playwright.config.ts). */
export const PORT = Number(process.env.VOICE_AGENT_TEST_PORT) || 4173;

/** The preview server (serving dist/ and /models). */
export const ORIGIN = process.env.VOICE_AGENT_TEST_ORIGIN ?? `http://127.0.0.1:${PORT}`;

export interface LaunchOptions {
  /** WAV played as the microphone (absolute path). Omit for no fake audio file. */
  readonly micWav?: string;
  readonly extraArgs?: readonly string[];
  /**
   * Let Chromium throttle and background pages as it does for a visitor: Playwright
   * otherwise launches it with switches that keep every page running at full pace.
   */
  readonly backgroundThrottling?: boolean;
}

/** Playwright's switches that stop Chromium from throttling background pages. */
const ANTI_THROTTLING_SWITCHES = [
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
  '--disable-renderer-backgrounding',
];

export async function launchBrowser(options: LaunchOptions = {}): Promise<Browser> {
  const args = [
    '--no-sandbox',
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
    ...(options.micWav ? [`--use-file-for-fake-audio-capture=${options.micWav}%noloop`] : []),
    ...(options.extraArgs ?? []),
  ];
  const ignoreDefaultArgs = ['--mute-audio', ...(options.backgroundThrottling ? ANTI_THROTTLING_SWITCHES : [])];
  return chromium.launch({ executablePath: CHROMIUM_PATH, args, ignoreDefaultArgs });
}

/**
 * Instruments a page before any of its scripts run: records every `voice-*` event
 * (with its time), and counts AudioContexts, Workers and microphone tracks, so tests
 * can check that teardown really released them.
 */
export async function instrument(context: BrowserContext): Promise<void> {
  // Scripts run under tsx (bench/) are compiled by esbuild with keepNames, which wraps
  // named functions in a `__name(fn, "name")` helper that does not exist in the page when
  // Playwright serialises them. Define it there as the identity.
  await context.addInitScript('globalThis.__name ??= (fn) => fn;');
  await context.addInitScript(() => {
    type Recorded = { type: string; at: number; wall: number; detail: unknown };
    const w = window as unknown as {
      __events: Recorded[];
      __audioContexts: AudioContext[];
      __workers: { worker: Worker; url: string; terminated: boolean }[];
      __streams: MediaStream[];
      __gumCalls: number;
    };
    w.__events = [];
    w.__audioContexts = [];
    w.__workers = [];
    w.__streams = [];
    w.__gumCalls = 0;

    const summarize = (detail: unknown): unknown => {
      if (!detail || typeof detail !== 'object') return detail;
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(detail as Record<string, unknown>)) {
        out[key] = value instanceof Float32Array ? { samples: value.length } : value;
      }
      return out;
    };
    const types = [
      'voice-state-change',
      'voice-speech-start',
      'voice-speech-end',
      'voice-model-progress',
      'voice-error',
      'voice-transcript',
      'voice-metrics',
      'voice-response',
      'voice-response-end',
      'voice-recovered',
    ];
    for (const type of types) {
      document.addEventListener(type, (event) => {
        const at = performance.now();
        w.__events.push({ type, at, wall: performance.timeOrigin + at, detail: summarize((event as Event & { detail: unknown }).detail) });
      });
    }
    // Per-frame VAD records, when the element has the `debug` attribute.
    (w as unknown as { __vadFrames: unknown[] }).__vadFrames = [];
    (w as unknown as { __debug: unknown[] }).__debug = [];
    document.addEventListener('voice-debug', (event) => {
      const detail = (event as Event & { detail: { kind: string; frames: unknown[] } }).detail;
      if (detail.kind === 'vad-frames') (w as unknown as { __vadFrames: unknown[] }).__vadFrames.push(...detail.frames);
      else (w as unknown as { __debug: unknown[] }).__debug.push({ ...detail, at: performance.now() });
    });
    // Keep the audio of every turn for comparisons with the source recording.
    (w as unknown as { __turnAudio: Float32Array[] }).__turnAudio = [];
    document.addEventListener('voice-speech-end', (event) => {
      (w as unknown as { __turnAudio: Float32Array[] }).__turnAudio.push(
        (event as Event & { detail: { audio: Float32Array } }).detail.audio,
      );
    });

    const NativeAudioContext = window.AudioContext;
    window.AudioContext = class extends NativeAudioContext {
      constructor(options?: AudioContextOptions) {
        super(options);
        w.__audioContexts.push(this);
      }
    };
    const NativeWorker = window.Worker;
    window.Worker = class extends NativeWorker {
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, options);
        const record = { worker: this as Worker, url: String(url), terminated: false };
        w.__workers.push(record);
        const terminate = this.terminate.bind(this);
        this.terminate = () => {
          record.terminated = true;
          terminate();
        };
      }
    };
    if (navigator.mediaDevices?.getUserMedia) {
      const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = async (constraints) => {
        w.__gumCalls++;
        const stream = await getUserMedia(constraints);
        w.__streams.push(stream);
        return stream;
      };
    }
  });
}

export interface OpenedPage {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  close(): Promise<void>;
}

/** A fresh browser (fake mic = `micWav`) with an instrumented page at `url`. */
export async function openPage(url: string, options: LaunchOptions = {}): Promise<OpenedPage> {
  const browser = await launchBrowser(options);
  const context = await browser.newContext();
  await instrument(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[pageerror] ${error.message}`));
  await page.goto(url);
  await page.waitForFunction(() => customElements.get('voice-agent') !== undefined);
  return { browser, context, page, close: () => browser.close() };
}

/**
 * Attributes that point the element at the test models served from `/models`
 * (`../shared/models`): Whisper tiny.en, q8, on WASM. Without them the element would try
 * the public hub, which is unreachable here.
 */
export const TEST_MODELS =
  'model-base-url="/models" asr-model="Xenova/whisper-tiny.en" asr-device="wasm" asr-dtype="q8" language="en"';

/**
 * The element with the test models and extra attributes; an extra attribute replaces the
 * test-model one of the same name (HTML would keep the first of two).
 */
export function agentMarkup(attributes = ''): string {
  const names = new Set(Array.from(attributes.matchAll(/([a-z-]+)(?==|\s|$)/g), (m) => m[1]));
  const defaults = Array.from(TEST_MODELS.matchAll(/([a-z-]+)="[^"]*"/g))
    .filter((m) => !names.has(m[1]!))
    .map((m) => m[0]);
  return `<voice-agent ${[...defaults, attributes].join(' ')}></voice-agent>`;
}

export interface AgentPageOptions extends LaunchOptions {
  /** Serve the host page with COOP/COEP (cross-origin isolated). Default true. */
  readonly isolated?: boolean;
  /** Markup for the host page's body; default: one `<voice-agent>` with {@link TEST_MODELS}. */
  readonly body?: string;
  /** The server that serves dist/ (default {@link ORIGIN}). */
  readonly origin?: string;
  /** Extra scripts run before the page's own (after the instrumentation), e.g. API stubs. */
  readonly initScripts?: readonly string[];
  /**
   * Permissions the visitor grants the page, e.g. `local-network-access`: Chromium asks
   * before a page may fetch from a loopback/LAN server (a local LLM), and headless has no
   * one to answer.
   */
  readonly permissions?: readonly string[];
  /**
   * Wait (from the test, by evaluating in the page) until the element is defined. Default
   * true. Off for tests of a page the visitor has not touched yet: Playwright's evaluate
   * counts as a user gesture (it gives the page user activation, so autoplay is allowed).
   */
  readonly waitForElement?: boolean;
}

/** A page author's page: the built `voice-agent.js` loaded as a module, `body` as its markup. */
export function hostPageHtml(body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>host</title>
<script type="module" src="/voice-agent.js"></script></head>
<body>${body}</body></html>`;
}

/**
 * A host page of our own (as a page author would write it) that loads the built
 * `voice-agent.js` from the preview server. Its document is served with or without
 * COOP/COEP, which is what decides cross-origin isolation.
 */
export async function openAgentPage(options: AgentPageOptions = {}): Promise<OpenedPage> {
  const browser = await launchBrowser(options);
  const context = await browser.newContext();
  await instrument(context);
  for (const script of options.initScripts ?? []) await context.addInitScript(script);
  if (options.permissions?.length) await context.grantPermissions([...options.permissions], { origin: options.origin ?? ORIGIN });
  const url = `${options.origin ?? ORIGIN}/__host__.html`;
  const html = hostPageHtml(options.body ?? agentMarkup());
  const isolation: Record<string, string> =
    options.isolated === false
      ? {}
      : { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
  await context.route(url, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html, headers: isolation }),
  );
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[pageerror] ${error.message}`));
  await page.goto(url);
  if (options.waitForElement !== false) await page.waitForFunction(() => customElements.get('voice-agent') !== undefined);
  return { browser, context, page, close: () => browser.close() };
}

export interface RecordedEvent {
  readonly type: string;
  /** Page clock (performance.now()). */
  readonly at: number;
  /** Wall clock (timeOrigin + now), comparable with worker timestamps. */
  readonly wall: number;
  readonly detail: Record<string, unknown>;
}

/** The `voice-*` events recorded so far in a page (or one of its frames: each is instrumented). */
export function recordedEvents(page: Page | Frame, type?: string): Promise<RecordedEvent[]> {
  return page.evaluate(
    (wanted) =>
      ((window as unknown as { __events: RecordedEvent[] }).__events ?? []).filter((e) => !wanted || e.type === wanted),
    type,
  );
}

/** Live (not closed) AudioContexts, unterminated Workers, and mic tracks not yet ended. */
export function resourceCounts(page: Page): Promise<{ audioContexts: number; workers: number; liveTracks: number }> {
  return page.evaluate(() => {
    const w = window as unknown as {
      __audioContexts: AudioContext[];
      __workers: { terminated: boolean }[];
      __streams: MediaStream[];
    };
    return {
      audioContexts: w.__audioContexts.filter((c) => c.state !== 'closed').length,
      workers: w.__workers.filter((r) => !r.terminated).length,
      liveTracks: w.__streams.flatMap((s) => s.getTracks()).filter((t) => t.readyState === 'live').length,
    };
  });
}

/**
 * The built demo (dist/) under the strictest Content-Security-Policy it needs
 * (support/csp.ts, the policy README "Content-Security-Policy" documents): a whole spoken
 * turn — the fake microphone plays real speech, the recognizer transcribes it, a scripted
 * OpenAI-compatible LLM on the page's own origin answers, and Piper speaks the answer —
 * with not one CSP violation, in the page or in any worker.
 *
 * Violations are collected three ways: `securitypolicyviolation` events in the page, the
 * policy's `report-uri` (added by the test server, so the workers' own policies report
 * too: every response, worker scripts included, carries the header), and console
 * messages mentioning the policy (the page's, and whatever the workers log). At the end
 * the test provokes one violation in the page and one in a worker and checks that they are
 * seen, so "zero" cannot come from a deaf collector.
 *
 * `VOICE_AGENT_TEST_CSP` replaces the policy for experiments (e.g. without
 * 'wasm-unsafe-eval', which must fail); `VOICE_AGENT_CSP_PORT` moves the server (4380).
 */
import { readdirSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { expect, test, type ConsoleMessage, type Page } from '@playwright/test';
import { AUDIO_TAP_PROCESSOR, audioTapScript, readCapturedAudio } from './support/audio-tap.ts';
import { instrument, launchBrowser, recordedEvents } from './support/browser.ts';
import { CONTENT_SECURITY_POLICY } from './support/csp.ts';
import { useLlmServer } from './support/llm-server.ts';
import { responseEnds } from './support/speech.ts';
import { startStaticServer, type StaticServer } from './support/static-server.ts';
import { transcribe } from './support/transcribe.ts';
import { MODELS_DIR, paddedFixture } from './support/wav.ts';
import { wordErrorRate } from './support/wer.ts';

test.describe.configure({ timeout: 240_000 });

const PORT = Number(process.env.VOICE_AGENT_CSP_PORT) || 4380;
const POLICY = process.env.VOICE_AGENT_TEST_CSP ?? CONTENT_SECURITY_POLICY;
const DIST = resolve(import.meta.dirname, '../../dist');
const REPLY = 'The library opens at nine in the morning, and it closes at six in the evening.';
const TAP_PATH = '/__test__/tap-processor.js';
const REPORT_PATH = '/__csp-report';

const llm = useLlmServer(test.beforeEach, test.afterEach);

interface Violation {
  readonly where: string;
  readonly directive: string;
  readonly blocked: string;
  readonly source?: string;
}

/** Forwards `req` to the scripted LLM server (another port), so the page sees it on its own origin. */
function proxy(req: IncomingMessage, res: ServerResponse, target: string): void {
  const upstream = new URL(req.url ?? '/', target);
  const forward = httpRequest(upstream, { method: req.method, headers: { ...req.headers, host: upstream.host } }, (reply) => {
    res.writeHead(reply.statusCode ?? 502, reply.headers);
    reply.pipe(res);
  });
  forward.on('error', () => res.destroy());
  res.on('close', () => forward.destroy());
  req.pipe(forward);
}

/**
 * dist/ and /models (../shared/models, the hub's Moonshine id mapped to Moonshine AI's
 * export as `vite preview` does), every response with the policy and COOP/COEP, plus:
 * `/models/` answers the index the demo looks for, `/v1/…` goes to the scripted LLM,
 * `/__csp-report` collects the browser's reports, and the output tap's worklet module is
 * served as a file (the tap's default blob: URL would itself break the policy).
 */
async function startCspServer(llmOrigin: string, reports: Violation[], isolated: boolean): Promise<StaticServer> {
  return startStaticServer(
    {
      '/': DIST,
      '/models/': MODELS_DIR,
      '/models/onnx-community/moonshine-tiny-ONNX/': join(MODELS_DIR, 'moonshine-ai/moonshine-tiny-en'),
    },
    PORT,
    {
      headers: {
        'Content-Security-Policy': `${POLICY}; report-uri ${REPORT_PATH}`,
        ...(isolated ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {}),
      },
      handle: (req, res, path) => {
        if (path === REPORT_PATH && req.method === 'POST') {
          let body = '';
          req.on('data', (chunk: Buffer) => (body += chunk.toString()));
          req.on('end', () => {
            const report = (JSON.parse(body) as { 'csp-report': Record<string, string> })['csp-report'];
            reports.push({
              where: `report from ${report['document-uri']}`,
              directive: report['effective-directive'] ?? report['violated-directive'] ?? '',
              blocked: report['blocked-uri'] ?? '',
              source: report['source-file'],
            });
            res.writeHead(204).end();
          });
          return true;
        }
        if (path === '/models/') {
          res.setHeader('Content-Type', 'application/json');
          res.end(JSON.stringify({ models: readdirSync(MODELS_DIR) }));
          return true;
        }
        if (path.startsWith('/v1/')) {
          proxy(req, res, llmOrigin);
          return true;
        }
        if (path === TAP_PATH) {
          res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
          res.end(AUDIO_TAP_PROCESSOR);
          return true;
        }
        return false;
      },
    },
  );
}

/** Init script: every `securitypolicyviolation` the document sees, kept in `window.__cspViolations`. */
const VIOLATION_LISTENER = `(() => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push({ where: 'page event', directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile });
  });
})();`;

/** Console messages about the policy, from the page and each of its workers, pushed to `into` as `where: text`. */
function watchPolicyConsole(page: Page, into: string[]): void {
  const onConsole = (where: string) => (message: ConsoleMessage) => {
    if (/content.security.policy/i.test(message.text())) into.push(`${where}: ${message.text()}`);
  };
  page.on('console', onConsole('page'));
  page.on('worker', (worker) => worker.on('console', onConsole(`worker ${worker.url()}`)));
}

function pageViolations(page: Page): Promise<Violation[]> {
  return page.evaluate(() => (window as unknown as { __cspViolations: Violation[] }).__cspViolations);
}

/** A spoken turn on the demo served under {@link POLICY}, checked for violations; `endOfTurn` set on the element first. */
async function spokenTurn(isolated: boolean, endOfTurn?: 'smart-turn'): Promise<void> {
  llm().script({ text: REPLY, tokenDelayMs: 30 });
  const reports: Violation[] = [];
  const consoleCsp: string[] = [];
  const pageErrors: string[] = [];
  const server = await startCspServer(new URL(llm().url).origin, reports, isolated);
  const { path: micWav } = paddedFixture('english-other/en_goforward.wav', 1, 8);
  const browser = await launchBrowser({ micWav });
  try {
    const context = await browser.newContext();
    await instrument(context);
    await context.addInitScript(audioTapScript(TAP_PATH));
    await context.addInitScript(VIOLATION_LISTENER);
    const page = await context.newPage();
    watchPolicyConsole(page, consoleCsp);
    page.on('pageerror', (error) => pageErrors.push(error.message));

    await page.goto(`${server.origin}/index.html`);
    await page.waitForFunction(() => customElements.get('voice-agent') !== undefined);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(isolated);
    const agent = page.locator('#agent');
    // The demo found the model folder itself (its fetch of ./models/ passed connect-src).
    await expect(agent).toHaveAttribute('model-base-url', `${server.origin}/models`);
    // Answers come from the scripted LLM through a same-origin path.
    await page.locator('[data-attr="llm-url"]').fill('/v1');
    await page.locator('[data-attr="llm-url"]').dispatchEvent('change');
    await expect(agent).toHaveAttribute('llm-url', '/v1');
    if (endOfTurn) await agent.evaluate((element, value) => element.setAttribute('end-of-turn', value), endOfTurn);

    await page.locator('#preload').click();
    await expect(page.locator('#log')).toContainText(/preload\(\) (resolved|failed)/, { timeout: 120_000 });
    await expect(page.locator('#log')).toContainText('preload() resolved', { timeout: 1 });
    await page.locator('#start').click();
    await expect
      .poll(() => responseEnds(page), { timeout: 120_000, intervals: [500] })
      .toEqual([{ text: REPLY, heardText: REPLY, interrupted: false }]);

    // Transcribed: the recognizer heard the clip, and that is what the LLM was asked.
    const finals = (await recordedEvents(page, 'voice-transcript')).filter((e) => e.detail['final']);
    expect(finals).toHaveLength(1);
    expect(wordErrorRate('go forward ten meters', String(finals[0]!.detail['text'])).wer).toBeLessThan(0.5);
    expect(llm().requests).toHaveLength(1);
    expect(llm().requests[0]!.body!.messages!.at(-1)!.content).toBe(finals[0]!.detail['text']);
    // Spoken: what reached the speakers transcribes back to the reply.
    const captured = await readCapturedAudio(page);
    const heard = await transcribe(captured.samples, captured.sampleRateHz);
    expect(wordErrorRate(REPLY, heard).wer, heard).toBeLessThanOrEqual(0.15);
    await expect(page.locator('#log')).toContainText('response-end');
    if (endOfTurn) {
      // Smart Turn loaded and judged the pause in a worker of its own, under the same policy.
      expect(page.workers().map((w) => w.url()).join(', ')).toContain('smart-turn');
      expect(await recordedEvents(page, 'voice-error')).toEqual([]);
    }

    // Not one violation anywhere (reports are posted asynchronously: give them a moment).
    await page.waitForTimeout(1000);
    const during = [...(await pageViolations(page)), ...reports];
    expect(during, JSON.stringify(during, null, 1)).toEqual([]);
    expect(consoleCsp).toEqual([]);
    expect(pageErrors).toEqual([]);

    // The collectors are not deaf: a request the policy forbids, from the page and from a
    // worker (which has its own policy, from its script's response), is seen by each.
    const forbidden = 'http://127.0.0.2:9/forbidden';
    await page.evaluate((url) => fetch(url).catch(() => {}), `${forbidden}?from=page`);
    const worker = page.workers().find((w) => w.url().includes('vad.worker'));
    expect(worker, page.workers().map((w) => w.url()).join(', ')).toBeDefined();
    await worker!.evaluate((url) => fetch(url).catch(() => {}), `${forbidden}?from=worker`);
    await expect
      .poll(async () => (await pageViolations(page)).map((v) => `${v.directive} ${v.blocked}`))
      .toEqual([`connect-src ${forbidden}?from=page`]);
    await expect
      .poll(() => reports.map((v) => `${v.directive} ${v.blocked} ${v.where.includes('vad.worker') ? 'worker' : 'page'}`).sort())
      .toEqual([`connect-src ${forbidden}?from=page page`, `connect-src ${forbidden}?from=worker worker`]);
    // Chromium's own console message for a worker's violation does not reach Playwright
    // (a worker's console.* calls do): the page's does, and the reports cover the workers.
    await expect.poll(() => consoleCsp.filter((line) => line.startsWith('page:') && line.includes('from=page'))).not.toEqual([]);
  } finally {
    // What the policy refused, for a failure's log (when it passed: the probes).
    const seen = await Promise.all(browser.contexts().flatMap((c) => c.pages()).map((p) => pageViolations(p).catch(() => [])));
    console.log(`CSP violations seen: ${JSON.stringify([...seen.flat(), ...reports], null, 1)}`);
    console.log(`console messages about the policy: ${JSON.stringify(consoleCsp, null, 1)}`);
    await browser.close();
    await server.close();
  }
}

// Cross-origin isolated (wasm threads, as `vite preview` serves the demo) and not (one
// thread, as a third-party embed is): onnxruntime takes different paths in each.
for (const isolated of [true, false]) {
  const how = isolated ? 'cross-origin isolated' : 'not isolated';
  test(`the demo completes a spoken turn under the strict Content-Security-Policy with no violation in page or workers (${how})`, () =>
    spokenTurn(isolated));
}

test('the same under the strict policy with end-of-turn="smart-turn": its worker loads and judges the pause with no violation', () =>
  spokenTurn(true, 'smart-turn'));

test('a turn answered by local-llm under the strict policy: its worker loads transformers.js and the model and generates, with no violation', async () => {
  const reports: Violation[] = [];
  const consoleCsp: string[] = [];
  const server = await startCspServer(new URL(llm().url).origin, reports, true);
  const browser = await launchBrowser({});
  try {
    const context = await browser.newContext();
    await instrument(context);
    await context.addInitScript(VIOLATION_LISTENER);
    const page = await context.newPage();
    watchPolicyConsole(page, consoleCsp);
    await page.goto(`${server.origin}/index.html`);
    await page.waitForFunction(() => customElements.get('voice-agent') !== undefined);
    const agent = page.locator('#agent');
    await expect(agent).toHaveAttribute('model-base-url', `${server.origin}/models`);
    // The tiny random-weight model (its replies are meaningless: only that it ran is checked).
    await agent.evaluate((element) => {
      for (const [name, value] of Object.entries({ 'local-llm': 'test/tiny-random-smollm2', 'local-llm-device': 'wasm', 'local-llm-max-tokens': '8' })) {
        element.setAttribute(name, value);
      }
    });
    await page.evaluate(() => document.querySelector('voice-agent')!.send('Hello'));
    const history = () => page.evaluate(() => document.querySelector('voice-agent')!.history.map((e) => ({ ...e })));
    await expect.poll(async () => (await history()).map((e) => e.role), { timeout: 120_000 }).toEqual(['user', 'assistant']);
    const [, reply] = await history();
    expect(reply!.failed).toBeFalsy();
    expect(reply!.content.length).toBeGreaterThan(0);
    expect(await recordedEvents(page, 'voice-error')).toEqual([]);
    expect(llm().requests).toHaveLength(0);

    await page.waitForTimeout(1000);
    const during = [...(await pageViolations(page)), ...reports];
    expect(during, JSON.stringify(during, null, 1)).toEqual([]);
    expect(consoleCsp).toEqual([]);
    // Not deaf: a request the policy forbids, made from the LLM's own worker, is reported.
    const worker = page.workers().find((w) => w.url().includes('llm.worker'));
    expect(worker, page.workers().map((w) => w.url()).join(', ')).toBeDefined();
    const forbidden = 'http://127.0.0.2:9/forbidden?from=llm-worker';
    await worker!.evaluate((url) => fetch(url).catch(() => {}), forbidden);
    await expect.poll(() => reports.map((v) => `${v.directive} ${v.blocked}`)).toEqual([`connect-src ${forbidden}`]);
  } finally {
    await browser.close();
    await server.close();
  }
});

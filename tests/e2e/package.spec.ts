/**
 * The npm package as a page author gets it: `npm pack` of this checkout (after
 * `npm run build`), `npm install <tarball>` into a fresh app of their own, then the element
 * rendered and the JFK clip transcribed in Debian's Chromium from
 *
 * - a Vite app's production build (`vite build`, served by `vite preview`),
 * - the same app under the Vite dev server,
 * - a plain static page that loads `node_modules/voice-agent/dist/voice-agent.js` with a
 *   `<script type="module">` from a plain static host,
 *
 * each as the README's "Install" section shows it: the Vite app has no vite.config at all
 * (Vite 8 pre-bundles the package in dev and rewrites its `new URL(…, import.meta.url)`
 * asset references, and copies those assets in a build).
 * The apps use this repository's Vite (its JS API with the app as root) instead of
 * downloading another copy; the package itself and its dependencies are installed by npm
 * from the tarball and the registry. Models: a folder assembled from ../shared/models by
 * the installed package's own `voice-agent models` command (Whisper tiny.en q8 and the
 * default voice, with its manifest), served by the static host (cross-origin for the Vite
 * apps).
 */
import { expect, test, type BrowserContext } from '@playwright/test';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build, createServer, preview } from 'vite';
import { startAgent, waitForPlayback } from './support/agent.ts';
import { agentMarkup, launchBrowser, openPage, PORT, recordedEvents } from './support/browser.ts';
import { startStaticServer, type StaticServer } from './support/static-server.ts';
import { MODELS_DIR, durationSeconds, paddedFixture } from './support/wav.ts';
import { normalizeForWer } from './support/wer.ts';

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');
const JFK = 'english-other/en_jfk_inaugural_1961.wav';

/** Ports beside the preview server's, so parallel checkouts (other VOICE_AGENT_TEST_PORTs) do not collide. */
const STATIC_PORT = PORT + 2;
const APP_PREVIEW_PORT = PORT + 1;
const APP_DEV_PORT = PORT + 3;

/** The app's own code: what the README shows, typed against the installed declarations. */
const APP_MAIN = `import 'voice-agent';
import type { VoiceTranscriptDetail } from 'voice-agent';

const agent = document.querySelector('voice-agent')!;
agent.addEventListener('voice-transcript', (event) => {
  const detail: VoiceTranscriptDetail = event.detail;
  if (detail.final) document.body.dataset['heard'] = detail.text;
});
`;

/** Compiled by tsc only: the declarations type the tag, the class entry and the events. */
const APP_TYPES_CHECK = `import { VoiceAgent } from 'voice-agent/class';

const agent: VoiceAgent = document.createElement('voice-agent');
agent.silenceMs = 800;
// @ts-expect-error mode is a union of the known modes
agent.mode = 'walkie-talkie';
agent.addEventListener('voice-transcript', (event) => {
  const text: string = event.detail.text;
  // @ts-expect-error the event map types detail: a field it lacks is an error
  void event.detail.notAField;
  void text;
});
agent.addEventListener('voice-error', (event) => void event.detail.code.toUpperCase());
`;

const APP_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'ESNext',
    moduleResolution: 'bundler',
    lib: ['ES2022', 'DOM', 'DOM.Iterable'],
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    types: [],
  },
  include: ['src/*.ts'],
};

interface Packed {
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

let work = '';
let appDir = '';
let modelsDir = '';
let staticDir = '';
let statics: StaticServer;
let packed: Packed;

function modelsMarkup(origin: string): string {
  // One turn for the whole clip (his pauses stay inside a 2 s hangover): one final.
  return agentMarkup(`model-base-url="${origin}/models" silence-ms="2000"`);
}

function write(path: string, text: string): void {
  mkdirSync(resolve(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

/** Responses that failed (≥ 400) from `origin`, from the page and its workers. */
function failedResponses(context: BrowserContext, origin: string): string[] {
  const failed: string[] = [];
  context.on('response', (response) => {
    if (response.url().startsWith(origin) && response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
  });
  return failed;
}

/**
 * Opens `url` with the JFK clip as the microphone and checks that the element rendered,
 * transcribed the clip in one final (which the page's own listener saw too), reported no
 * error, and that nothing failed to load from `origin` (the app's or the static host's).
 */
async function expectJfkTranscribed(url: string, origin: string): Promise<void> {
  const { path, pcm } = paddedFixture(JFK);
  const opened = await openPage(url, { micWav: path });
  try {
    const { page, context } = opened;
    const failed = failedResponses(context, origin);
    await expect(page.locator('voice-agent [part="button"]')).toBeVisible();
    const t0 = await startAgent(page);
    await waitForPlayback(page, t0, durationSeconds(pcm) + 2);
    expect(await recordedEvents(page, 'voice-error')).toEqual([]);
    const finals = (await recordedEvents(page, 'voice-transcript')).filter((e) => e.detail['final'] && e.detail['source'] === 'speech');
    expect(finals).toHaveLength(1);
    const text = String(finals[0]!.detail['text']);
    expect(normalizeForWer(text).join(' '), text).toContain('ask not what your country can do for you');
    expect(await page.evaluate(() => document.body.dataset['heard'])).toBe(text);
    expect(failed).toEqual([]);
  } finally {
    await opened.close();
  }
}

/** The Vite app served by `start` (a preview or dev server on `port`) transcribes the clip. */
async function expectViteAppTranscribes(start: () => Promise<{ close(): Promise<void> }>, port: number): Promise<void> {
  const server = await start();
  try {
    const origin = `http://127.0.0.1:${port}`;
    await expectJfkTranscribed(`${origin}/`, origin);
  } finally {
    await server.close();
  }
}

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  test.setTimeout(300_000);
  for (const built of ['dist/voice-agent.js', 'dist/voice-agent.class.js', 'dist/types/index.d.ts', 'dist/custom-elements.json']) {
    if (!existsSync(join(REPO, built))) throw new Error(`${built} is missing: run \`npm run build\` first (npm test does).`);
  }
  work = mkdtempSync(join(tmpdir(), 'voice-agent-package-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: REPO, maxBuffer: 16 << 20 });
  packed = (JSON.parse(stdout) as Packed[])[0]!;
  const tarball = join(work, packed.filename);

  appDir = join(work, 'vite-app');
  write(join(appDir, 'package.json'), JSON.stringify({ name: 'vite-app', private: true, type: 'module' }, null, 2));
  write(join(appDir, 'tsconfig.json'), JSON.stringify(APP_TSCONFIG, null, 2));
  write(join(appDir, 'src/main.ts'), APP_MAIN);
  write(join(appDir, 'src/types-check.ts'), APP_TYPES_CHECK);

  staticDir = join(work, 'static-site');
  write(join(staticDir, 'package.json'), JSON.stringify({ name: 'static-site', private: true }, null, 2));

  // Both installs from the tarball; the package's own dependencies come from the registry.
  const install = ['install', tarball, '--no-audit', '--no-fund'];
  await Promise.all([run('npm', install, { cwd: appDir }), run('npm', install, { cwd: staticDir })]);

  // The pages' models come from a folder made by the installed package's own command.
  modelsDir = join(work, 'models');
  await run(join(staticDir, 'node_modules/.bin/voice-agent'), ['models', '--out', modelsDir, '--from', MODELS_DIR, '--asr', 'Xenova/whisper-tiny.en']);
  statics = await startStaticServer({ '/': staticDir, '/models/': modelsDir }, STATIC_PORT);
  write(join(appDir, 'index.html'), `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Vite app</title>
<script type="module" src="/src/main.ts"></script></head>
<body>${modelsMarkup(statics.origin)}</body></html>`);
  write(join(staticDir, 'index.html'), `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Static page</title>
<script type="module" src="./node_modules/voice-agent/dist/voice-agent.js"></script></head>
<body>${modelsMarkup(statics.origin)}
<script type="module">
  document.querySelector('voice-agent').addEventListener('voice-transcript', (event) => {
    if (event.detail.final) document.body.dataset.heard = event.detail.text;
  });
</script></body></html>`);
  write(join(staticDir, 'class-only.html'), `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Class only</title>
<script type="module">
  import { VoiceAgent } from './node_modules/voice-agent/dist/voice-agent.class.js';
  window.definedByClassEntry = customElements.get('voice-agent') !== undefined;
  customElements.define('my-assistant', class extends VoiceAgent {});
</script></head><body><my-assistant mode="text"></my-assistant></body></html>`);
});

test.afterAll(async () => {
  await statics?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the element, its class entry, assets, types and manifest, and not the demo or models', () => {
  const paths = packed.files.map((f) => f.path);
  for (const required of ['bin/voice-agent.mjs', 'dist/voice-agent.js', 'dist/voice-agent.class.js', 'dist/types/index.d.ts', 'dist/types/class.d.ts', 'dist/custom-elements.json', 'package.json']) {
    expect(paths).toContain(required);
  }
  for (const kind of [/\.worker-.*\.js$/, /capture\.worklet-.*\.js$/, /\.wasm$/, /silero_vad.*\.onnx$/]) {
    expect(paths.some((p) => p.startsWith('dist/assets/') && kind.test(p)), String(kind)).toBe(true);
  }
  expect(paths.filter((p) => /^dist\/(index\.html|demo\/)|(^|\/)models\/|\.test\.|^src\//.test(p))).toEqual([]);
});

test('a TypeScript app type-checks against the installed declarations (tag map, class entry, event map)', async () => {
  const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
  const result = await run(process.execPath, [tsc, '-p', join(appDir, 'tsconfig.json')]).catch((error: { stdout: string }) => error);
  expect('stdout' in result ? result.stdout : '').toBe('');
});

test('a Vite app that imports voice-agent: its production build renders the element and transcribes the JFK clip', async () => {
  test.setTimeout(240_000);
  await build({ root: appDir, logLevel: 'warn' });
  const server = { port: APP_PREVIEW_PORT, strictPort: true, host: '127.0.0.1' };
  await expectViteAppTranscribes(() => preview({ root: appDir, logLevel: 'warn', preview: server }), APP_PREVIEW_PORT);
});

test('the same Vite app under the dev server renders the element and transcribes the JFK clip', async () => {
  test.setTimeout(240_000);
  const server = { port: APP_DEV_PORT, strictPort: true, host: '127.0.0.1' };
  await expectViteAppTranscribes(() => createServer({ root: appDir, logLevel: 'warn', server }).then((dev) => dev.listen()), APP_DEV_PORT);
});

test('a plain static page with <script type="module"> renders the element and transcribes the JFK clip', async () => {
  test.setTimeout(240_000);
  await expectJfkTranscribed(`${statics.origin}/index.html`, statics.origin);
  // Workers, worklet and wasm came from the installed package, next to voice-agent.js.
  const fromPackage = statics.requests.filter((r) => r.path.startsWith('/node_modules/voice-agent/dist/assets/')).map((r) => r.path);
  for (const kind of [/vad\.worker-/, /asr\.worker-/, /capture\.worklet-/, /\.wasm$/]) {
    expect(fromPackage.some((p) => kind.test(p)), String(kind)).toBe(true);
  }
});

test('the class-only entry exports the class without defining <voice-agent>; a page can define its own tag', async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`${statics.origin}/class-only.html`);
    await page.waitForFunction(() => customElements.get('my-assistant') !== undefined);
    expect(await page.evaluate(() => (window as unknown as { definedByClassEntry: boolean }).definedByClassEntry)).toBe(false);
    expect(await page.evaluate(() => customElements.get('voice-agent'))).toBeUndefined();
    // The subclass renders as the element does: text mode shows the typed-input form.
    await expect(page.locator('my-assistant [part="text-input"]')).toBeVisible();
    // Importing the main entry afterwards defines <voice-agent> with the same class (one copy).
    const same = await page.evaluate(async () => {
      const main = await import('./node_modules/voice-agent/dist/voice-agent.js' as string);
      const only = await import('./node_modules/voice-agent/dist/voice-agent.class.js' as string);
      return customElements.get('voice-agent') === main.VoiceAgent && main.VoiceAgent === only.VoiceAgent;
    });
    expect(same).toBe(true);
  } finally {
    await browser.close();
  }
});

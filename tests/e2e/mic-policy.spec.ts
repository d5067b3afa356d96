/**
 * RELIABILITY row 4: pages where the microphone cannot be had whatever the visitor answers —
 * the element inside a cross-origin iframe that was not given `allow="microphone"`, and a
 * page not served securely (plain http on a host that is not localhost). Both must be
 * recognised before anyone is prompted, said in words that tell the page author what to
 * change, and leave typing working. The same iframe given `allow="microphone"` must hear
 * the visitor: the policy check must not refuse what the browser allows.
 *
 * Origins: the test server listens on 127.0.0.1. The embedding page is `localhost` (another
 * origin, still a secure context), and `--host-resolver-rules` maps `insecure.test` onto the
 * same server, which Chromium treats as an insecure context like any plain-http site.
 */
import { expect, test, type Browser, type BrowserContext, type Frame } from '@playwright/test';
import { agentState, finalSpeech, startAgent, typeMessage, waitForPlayback } from './support/agent.ts';
import { agentMarkup, hostPageHtml, instrument, launchBrowser, ORIGIN, PORT, recordedEvents } from './support/browser.ts';
import { durationSeconds, paddedFixture, JFK_CLIP as JFK, JFK_TEXT } from './support/wav.ts';
import { wordErrorRate } from './support/wer.ts';

const EMBEDDER = `http://localhost:${PORT}`;
const INSECURE_ORIGIN = `http://insecure.test:${PORT}`;

/** Counts getUserMedia calls in every frame: "before any prompt" means none was made. */
const COUNT_GUM_CALLS = `(() => {
  window.__gumCalls = 0;
  const md = navigator.mediaDevices;
  if (!md?.getUserMedia) return;
  const real = md.getUserMedia.bind(md);
  md.getUserMedia = (constraints) => { window.__gumCalls++; return real(constraints); };
})();`;

/** Serves `html` at `url` from the test, whatever server the URL names. */
async function serve(context: BrowserContext, url: string, html: string): Promise<void> {
  await context.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
}

async function typeAndExpectTranscript(frame: Frame, text: string): Promise<void> {
  await typeMessage(frame, text);
  await expect
    .poll(async () => (await recordedEvents(frame, 'voice-transcript')).map((e) => e.detail))
    .toEqual([{ text, final: true, language: 'und', source: 'text' }]);
  await expect(frame.locator('voice-agent [part="caption"]')).toHaveText([new RegExp(`You:\\s*${text}`)]);
}

/**
 * A page on {@link EMBEDDER} whose only content is an iframe from {@link ORIGIN} holding the
 * element (`allow` is the iframe's attribute); resolves with that frame once the element is defined.
 */
async function openEmbeddedAgent(browser: Browser, allow: string, initScripts: readonly string[] = []): Promise<Frame> {
  const context = await browser.newContext();
  await instrument(context);
  for (const script of initScripts) await context.addInitScript(script);
  const iframe = `<iframe ${allow} src="${ORIGIN}/__framed__.html" width="600" height="500"></iframe>`;
  await serve(context, `${EMBEDDER}/embedder.html`, `<!doctype html><title>embedder</title>${iframe}`);
  await serve(context, `${ORIGIN}/__framed__.html`, hostPageHtml(agentMarkup()));
  const page = await context.newPage();
  await page.goto(`${EMBEDDER}/embedder.html`);
  const framed = () => page.frames().find((f) => f.url().startsWith(ORIGIN));
  await expect.poll(() => framed() !== undefined).toBe(true);
  const frame = framed()!;
  await frame.waitForFunction(() => customElements.get('voice-agent') !== undefined);
  return frame;
}

test('a cross-origin iframe without allow="microphone" → mic-blocked-by-policy before any prompt, worded for the page author; typing works', async () => {
  const browser = await launchBrowser();
  try {
    const frame = await openEmbeddedAgent(browser, '', [COUNT_GUM_CALLS]);
    expect(await frame.evaluate(() => window.isSecureContext)).toBe(true);

    await frame.locator('voice-agent [part="button"]').click();
    await expect.poll(() => agentState(frame)).toBe('error');
    const errors = await recordedEvents(frame, 'voice-error');
    expect(errors.map((e) => e.detail)).toMatchObject([{ code: 'mic-blocked-by-policy', recoverable: true }]);
    await expect(frame.locator('voice-agent [part="error"]')).toHaveText(/allow="microphone"/);
    // Known before prompting: the browser was never asked for the microphone.
    expect(await frame.evaluate(() => (window as unknown as { __gumCalls: number }).__gumCalls)).toBe(0);
    await typeAndExpectTranscript(frame, 'hello from the frame');
  } finally {
    await browser.close();
  }
});

test('the same iframe given allow="microphone" hears the visitor', async () => {
  const { path, pcm } = paddedFixture(JFK, 0.5, 1);
  const browser = await launchBrowser({ micWav: path });
  try {
    const frame = await openEmbeddedAgent(browser, 'allow="microphone"');

    const t0 = await startAgent(frame);
    await waitForPlayback(frame, t0, durationSeconds(pcm) + 0.5, 90);
    expect(await recordedEvents(frame, 'voice-error')).toEqual([]);
    const heard = (await finalSpeech(frame)).join(' ');
    expect(wordErrorRate(JFK_TEXT, heard).wer, heard).toBeLessThan(0.3);
  } finally {
    await browser.close();
  }
});

test('a page served over plain http (not localhost) → audio-unsupported asking for https; typing works', async () => {
  const browser = await launchBrowser({ extraArgs: ['--host-resolver-rules=MAP insecure.test 127.0.0.1'] });
  const context = await browser.newContext();
  try {
    await instrument(context);
    // The preview server answers only to its own host name; the element's files are fetched
    // from it under that name and handed to the page as insecure.test's. (Registered first:
    // Playwright asks the newest route first, so the host page's own route wins for its URL.)
    await context.route(`${INSECURE_ORIGIN}/**`, async (route) => {
      const response = await route.fetch({ url: route.request().url().replace(INSECURE_ORIGIN, ORIGIN) });
      await route.fulfill({ response });
    });
    await serve(context, `${INSECURE_ORIGIN}/__host__.html`, hostPageHtml(agentMarkup()));
    const page = await context.newPage();
    page.on('pageerror', (error) => console.error(`[pageerror] ${error.message}`));
    await page.goto(`${INSECURE_ORIGIN}/__host__.html`);
    await page.waitForFunction(() => customElements.get('voice-agent') !== undefined);
    expect(await page.evaluate(() => window.isSecureContext)).toBe(false);
    const frame = page.mainFrame();

    await frame.locator('voice-agent [part="button"]').click();
    await expect.poll(() => agentState(frame)).toBe('error');
    const errors = await recordedEvents(frame, 'voice-error');
    expect(errors.map((e) => e.detail), JSON.stringify(errors)).toMatchObject([{ code: 'audio-unsupported', recoverable: true }]);
    // (No prompt is possible here: an insecure page has no navigator.mediaDevices at all.)
    await expect(frame.locator('voice-agent [part="error"]')).toHaveText(/https/);
    await typeAndExpectTranscript(frame, 'hello from an http page');
  } finally {
    // The element goes on loading its models: a file still being proxied when the browser
    // closes would fail the test after it passed (it did once in CI).
    await context.unrouteAll({ behavior: 'ignoreErrors' });
    await browser.close();
  }
});

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
import { expect, test, type BrowserContext, type Frame } from '@playwright/test';
import { agentState, finalSpeech, startAgent, waitForPlayback } from './support/agent.ts';
import { agentMarkup, instrument, launchBrowser, ORIGIN, PORT, recordedEvents } from './support/browser.ts';
import { durationSeconds, paddedFixture } from './support/wav.ts';
import { wordErrorRate } from './support/wer.ts';

const JFK = 'english-other/en_jfk_inaugural_1961.wav';
const JFK_TEXT = 'And so, my fellow Americans, ask not what your country can do for you, ask what you can do for your country.';
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

function hostPage(body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>host</title>
<script type="module" src="/voice-agent.js"></script></head><body>${body}</body></html>`;
}

/** Serves `html` at `url` from the test, whatever server the URL names. */
async function serve(context: BrowserContext, url: string, html: string): Promise<void> {
  await context.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
}

async function typeAndExpectTranscript(frame: Frame, text: string): Promise<void> {
  const input = frame.locator('voice-agent [part="text-input"]');
  await input.fill(text);
  await input.press('Enter');
  await expect
    .poll(async () => (await recordedEvents(frame, 'voice-transcript')).map((e) => e.detail))
    .toEqual([{ text, final: true, language: 'und', source: 'text' }]);
  await expect(frame.locator('voice-agent [part="caption"]')).toHaveText([new RegExp(`You:\\s*${text}`)]);
}

async function frameWithAgent(framePage: { frames(): Frame[] }, origin: string): Promise<Frame> {
  await expect.poll(() => framePage.frames().some((f) => f.url().startsWith(origin))).toBe(true);
  const frame = framePage.frames().find((f) => f.url().startsWith(origin))!;
  await frame.waitForFunction(() => customElements.get('voice-agent') !== undefined);
  return frame;
}

test('a cross-origin iframe without allow="microphone" → mic-blocked-by-policy before any prompt, worded for the page author; typing works', async () => {
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext();
    await instrument(context);
    await context.addInitScript(COUNT_GUM_CALLS);
    await serve(context, `${EMBEDDER}/embedder.html`, `<!doctype html><title>embedder</title><iframe src="${ORIGIN}/__framed__.html" width="600" height="500"></iframe>`);
    await serve(context, `${ORIGIN}/__framed__.html`, hostPage(agentMarkup()));
    const page = await context.newPage();
    await page.goto(`${EMBEDDER}/embedder.html`);
    const frame = await frameWithAgent(page, ORIGIN);
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
    const context = await browser.newContext();
    await instrument(context);
    await serve(
      context,
      `${EMBEDDER}/embedder.html`,
      `<!doctype html><title>embedder</title><iframe allow="microphone" src="${ORIGIN}/__framed__.html" width="600" height="500"></iframe>`,
    );
    await serve(context, `${ORIGIN}/__framed__.html`, hostPage(agentMarkup()));
    const page = await context.newPage();
    await page.goto(`${EMBEDDER}/embedder.html`);
    const frame = await frameWithAgent(page, ORIGIN);

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
    await serve(context, `${INSECURE_ORIGIN}/__host__.html`, hostPage(agentMarkup()));
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

/**
 * `local-only` end to end: a whole spoken conversation (the demo with its models on its own
 * origin, answering from page code) makes no request outside the origin; an off-origin
 * `llm-url` is refused with `local-only-violation` and never requested, and so are files on
 * the origin that redirect elsewhere. Requests are
 * counted on the browser context: its `request` events include every frame's and every
 * dedicated worker's requests in Chromium (the first test checks that the workers' model
 * downloads are among them, so the count cannot be blind to them).
 */
import { expect, test, type Request } from '@playwright/test';
import { ORIGIN, PORT, agentMarkup, openAgentPage, openPage, recordedEvents } from './support/browser.ts';
import { useLlmServer } from './support/llm-server.ts';
import { startStaticServer } from './support/static-server.ts';
import { MODELS_DIR, paddedFixture } from './support/wav.ts';

test.describe.configure({ timeout: 150_000 });

const llm = useLlmServer(test.beforeEach, test.afterEach);

/** Every URL the context requests, and those outside `ORIGIN` (blob: and data: are not requests to anyone). */
function watchRequests(context: { on(event: 'request', listener: (request: Request) => void): unknown }) {
  const all: string[] = [];
  const foreign: string[] = [];
  context.on('request', (request) => {
    const url = request.url();
    all.push(url);
    if (!url.startsWith('blob:') && !url.startsWith('data:') && new URL(url).origin !== ORIGIN) foreign.push(url);
  });
  return { all, foreign };
}

test('local-only: a spoken question heard and answered aloud makes no request outside the origin, from any frame or worker', async () => {
  const { path } = paddedFixture('english-other/en_goforward.wav', 1, 25);
  const opened = await openPage(`${ORIGIN}/index.html`, { micWav: path });
  const requests = watchRequests(opened.context);
  try {
    const { page } = opened;
    const agent = page.locator('#agent');
    await expect(agent).toHaveAttribute('model-base-url', `${ORIGIN}/models`, { timeout: 30_000 });
    await agent.evaluate((element) => element.setAttribute('local-only', ''));
    await page.locator('#start').click();
    const answers = () => recordedEvents(page, 'voice-response-end');
    await expect.poll(async () => (await answers()).length, { timeout: 180_000, intervals: [1000] }).toBeGreaterThan(0);
    const heard = (await recordedEvents(page, 'voice-transcript')).filter((e) => e.detail['final'] && e.detail['source'] === 'speech');
    expect(String(heard[0]?.detail['text']).toLowerCase()).toContain('go forward');
    const [answer] = await answers();
    expect(String(answer!.detail['heardText'])).toContain('You said');
    expect(await recordedEvents(page, 'voice-error')).toEqual([]);
    // The recognizer's and the voice's files, fetched inside their workers, were counted.
    expect(requests.all.some((url) => /\/models\/.+\/onnx\/.+\.(onnx|ort)$/.test(url))).toBe(true);
    expect(requests.all.some((url) => url.endsWith('/en_US-joe-medium.onnx'))).toBe(true);
    expect(requests.foreign).toEqual([]);
  } finally {
    await opened.close();
  }
});

test('local-only with an llm-url on another origin fails with local-only-violation and never requests it', async () => {
  const opened = await openAgentPage({
    body: agentMarkup(`mode="text" asr-model="none" local-only llm-url="${llm().url}"`),
    // Granted, so that "no request" cannot come from the browser blocking it.
    permissions: ['local-network-access'],
  });
  const requests = watchRequests(opened.context);
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.send('hello'));
    await expect.poll(async () => (await recordedEvents(page, 'voice-error')).map((e) => e.detail['code'])).toContain('local-only-violation');
    const [violation] = (await recordedEvents(page, 'voice-error')).filter((e) => e.detail['code'] === 'local-only-violation');
    expect(String(violation!.detail['message'])).toContain('llm-url');
    expect(String(violation!.detail['message'])).toContain(llm().url);
    expect(llm().requests).toHaveLength(0);
    expect(requests.foreign).toEqual([]);
  } finally {
    await opened.close();
  }
});

test('local-only with model files on the origin that redirect to another host: no redirect is followed, local-only-violation names each file', async () => {
  // The other host really serves the models: following the redirects would load them from it.
  const elsewhere = await startStaticServer({ '/models/': MODELS_DIR }, PORT + 31);
  const opened = await openAgentPage({
    body: agentMarkup(`local-only end-of-turn="smart-turn" model-base-url="${ORIGIN}/moved-models"`),
    permissions: ['local-network-access'],
  });
  const requests = watchRequests(opened.context);
  try {
    const { page, context } = opened;
    // The origin answers every file under /moved-models with a redirect to the other host.
    await context.route(`${ORIGIN}/moved-models/**`, (route) =>
      route.fulfill({ status: 302, headers: { location: route.request().url().replace(`${ORIGIN}/moved-models/`, `${elsewhere.origin}/models/`) } }),
    );
    await page.evaluate(() => document.querySelector('voice-agent')!.preload().catch(() => {}));
    const violations = async () =>
      (await recordedEvents(page, 'voice-error')).filter((e) => e.detail['code'] === 'local-only-violation').map((e) => String(e.detail['message']));
    // The recognizer (transformers.js' fetch), the voice and Smart Turn (the element's own loader).
    await expect.poll(async () => (await violations()).length, { timeout: 60_000 }).toBeGreaterThanOrEqual(3);
    const messages = await violations();
    console.log(messages.join('\n'));
    expect(messages.some((m) => m.includes(`${ORIGIN}/moved-models/Xenova/whisper-tiny.en/`) && m.includes('redirect'))).toBe(true);
    expect(messages.some((m) => m.includes(`${ORIGIN}/moved-models/`) && m.includes('en_US-joe-medium') && m.includes('redirect'))).toBe(true);
    expect(messages.some((m) => m.includes(`${ORIGIN}/moved-models/`) && m.includes('Smart Turn') && m.includes('redirect'))).toBe(true);
    expect(requests.all.some((url) => url.startsWith(`${ORIGIN}/moved-models/`))).toBe(true);
    expect(requests.foreign).toEqual([]);
    expect(elsewhere.requests).toEqual([]);
  } finally {
    await opened.close();
    await elsewhere.close();
  }
});

test('local-only with an llm-url on the origin that redirects to another host: the conversation is not sent on; local-only-violation', async () => {
  const opened = await openAgentPage({
    body: agentMarkup(`mode="text" asr-model="none" local-only llm-url="${ORIGIN}/forwarded-llm/v1"`),
    permissions: ['local-network-access'],
  });
  const requests = watchRequests(opened.context);
  try {
    const { page, context } = opened;
    // A route on the origin that forwards to an LLM provider elsewhere, keeping the POST (307).
    await context.route(`${ORIGIN}/forwarded-llm/**`, (route) =>
      route.fulfill({ status: 307, headers: { location: `${llm().url}/chat/completions`, 'access-control-allow-origin': '*' } }),
    );
    await page.evaluate(() => document.querySelector('voice-agent')!.send('hello'));
    await expect.poll(async () => (await recordedEvents(page, 'voice-error')).map((e) => e.detail['code'])).toContain('local-only-violation');
    const [violation] = (await recordedEvents(page, 'voice-error')).filter((e) => e.detail['code'] === 'local-only-violation');
    expect(String(violation!.detail['message'])).toContain('redirect');
    expect(requests.all.some((url) => url.startsWith(`${ORIGIN}/forwarded-llm/`))).toBe(true);
    expect(llm().requests).toHaveLength(0);
    expect(requests.foreign).toEqual([]);
  } finally {
    await opened.close();
  }
});

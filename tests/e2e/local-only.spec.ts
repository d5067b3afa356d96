/**
 * `local-only` end to end: a whole spoken conversation (the demo with its models on its own
 * origin, answering from page code) makes no request outside the origin; an off-origin
 * `llm-url` is refused with `local-only-violation` and never requested. Requests are
 * counted on the browser context: its `request` events include every frame's and every
 * dedicated worker's requests in Chromium (the first test checks that the workers' model
 * downloads are among them, so the count cannot be blind to them).
 */
import { expect, test, type Request } from '@playwright/test';
import { ORIGIN, agentMarkup, openAgentPage, openPage, recordedEvents } from './support/browser.ts';
import { useLlmServer } from './support/llm-server.ts';
import { paddedFixture } from './support/wav.ts';

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

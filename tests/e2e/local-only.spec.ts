/**
 * `local-only` end to end: an off-origin `llm-url` is refused with `local-only-violation`
 * and never requested. Requests are counted on the browser context (its `request` events
 * include dedicated workers' requests in Chromium).
 */
import { expect, test, type Request } from '@playwright/test';
import { ORIGIN, agentMarkup, openAgentPage, recordedEvents } from './support/browser.ts';
import { useLlmServer } from './support/llm-server.ts';

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

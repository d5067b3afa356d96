/**
 * The demo offline: one visit online (the service worker keeps the shell, the element
 * keeps the models in its Cache Storage), then the browser context is set offline and the
 * demo reloaded: a spoken question is transcribed and answered aloud (the page answers
 * from its own code, as it does with no llm-url), with no request reaching the network.
 */
import { expect, test, type Page } from '@playwright/test';
import { ORIGIN, openPage, recordedEvents } from './support/browser.ts';
import { paddedFixture } from './support/wav.ts';

test.describe.configure({ timeout: 300_000 });

/** Final spoken transcripts and finished answers so far (the demo's element). */
async function turnsAndAnswers(page: Page): Promise<{ heard: string[]; answered: { heardText: string; interrupted: boolean }[] }> {
  const heard = (await recordedEvents(page, 'voice-transcript'))
    .filter((e) => e.detail['final'] && e.detail['source'] === 'speech')
    .map((e) => String(e.detail['text']));
  const answered = (await recordedEvents(page, 'voice-response-end')).map((e) => ({
    heardText: String(e.detail['heardText']),
    interrupted: Boolean(e.detail['interrupted']),
  }));
  return { heard, answered };
}

test('after one visit, the demo hears and answers a spoken question with the network off', async () => {
  const { path } = paddedFixture('english-other/en_goforward.wav', 1, 25);
  const opened = await openPage(`${ORIGIN}/index.html`, { micWav: path });
  try {
    const { page, context } = opened;
    const log = page.locator('#log');
    await expect(log).toContainText('offline: this page is kept by its service worker', { timeout: 30_000 });
    await expect(page.locator('#agent')).toHaveAttribute('model-base-url', `${ORIGIN}/models`);

    // The visit: one spoken turn, answered, so every model and runtime file has been used.
    await page.locator('#start').click();
    await expect.poll(async () => (await turnsAndAnswers(page)).answered.length, { timeout: 180_000, intervals: [1000] }).toBeGreaterThan(0);

    await context.setOffline(true);
    const leaks: string[] = [];
    page.on('requestfailed', (request) => leaks.push(`${request.url()} (${request.failure()?.errorText})`));
    await page.reload();
    await expect(page.locator('#agent')).toHaveAttribute('model-base-url', `${ORIGIN}/models`, { timeout: 30_000 });
    expect(await page.evaluate(() => navigator.onLine)).toBe(false);
    await page.locator('#start').click();
    await expect.poll(async () => (await turnsAndAnswers(page)).answered.length, { timeout: 120_000, intervals: [1000] }).toBeGreaterThan(0);
    const { heard, answered } = await turnsAndAnswers(page);
    expect(heard[0]!.toLowerCase()).toContain('go forward');
    expect(answered[0]!.heardText).toContain('You said');
    expect(answered[0]!.heardText.toLowerCase()).toContain('go forward');
    expect(await page.locator('#log').textContent()).not.toContain('error ');
    // Nothing was needed from the network (a failed request would be one the offline demo
    // lacked) — except the optional model-folder manifest, which offline counts as absent,
    // as its 404 does online (../shared/models has none).
    expect(leaks.filter((leak) => !leak.includes('/models/voice-agent-models.json'))).toEqual([]);
  } finally {
    await opened.close();
  }
});

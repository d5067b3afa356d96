/**
 * RELIABILITY row 8: a tab the browser backgrounds, throttles or freezes.
 *
 * What headless Chromium here can and cannot produce (each probed on this Chromium):
 * launched without Playwright's anti-throttling switches, with a second tab brought to the
 * front, in the same window or another, minimized or not, the first page still reports
 * `visible` and its timers run at full pace (Playwright keeps pages active,
 * microsoft/playwright#2286); `Page.setWebLifecycleState({ state: 'frozen' })` is accepted
 * but freezes nothing (a 100 ms page timer keeps ticking). So hidden-tab throttling and
 * freezing are not tested here.
 *
 * What is tested is the harm they do that the element must survive, produced directly: the
 * page's main thread stops for 10 s (here by a busy loop in the page, as under a frozen or
 * heavily throttled tab or a host page that hangs) while the audio thread and the workers
 * go on. Audio must not be lost (the capture goes from the AudioWorklet to the VAD worker
 * without the main thread), no watched worker may be called lost although the stall is
 * longer than a ping may go unanswered (8 s), no error, and the visitor's next words are
 * heard. (A heartbeat that read the clock would pass here too: pings are answered within
 * milliseconds, so one is rarely outstanding when the stall begins.)
 */
import { expect, test } from '@playwright/test';
import { startAgent, waitForPlayback } from './support/agent.ts';
import { agentMarkup, openAgentPage, recordedEvents } from './support/browser.ts';
import { durationSeconds, paddedFixture, JFK_CLIP as JFK, JFK_TEXT } from './support/wav.ts';
import { wordErrorRate } from './support/wer.ts';

/** Silence before JFK speaks: the main thread stalls inside it. */
const LEAD_SECONDS = 16;
const STALL_AFTER_MS = 2000;
/** Longer than the 8 s a watched worker may leave a ping unanswered. */
const STALL_FOR_MS = 10_000;

test('a page whose main thread stops for 10 s (as in a frozen or throttled tab) loses no audio, calls no worker lost, and hears the next question', async () => {
  const { path, pcm } = paddedFixture(JFK, LEAD_SECONDS, 1);
  const opened = await openAgentPage({ micWav: path, body: agentMarkup('debug'), backgroundThrottling: true });
  try {
    const { page, context } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    const t0 = await startAgent(page);
    // The visitor switches to another tab (which does not hide the page here, see above)…
    const other = await context.newPage();
    await other.goto('about:blank');
    await other.bringToFront();
    await page.waitForTimeout(STALL_AFTER_MS);
    // A page timer ticking every 100 ms shows the stall really stopped the main thread.
    await page.evaluate(() => {
      const ticks: number[] = [];
      (window as unknown as { __ticks: number[] }).__ticks = ticks;
      setInterval(() => ticks.push(performance.now()), 100);
    });
    await page.waitForTimeout(300);
    const stalledAt = await page.evaluate((ms) => {
      const from = performance.now();
      while (performance.now() - from < ms) {
        // The main thread does nothing else: no task, no timer, no message is handled.
      }
      return from;
    }, STALL_FOR_MS);
    const ticks = await page.evaluate(() => (window as unknown as { __ticks: number[] }).__ticks);
    const longestGap = Math.max(...ticks.slice(1).map((t, i) => t - ticks[i]!));
    expect(longestGap).toBeGreaterThan(STALL_FOR_MS - 500);
    const resumedAt = stalledAt + STALL_FOR_MS;
    // …and comes back to it.
    await page.bringToFront();

    await waitForPlayback(page, t0, durationSeconds(pcm) + 0.5);
    const errors = await recordedEvents(page, 'voice-error');
    expect(errors, JSON.stringify(errors)).toEqual([]);
    const debug = await page.evaluate(() => (window as unknown as { __debug: { kind: string; at: number }[] }).__debug);
    // No watched worker was declared lost and replaced because of the stall.
    expect(debug.filter((d) => d.kind === 'worker-restarted')).toEqual([]);
    const finals = (await recordedEvents(page, 'voice-transcript')).filter((e) => e.detail['final'] === true);
    const heard = finals.map((e) => String(e.detail['text'])).join(' ');
    expect(wordErrorRate(JFK_TEXT, heard).wer, heard).toBeLessThan(0.3);
    // Every turn came after the stall: it did not make a turn out of nothing.
    const turns = await recordedEvents(page, 'voice-speech-start');
    for (const turn of turns) expect(turn.at).toBeGreaterThan(resumedAt);
    expect(await page.evaluate(() => document.querySelector('voice-agent')!.state)).toBe('listening');
    // The detector judged frames throughout, in order and without gaps: what the microphone
    // captured while the main thread stood still was not lost.
    const indices = await page.evaluate(() =>
      (window as unknown as { __vadFrames: { index: number }[] }).__vadFrames.map((f) => f.index),
    );
    const gaps = indices.slice(1).filter((index, i) => index !== indices[i]! + 1).length;
    expect({ gaps, frames: indices.length }).toMatchObject({ gaps: 0 });
    expect(indices.length * 0.032).toBeGreaterThan(durationSeconds(pcm) - STALL_AFTER_MS / 1000);
  } finally {
    await opened.close();
  }
});

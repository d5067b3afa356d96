/**
 * Turn detection end to end: real recorded speech as the microphone, the real Silero
 * model, the built element in Debian's Chromium.
 */
import { expect, test, type Page } from '@playwright/test';
import { locate, rms } from './support/audio-compare.ts';
import { openAgentPage, recordedEvents, resourceCounts } from './support/browser.ts';
import { durationSeconds, paddedFixture } from './support/wav.ts';

/** Waits until the fake mic has played `seconds` of audio since start() and no turn is open. */
async function waitForPlayback(page: Page, startedAt: number, seconds: number): Promise<void> {
  await expect
    .poll(
      () =>
        page.evaluate(
          ([t0, s]) =>
            performance.now() - t0 > s * 1000 && document.querySelector('voice-agent')!.state === 'listening',
          [startedAt, seconds] as const,
        ),
      { timeout: (seconds + 30) * 1000, intervals: [250] },
    )
    .toBe(true);
}

async function startAgent(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const t0 = performance.now();
    await document.querySelector('voice-agent')!.start();
    return t0;
  });
}

async function turnAudio(page: Page): Promise<Float32Array[]> {
  const arrays = await page.evaluate(() =>
    (window as unknown as { __turnAudio: Float32Array[] }).__turnAudio.map((a) => Array.from(a)),
  );
  return arrays.map((a) => Float32Array.from(a));
}

test('the JFK clip yields one turn per spoken phrase, each the same speech as the recording', async () => {
  const { path, pcm, source } = paddedFixture('english-other/en_jfk_inaugural_1961.wav');
  const opened = await openAgentPage({ micWav: path });
  try {
    const { page } = opened;
    const t0 = await startAgent(page);
    expect(await page.evaluate(() => document.querySelector('voice-agent')!.state)).toBe('listening');
    await waitForPlayback(page, t0, durationSeconds(pcm) + 0.5);

    const ends = await recordedEvents(page, 'voice-speech-end');
    const starts = await recordedEvents(page, 'voice-speech-start');
    // Policy (README "Turn detection"): a pause of silence-ms (500 ms) ends a turn, and
    // JFK pauses ~0.6–1 s between his four phrases.
    expect(ends.length).toBe(4);
    expect(starts.length).toBe(ends.length);

    const turns = await turnAudio(page);
    const padded = pcm.samples;
    let previousOffset = -1;
    for (const [i, audio] of turns.entries()) {
      expect(rms(audio), `turn ${i} is not silence`).toBeGreaterThan(0.01);
      const match = locate(audio, padded);
      // Same speech (not silence, not the wrong rate): strong correlation with the source…
      expect(match.correlation, `turn ${i} correlation`).toBeGreaterThan(0.8);
      // …at a later place in the recording than the previous turn.
      expect(match.offset).toBeGreaterThan(previousOffset);
      previousOffset = match.offset;
    }
    // Together the turns cover the speech: their total length is close to the clip's.
    const total = turns.reduce((n, a) => n + a.length, 0) / 16_000;
    expect(total).toBeGreaterThan(durationSeconds(source) * 0.7);
    expect(total).toBeLessThan(durationSeconds(source) * 1.2);
  } finally {
    await opened.close();
  }
});

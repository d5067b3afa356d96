/**
 * RELIABILITY row 6, the part a browser test can reach: an audio device that runs at another
 * rate. The element never asks for a rate: its AudioContexts run at whatever the system's
 * device does (48 kHz here; 44.1 kHz on many Macs and headsets, 22.05 or 16 kHz on Bluetooth
 * hands-free profiles), and the capture worklet resamples to the recognizers' 16 kHz. Here
 * every AudioContext the page creates is made to run at the given rate (the constructor is
 * wrapped at the browser boundary) and JFK must still be heard as well as at 48 kHz.
 *
 * Not reachable here: the default device switched mid-session (headless Chromium has one
 * fake device); that path is row 5's (`mic-recovery.spec.ts`).
 */
import { expect, test } from '@playwright/test';
import { finalSpeech, startAgent, waitForPlayback } from './support/agent.ts';
import { agentMarkup, openAgentPage, recordedEvents } from './support/browser.ts';
import { durationSeconds, paddedFixture, JFK_CLIP as JFK, JFK_TEXT } from './support/wav.ts';
import { wordErrorRate } from './support/wer.ts';


function forceContextRate(rate: number): string {
  return `(() => {
    const Native = window.AudioContext;
    window.__contextRates = [];
    window.AudioContext = class extends Native {
      constructor(options = {}) {
        super({ ...options, sampleRate: ${rate} });
        window.__contextRates.push(this.sampleRate);
      }
    };
  })();`;
}

for (const rate of [44_100, 22_050]) {
  test(`audio devices running at ${rate} Hz: the capture is resampled and JFK is heard`, async () => {
    const { path, pcm } = paddedFixture(JFK, 0.5, 1);
    const opened = await openAgentPage({ micWav: path, body: agentMarkup('debug'), initScripts: [forceContextRate(rate)] });
    try {
      const { page } = opened;
      const t0 = await startAgent(page);
      await waitForPlayback(page, t0, durationSeconds(pcm) + 0.5, 90);
      // The wrapper really took effect: the capture ran at the forced rate.
      const rates = await page.evaluate(() => (window as unknown as { __contextRates: number[] }).__contextRates);
      expect(rates.length).toBeGreaterThan(0);
      expect(new Set(rates)).toEqual(new Set([rate]));
      expect(await recordedEvents(page, 'voice-error')).toEqual([]);
      const heard = (await finalSpeech(page)).join(' ');
      expect(wordErrorRate(JFK_TEXT, heard).wer, heard).toBeLessThan(0.3);
      // The capture yields 16 kHz: one 32 ms frame per 32 ms of wall-clock time, measured
      // over the second half of the run, once any start-up backlog is worked off (treating
      // 44.1 kHz as 48 kHz would be 8 % off).
      const frames = await page.evaluate(() =>
        (window as unknown as { __vadFrames: { index: number; at: number }[] }).__vadFrames,
      );
      const middle = frames[Math.floor(frames.length / 2)]!;
      const last = frames[frames.length - 1]!;
      const msPerFrame = (last.at - middle.at) / (last.index - middle.index);
      expect(last.index - middle.index).toBeGreaterThan(100);
      expect(msPerFrame).toBeGreaterThan(32 * 0.97);
      expect(msPerFrame).toBeLessThan(32 * 1.03);
    } finally {
      await opened.close();
    }
  });
}

/**
 * RELIABILITY row 7, the capture side: the system suspends the microphone's AudioContext
 * mid-session (a phone call, another app taking the audio device, a frozen tab; Safari
 * reports `interrupted`). Injected at the browser boundary: the page's own script calls
 * `suspend()` on the capture context (found by wrapping `createMediaStreamSource`), and
 * `resume()` for a system that lets it run again. Real Silero, Whisper and Piper models;
 * the fake mic plays real recordings.
 *
 * The element reports `mic-interrupted` (the visitor is not heard meanwhile), answers the
 * turn the visitor was in the middle of with what was heard, keeps the microphone, and
 * listens again when the context runs — by itself, or on the visitor's next gesture
 * anywhere on the page (`voice-recovered`).
 */
import { join as joinPath } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { agentState, errorCodes, expectHeardPartOf, finalSpeech, startAgent, waitForPlayback } from './support/agent.ts';
import { openAgentPage, recordedEvents, resourceCounts } from './support/browser.ts';
import { AUDIO_DIR, SCRATCH_DIR, durationSeconds, joinClips, paddedFixture, readWav, silence, writeWav, JFK_CLIP as JFK, JFK_TEXT } from './support/wav.ts';
import { wordErrorRate } from './support/wer.ts';

test.describe.configure({ timeout: 240_000 });

/** Remembers the context the microphone is connected to: the capture context. */
const FIND_CAPTURE_CONTEXT = `(() => {
  const native = AudioContext.prototype.createMediaStreamSource;
  AudioContext.prototype.createMediaStreamSource = function (stream) {
    window.__captureContext = this;
    return native.call(this, stream);
  };
})();`;

function captureState(page: Page): Promise<string | undefined> {
  return page.evaluate(() => (window as unknown as { __captureContext?: AudioContext }).__captureContext?.state);
}

async function recoveredCodes(page: Page): Promise<unknown[]> {
  return (await recordedEvents(page, 'voice-recovered')).map((e) => e.detail);
}

test('capture suspended in the middle of a turn: mic-interrupted, what was said so far is answered, a click anywhere listens again', async () => {
  // The visitor says one sentence, is cut off by the interruption, and asks JFK's question
  // 8 s after the sentence (the fake device plays on in real time while the capture is suspended).
  const sentence = readWav(joinPath(AUDIO_DIR, 'librispeech/test-other/ls_test-other_1998-15444-0003.wav'));
  const jfk = readWav(joinPath(AUDIO_DIR, JFK));
  const pause = (seconds: number) => ({ sampleRateHz: sentence.sampleRateHz, samples: silence(seconds, sentence.sampleRateHz) });
  const recording = joinClips([pause(1), sentence, pause(8), jfk, pause(1)]);
  const path = writeWav(joinPath(SCRATCH_DIR, 'mic-interrupted.sentence-then-jfk.wav'), recording);
  const reference = 'IN MAKING A POST MORTEM EXAMINATION THE ALIMENTARY CANAL SHOULD BE REMOVED AND PRESERVED FOR FURTHER INVESTIGATION';
  // Fault injection: well into the visitor's first turn, the system suspends the capture.
  const suspendMidTurn = `document.addEventListener('voice-speech-start', () => {
    setTimeout(() => window.__captureContext.suspend(), 1500);
  }, { once: true });`;
  const opened = await openAgentPage({ micWav: path, initScripts: [FIND_CAPTURE_CONTEXT, suspendMidTurn] });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    const t0 = await startAgent(page);
    await expect.poll(() => errorCodes(page), { timeout: 60_000 }).toEqual(['mic-interrupted']);
    await expect(page.locator('voice-agent').locator('[part="error"]')).toContainText(/listening is paused/i);
    // The open turn was closed with what had been captured, and transcribed…
    await expectHeardPartOf(page, reference);
    // …while the microphone stays with the element and the capture stays suspended (nothing resumed it).
    expect(await resourceCounts(page).then((c) => c.liveTracks)).toBeGreaterThan(0);
    expect(await captureState(page)).toBe('suspended');
    expect(['listening', 'transcribing', 'thinking', 'speaking']).toContain(await agentState(page));
    expect(await recoveredCodes(page)).toEqual([]);

    // Once the sentence is over (the fake device plays on while the capture is suspended),
    // the visitor clicks somewhere on the page (not the talk button): the capture runs again.
    await page.waitForFunction((start) => performance.now() - start > 10_000, t0);
    await page.mouse.click(5, 5);
    await expect.poll(() => recoveredCodes(page), { timeout: 10_000 }).toEqual([{ code: 'mic-interrupted' }]);
    const recoveredAt = (await recordedEvents(page, 'voice-recovered'))[0]!.at;
    expect(await captureState(page)).toBe('running');
    await expect(page.locator('voice-agent').locator('[part="error"]')).toBeHidden();
    // And it hears again: JFK's question, asked after the click, is heard whole.
    const heardAfter = async () =>
      (await recordedEvents(page, 'voice-transcript'))
        .filter((e) => e.detail['final'] && e.detail['source'] === 'speech' && e.at > recoveredAt)
        .map((e) => String(e.detail['text']))
        .join(' ');
    await waitForPlayback(page, t0, durationSeconds(recording) + 0.5, 90);
    const heard = await heardAfter();
    expect(wordErrorRate(JFK_TEXT, heard).wer, heard).toBeLessThan(0.3);
    expect(await errorCodes(page)).toEqual(['mic-interrupted']);
  } finally {
    await opened.close();
  }
});

test('capture suspended between turns and let run again by the system: no gesture needed, the next question is heard whole', async () => {
  const { path, pcm } = paddedFixture(JFK, 6, 1);
  // Fault injection: 1 s into listening (JFK starts 6 s in) the capture is suspended; the
  // "system" lets it run again 2 s later.
  const interruptBriefly = `document.addEventListener('voice-state-change', (event) => {
    if (event.detail.state !== 'listening' || window.__interrupted) return;
    window.__interrupted = true;
    setTimeout(() => {
      window.__captureContext.suspend();
      setTimeout(() => window.__captureContext.resume(), 2000);
    }, 1000);
  });`;
  const opened = await openAgentPage({ micWav: path, initScripts: [FIND_CAPTURE_CONTEXT, interruptBriefly] });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    const t0 = await startAgent(page);
    await expect.poll(() => errorCodes(page), { timeout: 30_000 }).toEqual(['mic-interrupted']);
    await expect.poll(() => recoveredCodes(page), { timeout: 10_000 }).toEqual([{ code: 'mic-interrupted' }]);
    // No turn was made up from the interruption, and the question after it is heard whole.
    await waitForPlayback(page, t0, durationSeconds(pcm) + 0.5, 90);
    const heard = (await finalSpeech(page)).join(' ');
    expect(wordErrorRate(JFK_TEXT, heard).wer, heard).toBeLessThan(0.3);
    expect(await errorCodes(page)).toEqual(['mic-interrupted']);
  } finally {
    await opened.close();
  }
});

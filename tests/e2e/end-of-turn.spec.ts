/**
 * Semantic end of turn end to end: real read speech with a pause inserted mid-sentence as
 * the microphone, the real Silero and Smart Turn v3.2 models, the built element in
 * Debian's Chromium. The recognizer is not needed (`asr-model="none"`).
 */
import { expect, test } from '@playwright/test';
import { startAgent, turnAudio } from './support/agent.ts';
import { SAME_SPEECH, locate } from './support/audio-compare.ts';
import { agentMarkup, openAgentPage, recordedEvents } from './support/browser.ts';
import { insertedPauseClip } from './support/inserted-pause.ts';
import { durationSeconds, paddedFixture } from './support/wav.ts';

/**
 * "Mister Quilter is the apostle of the middle classes and we are glad to | welcome his
 * gospel": a 1 s silence after "glad to", where no listener would take the turn. Silence
 * alone (500 ms) cuts there; Smart Turn hears an unfinished sentence and keeps listening.
 *
 * The pause used to follow "of the", but there the model's verdict sits too near its 0.5
 * threshold: 0.02-0.2 offline, yet the test failed twice in CI (the run whose message was read: 0.57, complete). After
 * "glad to" it is 0.009-0.015 whether the audio stops 30, 100, 200 or 300 ms after the
 * word (the same probe), so the test checks the element, not a coin toss of the model.
 */
const SENTENCE = 'librispeech/dev-clean/ls_dev-clean_1272-128104-0000.wav';
const AFTER_GLAD_TO = 13; // index of "to" in its .words.tsv
const PAUSE_S = 1;

interface FrameRecord {
  index: number;
  at: number;
  endOfTurn?: { probability: number; complete: boolean; featuresMs: number; inferenceMs: number; roundTripMs: number };
}

/**
 * Waits until `seconds` of the clip have been heard *after* loading finished, and no turn
 * is open. Loading Smart Turn beside Silero can take longer than a short clip here; the
 * frames captured meanwhile queue for the VAD worker and are judged once it starts, so
 * the clock for "the clip is over" starts when the element is listening.
 */
async function waitForClip(page: import('@playwright/test').Page, seconds: number): Promise<void> {
  await expect
    .poll(
      () =>
        page.evaluate((s) => {
          const events = (window as unknown as { __events: { type: string; at: number; detail: { state?: string; previous?: string } }[] }).__events;
          const ready = events.find((e) => e.type === 'voice-state-change' && e.detail.state === 'listening');
          return !!ready && performance.now() - ready.at > s * 1000 && document.querySelector('voice-agent')!.state === 'listening';
        }, seconds),
      { timeout: (seconds + 60) * 1000, intervals: [250] },
    )
    .toBe(true);
}

/**
 * preload() then start(): the models load before the microphone opens, so the recording
 * starts playing when the element is already listening (no backlog of queued frames
 * judged in a burst, which would squeeze the 2 s limit into a fraction of real time).
 */
async function loadThenStart(page: import('@playwright/test').Page): Promise<void> {
  await page.evaluate(() => document.querySelector('voice-agent')!.preload().catch(() => {}));
  await startAgent(page);
}

async function verdicts(page: import('@playwright/test').Page) {
  const frames = await page.evaluate(() => (window as unknown as { __vadFrames: FrameRecord[] }).__vadFrames);
  return frames.filter((f) => f.endOfTurn).map((f) => ({ at: f.at, ...f.endOfTurn! }));
}

test('with end-of-turn="smart-turn" a sentence with a 1 s pause after "glad to" stays one turn', async () => {
  const clip = insertedPauseClip(SENTENCE, { pauseS: PAUSE_S, afterWord: AFTER_GLAD_TO });
  const opened = await openAgentPage({
    micWav: clip.path,
    body: agentMarkup('asr-model="none" end-of-turn="smart-turn" silence-ms="500" debug'),
  });
  try {
    const { page } = opened;
    await loadThenStart(page);
    await waitForClip(page, durationSeconds(clip.pcm) + 0.5);
    const errors = await recordedEvents(page, 'voice-error');
    expect(errors, JSON.stringify(errors)).toEqual([]);
    const turns = await turnAudio(page);
    const judged = await verdicts(page);
    expect(turns, `verdicts: ${JSON.stringify(judged)}`).toHaveLength(1);
    // The model was asked (at least at the inserted pause and at the end) and called the
    // pause unfinished: the turn survived a pause twice silence-ms, not by luck of timing.
    expect(judged.length, JSON.stringify(judged)).toBeGreaterThanOrEqual(2);
    expect(judged.some((v) => !v.complete), JSON.stringify(judged)).toBe(true);
    // The one turn holds the whole sentence: both halves of the recording.
    const match = locate(turns[0]!, clip.pcm.samples);
    expect(match.correlation).toBeGreaterThan(SAME_SPEECH);
    const from = match.offset / 16_000;
    const to = (match.offset + turns[0]!.length) / 16_000;
    expect(from).toBeLessThan(clip.pause.startS - 1);
    expect(to).toBeGreaterThan(clip.speechEndS - 0.3);
  } finally {
    await opened.close();
  }
});

test('with end-of-turn="silence" at the same silence-ms the same clip is cut in two at the pause', async () => {
  const clip = insertedPauseClip(SENTENCE, { pauseS: PAUSE_S, afterWord: AFTER_GLAD_TO });
  const opened = await openAgentPage({
    micWav: clip.path,
    body: agentMarkup('asr-model="none" end-of-turn="silence" silence-ms="500"'),
  });
  try {
    const { page } = opened;
    await loadThenStart(page);
    await waitForClip(page, durationSeconds(clip.pcm) + 0.5);
    const turns = await turnAudio(page);
    expect(turns).toHaveLength(2);
    const [first, second] = turns.map((audio) => locate(audio, clip.pcm.samples));
    // The cut is at the inserted pause: the first turn ends before it, the second starts after.
    expect((first!.offset + turns[0]!.length) / 16_000).toBeLessThan(clip.pause.endS);
    expect(second!.offset / 16_000).toBeGreaterThan(clip.pause.startS);
  } finally {
    await opened.close();
  }
});

test('with end-of-turn="smart-turn" a complete short question ends its turn, judged complete', async () => {
  // "Will we ever forget it." (CMU ARCTIC axb a0005).
  const { path, pcm } = paddedFixture('english-other/en_cmuarctic_axb_a0005.wav', 1, 3);
  const opened = await openAgentPage({
    micWav: path,
    body: agentMarkup('asr-model="none" end-of-turn="smart-turn" debug'),
  });
  try {
    const { page } = opened;
    await loadThenStart(page);
    await waitForClip(page, durationSeconds(pcm) + 0.5);
    const ends = await recordedEvents(page, 'voice-speech-end');
    expect(ends).toHaveLength(1);
    const judged = await verdicts(page);
    // The model judged the pause after the question complete. (Whether that verdict or the
    // 2 s limit ended the turn depends on the model's speed on this machine: that is what
    // bench:end-of-turn measures, not this test.)
    expect(judged.length, JSON.stringify(judged)).toBeGreaterThanOrEqual(1);
    expect(judged.at(-1)!.complete, JSON.stringify(judged)).toBe(true);
  } finally {
    await opened.close();
  }
});

test('if Smart Turn cannot be loaded: a recoverable model-load-failed naming the file, and turns end on silence', async () => {
  const clip = insertedPauseClip(SENTENCE, { pauseS: PAUSE_S, afterWord: AFTER_GLAD_TO });
  // Silero ships with the element; only Smart Turn comes from model-base-url, which
  // points at a folder without it.
  const opened = await openAgentPage({
    micWav: clip.path,
    body: agentMarkup('asr-model="none" end-of-turn="smart-turn" silence-ms="500" model-base-url="/models/missing"'),
  });
  try {
    const { page } = opened;
    await startAgent(page);
    await waitForClip(page, durationSeconds(clip.pcm) + 0.5);
    // start() also begins loading the voice, which is missing from that folder too: its own
    // recoverable error is expected beside Smart Turn's, and nothing else.
    const all = await recordedEvents(page, 'voice-error');
    const errors = all.filter((e) => !/the voice /.test(String(e.detail.message)));
    expect(all.length - errors.length).toBeLessThanOrEqual(1);
    expect(errors, JSON.stringify(all)).toHaveLength(1);
    expect(errors[0]!.detail).toMatchObject({ code: 'model-load-failed', recoverable: true });
    expect(String(errors[0]!.detail.message)).toContain('smart-turn-v3.2-cpu.onnx');
    expect(await page.evaluate(() => document.querySelector('voice-agent')!.state)).toBe('listening');
    expect(await turnAudio(page)).toHaveLength(2);
  } finally {
    await opened.close();
  }
});

/**
 * The recognizer's worker dies mid-session, injected at the browser boundary: an init
 * script wraps `Worker` so the test can terminate the recognizer's worker from outside
 * the moment a recognizer call is posted to it. `terminate()` fires no event in the page:
 * only the heartbeat and the call deadline can tell the worker is gone. Real Silero and
 * Whisper models; the fake mic plays the JFK recording.
 *
 * Once: the worker is restarted, the call retried, and the turn still gets its final
 * transcript. Every time: the call is retried once, then `worker-failed` is reported.
 * The same for the voice's worker, killed as a reply's clauses are sent to it: the reply is
 * still spoken whole once; every time, `worker-failed` and the reply ends (nothing hangs).
 * And the voice activity detector's worker, terminated while the agent listens: replaced on
 * the running capture, the speech after it still heard; killed again, `worker-failed`.
 */
import { expect, test, type Page } from '@playwright/test';
import { agentState, errorCodes, finalSpeech, startAgent } from './support/agent.ts';
import { soundSpan } from './support/audio-analysis.ts';
import { readCapturedAudio } from './support/audio-tap.ts';
import { agentMarkup, openAgentPage, recordedEvents } from './support/browser.ts';
import { openSpeakingPage, responseEnds, sayInPage } from './support/speech.ts';
import { transcribe } from './support/transcribe.ts';
import { paddedFixture, JFK_CLIP as JFK, JFK_TEXT } from './support/wav.ts';
import { wordErrorRate } from './support/wer.ts';

test.describe.configure({ timeout: 180_000 });


/**
 * Fault injection: the workers named `workerName` are terminated from outside right after
 * a `method` call is posted to them, `kills` times in all. `window.__killed[workerName]`
 * counts the workers of that name created.
 */
function killWorkerOnCall(workerName: string, method: string, kills: number): string {
  return `(() => {
    let left = ${kills};
    window.__workersNamed ??= {};
    window.__workersNamed[${JSON.stringify(workerName)}] = 0;
    const Base = window.Worker;
    window.Worker = class extends Base {
      constructor(url, options) {
        super(url, options);
        if (options?.name !== ${JSON.stringify(workerName)}) return;
        window.__workersNamed[${JSON.stringify(workerName)}]++;
        const post = this.postMessage.bind(this);
        this.postMessage = (message, transfer) => {
          post(message, transfer);
          if (left > 0 && message?.type === 'APPLY' && message.path?.[0] === ${JSON.stringify(method)}) {
            left--;
            this.terminate();
          }
        };
      }
    };
  })();`;
}

/** Keeps every worker named `workerName` in `window.__workersKept` so the test can terminate one from outside. */
function keepWorkersNamed(workerName: string): string {
  return `(() => {
    window.__workersKept = [];
    const Base = window.Worker;
    window.Worker = class extends Base {
      constructor(url, options) {
        super(url, options);
        if (options?.name === ${JSON.stringify(workerName)}) window.__workersKept.push(this);
      }
    };
  })();`;
}

/** Terminates the newest kept worker; returns how many were kept. */
const terminateNewestKept = (page: Page) =>
  page.evaluate(() => {
    const kept = (window as unknown as { __workersKept: Worker[] }).__workersKept;
    kept.at(-1)?.terminate();
    return kept.length;
  });

const killRecognizerOnTranscribe = (kills: number) => killWorkerOnCall('voice-agent-asr', 'transcribe', kills);

function restarts(page: Page): Promise<{ what: string; cause: string }[]> {
  return page.evaluate(() =>
    (window as unknown as { __debug: { kind: string; what: string; cause: string }[] }).__debug.filter((d) => d.kind === 'worker-restarted'),
  );
}

const workersNamed = (page: Page, name: string) =>
  page.evaluate((wanted) => (window as unknown as { __workersNamed: Record<string, number> }).__workersNamed[wanted] ?? 0, name);
const asrWorkers = (page: Page) => workersNamed(page, 'voice-agent-asr');

test('the recognizer worker is terminated during a call: it is restarted, the call retried, and the speech still transcribed', async () => {
  const { path } = paddedFixture(JFK, 1, 4);
  const opened = await openAgentPage({ micWav: path, body: agentMarkup('debug'), initScripts: [killRecognizerOnTranscribe(1)] });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    await startAgent(page);
    await expect.poll(() => restarts(page), { timeout: 90_000 }).toHaveLength(1);
    const [restart] = await restarts(page);
    expect(restart!.what).toBe('speech recognizer');
    expect(restart!.cause).toMatch(/stopped answering|did not finish/);
    expect(await asrWorkers(page)).toBe(2);
    // Every turn the VAD closed gets its final transcript, and together they read as the speech.
    await expect
      .poll(async () => (await finalSpeech(page)).length - (await recordedEvents(page, 'voice-speech-end')).length, { timeout: 90_000 })
      .toBe(0);
    const heard = (await finalSpeech(page)).join(' ');
    expect(wordErrorRate(JFK_TEXT, heard).wer, heard).toBeLessThan(0.3);
    expect(await errorCodes(page)).toEqual([]);
  } finally {
    await opened.close();
  }
});

test('a recognizer worker that dies on every call: one retry, then worker-failed naming the recognizer', async () => {
  const { path } = paddedFixture(JFK, 1, 4);
  const opened = await openAgentPage({ micWav: path, body: agentMarkup('debug'), initScripts: [killRecognizerOnTranscribe(1000)] });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    await startAgent(page);
    await expect.poll(() => errorCodes(page), { timeout: 120_000 }).toContain('worker-failed');
    const failure = (await recordedEvents(page, 'voice-error')).find((e) => e.detail['code'] === 'worker-failed')!;
    expect(String(failure.detail['message'])).toMatch(/speech recognizer/i);
    // The call was retried once on a restarted worker before giving up.
    expect(await restarts(page)).toHaveLength(1);
    expect(await asrWorkers(page)).toBeGreaterThanOrEqual(2);
  } finally {
    await opened.close();
  }
});

const REPLY = 'Hello there, thanks for calling. The weather today is sunny and warm, with a light breeze from the west.';

test('the voice worker is terminated as a reply is synthesized: it is restarted and the whole reply is spoken', async () => {
  const opened = await openSpeakingPage({ initScripts: [killWorkerOnCall('voice-agent-tts', 'synthesize', 1)] });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    await sayInPage(page, REPLY); // resolves when the reply has ended, however it ended
    const [restart] = await restarts(page);
    expect(restart?.what).toBe('speech synthesizer');
    expect(restart!.cause).toMatch(/stopped answering|did not finish/);
    expect(await workersNamed(page, 'voice-agent-tts')).toBe(2);
    expect(await responseEnds(page)).toEqual([{ text: REPLY, heardText: REPLY, interrupted: false }]);
    // It reached the speakers: Whisper hears the reply in the page's output.
    // (Only the sound: the ~20 s of silence before the restart would push it past Whisper's 30 s window.)
    const captured = await readCapturedAudio(page);
    const span = soundSpan(captured.samples, captured.sampleRateHz)!;
    const heard = await transcribe(captured.samples.subarray(span.start, span.end), captured.sampleRateHz);
    // A lost clause fails this (the shortest, "Hello there, thanks for calling", is 5 of the
    // 19 words: 0.26); Whisper's own slips on the synthetic voice reached 3 words in a run
    // whose reply was whole ("today is" → "today's", "a light" → "the light": 0.158).
    expect(wordErrorRate(REPLY, heard).wer, heard).toBeLessThanOrEqual(0.2);
    expect(await errorCodes(page)).toEqual([]);
    expect(await agentState(page)).toBe('idle');
  } finally {
    await opened.close();
  }
});

test('a voice worker that dies on every call: one retry, then worker-failed naming the synthesizer, and the reply ends', async () => {
  const opened = await openSpeakingPage({ initScripts: [killWorkerOnCall('voice-agent-tts', 'synthesize', 1000)] });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    await sayInPage(page, REPLY);
    const failure = (await recordedEvents(page, 'voice-error')).find((e) => e.detail['code'] === 'worker-failed');
    expect(String(failure?.detail['message'])).toMatch(/speech synthesizer/i);
    expect(await restarts(page)).toHaveLength(1);
    const [end] = await responseEnds(page);
    expect(end).toMatchObject({ text: REPLY, heardText: '', interrupted: true });
    // Two workers: the first, and the one the retry ran on; say() resolved, nothing hangs.
    expect(await workersNamed(page, 'voice-agent-tts')).toBe(2);
  } finally {
    await opened.close();
  }
});

test('the voice activity detector is terminated while listening: a new one takes the running capture and the speech after it is heard; terminated again, worker-failed', async () => {
  // 16 s of silence first: the loss is noticed (heartbeat, ~10 s) and the detector replaced before JFK speaks.
  const { path } = paddedFixture(JFK, 16, 30);
  const opened = await openAgentPage({ micWav: path, body: agentMarkup('debug'), initScripts: [keepWorkersNamed('voice-agent-vad')] });
  try {
    const { page } = opened;
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    await startAgent(page);
    expect(await terminateNewestKept(page)).toBe(1);
    await expect.poll(() => restarts(page), { timeout: 30_000 }).toHaveLength(1);
    const [restart] = await restarts(page);
    expect(restart!.what).toBe('voice activity detector');
    expect(restart!.cause).toMatch(/stopped answering/);
    expect(await errorCodes(page)).toEqual([]);
    expect(await agentState(page)).toBe('listening');
    // JFK, spoken after the replacement, is segmented and transcribed as usual.
    await expect
      .poll(async () => wordErrorRate(JFK_TEXT, (await finalSpeech(page)).join(' ')).wer, { timeout: 90_000 })
      .toBeLessThan(0.3);
    expect(await errorCodes(page)).toEqual([]);

    // Lost again within a minute: not restarted for ever — worker-failed, listening stops.
    expect(await terminateNewestKept(page)).toBe(2);
    await expect.poll(() => errorCodes(page), { timeout: 30_000 }).toContain('worker-failed');
    const failure = (await recordedEvents(page, 'voice-error')).find((e) => e.detail['code'] === 'worker-failed')!;
    expect(String(failure.detail['message'])).toMatch(/voice activity detector/i);
    expect(await agentState(page)).toBe('error');
    expect(await restarts(page)).toHaveLength(1);
  } finally {
    await opened.close();
  }
});

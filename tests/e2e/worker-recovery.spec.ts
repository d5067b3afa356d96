/**
 * The recognizer's worker dies mid-session, injected at the browser boundary: an init
 * script wraps `Worker` so the test can terminate the recognizer's worker from outside
 * the moment a recognizer call is posted to it. `terminate()` fires no event in the page:
 * only the heartbeat and the call deadline can tell the worker is gone. Real Silero and
 * Whisper models; the fake mic plays the JFK recording.
 *
 * Once: the worker is restarted, the call retried, and the turn still gets its final
 * transcript. Every time: the call is retried once, then `worker-failed` is reported.
 */
import { expect, test, type Page } from '@playwright/test';
import { errorCodes, finalSpeech, startAgent } from './support/agent.ts';
import { agentMarkup, openAgentPage, recordedEvents } from './support/browser.ts';
import { paddedFixture } from './support/wav.ts';
import { wordErrorRate } from './support/wer.ts';

test.describe.configure({ timeout: 180_000 });

const JFK = 'english-other/en_jfk_inaugural_1961.wav';
const JFK_TEXT = 'And so, my fellow Americans, ask not what your country can do for you, ask what you can do for your country.';

/**
 * Fault injection: the recognizer's workers (named `voice-agent-asr`) are terminated from
 * outside right after a `transcribe` call is posted to them, `kills` times in all.
 */
function killRecognizerOnTranscribe(kills: number): string {
  return `(() => {
    let left = ${kills};
    window.__asrWorkers = 0;
    const Base = window.Worker;
    window.Worker = class extends Base {
      constructor(url, options) {
        super(url, options);
        if (options?.name !== 'voice-agent-asr') return;
        window.__asrWorkers++;
        const post = this.postMessage.bind(this);
        this.postMessage = (message, transfer) => {
          post(message, transfer);
          if (left > 0 && message?.type === 'APPLY' && message.path?.[0] === 'transcribe') {
            left--;
            this.terminate();
          }
        };
      }
    };
  })();`;
}



function restarts(page: Page): Promise<{ what: string; cause: string }[]> {
  return page.evaluate(() =>
    (window as unknown as { __debug: { kind: string; what: string; cause: string }[] }).__debug.filter((d) => d.kind === 'worker-restarted'),
  );
}

const asrWorkers = (page: Page) => page.evaluate(() => (window as unknown as { __asrWorkers: number }).__asrWorkers);

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

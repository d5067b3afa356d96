/**
 * RELIABILITY row 25: the browser runs out of memory loading a model (a phone with a few
 * hundred MB to spare, a 32-bit tab, a big model). Injected at the browser boundary, inside
 * the recognizer's worker: its script is served with a preamble that makes
 * `WebAssembly.Memory.prototype.grow` fail above 48 MB, as the browser does when it cannot
 * find the memory — ONNX Runtime's heap cannot grow while it creates Whisper's sessions
 * ("failed to allocate a buffer of size 49890678", the decoder).
 * Real Silero, Whisper and Piper models; the fake mic plays JFK.
 *
 * The element reports `model-out-of-memory` (saying what to do), ends the worker that holds
 * the half-loaded model (which frees its memory), and keeps the model's files in Cache
 * Storage: they are not damaged, and the next try must not download them again. Turns go
 * on without transcripts meanwhile; pressing the talk button again (a later `start()`)
 * loads the recognizer afresh — here, with memory to spare, it fits and JFK is heard.
 */
import { expect, test, type Page } from '@playwright/test';
import { agentState, errorCodes, finalSpeech, startAgent, waitForPlayback } from './support/agent.ts';
import { openAgentPage, recordedEvents } from './support/browser.ts';
import { durationSeconds, paddedFixture, JFK_CLIP as JFK, JFK_TEXT } from './support/wav.ts';
import { wordErrorRate } from './support/wer.ts';

test.describe.configure({ timeout: 240_000 });

const HEAP_LIMIT_BYTES = 48 * 1024 * 1024;

/** Prepended to a worker's script: its WebAssembly heaps cannot grow past the limit. */
const LOW_MEMORY_PREAMBLE = `{
  const grow = WebAssembly.Memory.prototype.grow;
  WebAssembly.Memory.prototype.grow = function (pages) {
    if (this.buffer.byteLength + pages * 65536 > ${HEAP_LIMIT_BYTES}) {
      throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    }
    return grow.call(this, pages);
  };
}
`;

/** The recognizer's model files in the page's Cache Storage. */
function cachedWhisperFiles(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const files: string[] = [];
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) {
        if (request.url.includes('whisper-tiny.en') && request.url.endsWith('.onnx')) files.push(request.url.split('/').pop()!);
      }
    }
    return files.sort();
  });
}

function recognizerWorkers(page: Page): Promise<{ terminated: boolean }[]> {
  return page.evaluate(() =>
    (window as unknown as { __workers: { url: string; terminated: boolean }[] }).__workers
      .filter((w) => w.url.includes('asr.worker'))
      .map((w) => ({ terminated: w.terminated })),
  );
}

test('the recognizer runs out of memory while loading: model-out-of-memory, its worker ended, its files kept; pressing the talk button again loads it and the question is heard', async () => {
  const { path, pcm } = paddedFixture(JFK, 12, 1);
  const opened = await openAgentPage({ micWav: path });
  try {
    const { page, context } = opened;
    // Only the first recognizer worker is short of memory.
    let served = 0;
    await context.route('**/assets/asr.worker-*.js', async (route) => {
      served++;
      if (served > 1) return route.continue();
      const response = await route.fetch();
      await route.fulfill({ response, body: LOW_MEMORY_PREAMBLE + (await response.text()) });
    });
    await startAgent(page);
    await expect.poll(() => errorCodes(page), { timeout: 90_000 }).toEqual(['model-out-of-memory']);
    const [error] = await recordedEvents(page, 'voice-error');
    const message = String(error!.detail['message']);
    expect(message, message).toMatch(/not enough memory to load the speech recognizer Xenova\/whisper-tiny\.en/i);
    expect(message).toMatch(/close other tabs/i);
    // ONNX Runtime's own words: the allocation its heap could not grow for (Whisper's 50 MB decoder).
    expect(message).toMatch(/failed to allocate a buffer of size \d+/i);
    expect(served).toBe(1);
    // The worker holding the half-loaded model is ended…
    await expect.poll(() => recognizerWorkers(page)).toEqual([{ terminated: true }]);
    // …and the files it downloaded are still cached (out of memory is not a damaged file).
    expect(await cachedWhisperFiles(page)).toEqual(['decoder_model_merged_quantized.onnx', 'encoder_model_quantized.onnx']);

    // The visitor closes other tabs and presses the talk button again (stop, then start):
    // the recognizer is loaded afresh, in a worker with memory to spare, and hears the
    // question (the fake microphone plays its recording from the start again).
    const talk = page.locator('voice-agent').locator('[part="button"]');
    await talk.click();
    await expect.poll(() => agentState(page)).toBe('idle');
    const t1 = await page.evaluate(() => performance.now());
    await talk.click();
    await waitForPlayback(page, t1, durationSeconds(pcm) + 0.5, 120);
    expect(served).toBe(2);
    const heard = (await finalSpeech(page)).join(' ');
    expect(wordErrorRate(JFK_TEXT, heard).wer, heard).toBeLessThan(0.3);
    const errors = (await recordedEvents(page, 'voice-error')).map((e) => e.detail);
    expect(errors.map((e) => e['code']), JSON.stringify(errors)).toEqual(['model-out-of-memory']);
    expect((await recognizerWorkers(page)).map((w) => w.terminated)).toEqual([true, false]);
  } finally {
    await opened.context.unrouteAll({ behavior: 'ignoreErrors' });
    await opened.close();
  }
});

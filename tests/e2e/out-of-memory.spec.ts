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
 * The same for the voice (Piper, 63 MB, in the speech worker): its preload fails the same
 * way, and the next reply loads it afresh and is spoken whole. And for the local LLM
 * (`local-llm`, the tiny random-weight model, its worker's heap not allowed to grow at all):
 * the next typed turn loads it afresh and is answered.
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { agentState, errorCodes, finalSpeech, startAgent, waitForPlayback } from './support/agent.ts';
import { soundSpan } from './support/audio-analysis.ts';
import { readCapturedAudio } from './support/audio-tap.ts';
import { agentMarkup, openAgentPage, recordedEvents } from './support/browser.ts';
import { openSpeakingPage, responseEnds, sayInPage } from './support/speech.ts';
import { transcribe } from './support/transcribe.ts';
import { durationSeconds, paddedFixture, JFK_CLIP as JFK, JFK_TEXT } from './support/wav.ts';
import { wordErrorRate } from './support/wer.ts';

test.describe.configure({ timeout: 240_000 });

const HEAP_LIMIT_BYTES = 48 * 1024 * 1024;

/** Prepended to a worker's script: its WebAssembly heaps cannot grow past `limitBytes`. */
const lowMemoryPreamble = (limitBytes: number) => `{
  const grow = WebAssembly.Memory.prototype.grow;
  WebAssembly.Memory.prototype.grow = function (pages) {
    if (this.buffer.byteLength + pages * 65536 > ${limitBytes}) {
      throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    }
    return grow.call(this, pages);
  };
}
`;

/**
 * Serves the first copy of the worker scripts matching `pattern` short of memory, later
 * copies as built. Returns how many were served so far.
 */
async function firstWorkerShortOfMemory(context: BrowserContext, pattern: string, limitBytes = HEAP_LIMIT_BYTES): Promise<() => number> {
  let served = 0;
  await context.route(pattern, async (route) => {
    served++;
    if (served > 1) return route.continue();
    const response = await route.fetch();
    await route.fulfill({ response, body: lowMemoryPreamble(limitBytes) + (await response.text()) });
  });
  return () => served;
}

/** The `.onnx` files in the page's Cache Storage whose address contains `folder`. */
function cachedModelFiles(page: Page, folder: string): Promise<string[]> {
  return page.evaluate(async (folder) => {
    const files: string[] = [];
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) {
        if (request.url.includes(folder) && request.url.endsWith('.onnx')) files.push(request.url.split('/').pop()!);
      }
    }
    return files.sort();
  }, folder);
}

/** Whether each worker whose script address contains `script` was terminated, in order of creation. */
function workersOf(page: Page, script: string): Promise<boolean[]> {
  return page.evaluate(
    (script) =>
      (window as unknown as { __workers: { url: string; terminated: boolean }[] }).__workers
        .filter((w) => w.url.includes(script))
        .map((w) => w.terminated),
    script,
  );
}

test('the recognizer runs out of memory while loading: model-out-of-memory, its worker ended, its files kept; pressing the talk button again loads it and the question is heard', async () => {
  const { path, pcm } = paddedFixture(JFK, 12, 1);
  const opened = await openAgentPage({ micWav: path });
  try {
    const { page, context } = opened;
    const served = await firstWorkerShortOfMemory(context, '**/assets/asr.worker-*.js');
    await startAgent(page);
    await expect.poll(() => errorCodes(page), { timeout: 90_000 }).toEqual(['model-out-of-memory']);
    const [error] = await recordedEvents(page, 'voice-error');
    const message = String(error!.detail['message']);
    expect(message, message).toMatch(/not enough memory to load the speech recognizer Xenova\/whisper-tiny\.en/i);
    expect(message).toMatch(/close other tabs/i);
    // ONNX Runtime's own words: the allocation its heap could not grow for (Whisper's 50 MB decoder).
    expect(message).toMatch(/failed to allocate a buffer of size \d+/i);
    expect(served()).toBe(1);
    // The worker holding the half-loaded model is ended…
    await expect.poll(() => workersOf(page, 'asr.worker')).toEqual([true]);
    // …and the files it downloaded are still cached (out of memory is not a damaged file).
    expect(await cachedModelFiles(page, 'whisper-tiny.en')).toEqual(['decoder_model_merged_quantized.onnx', 'encoder_model_quantized.onnx']);

    // The visitor closes other tabs and presses the talk button again (stop, then start):
    // the recognizer is loaded afresh, in a worker with memory to spare, and hears the
    // question (the fake microphone plays its recording from the start again).
    const talk = page.locator('voice-agent').locator('[part="button"]');
    await talk.click();
    await expect.poll(() => agentState(page)).toBe('idle');
    const t1 = await page.evaluate(() => performance.now());
    await talk.click();
    await waitForPlayback(page, t1, durationSeconds(pcm) + 0.5, 120);
    expect(served()).toBe(2);
    const heard = (await finalSpeech(page)).join(' ');
    expect(wordErrorRate(JFK_TEXT, heard).wer, heard).toBeLessThan(0.3);
    const errors = (await recordedEvents(page, 'voice-error')).map((e) => e.detail);
    expect(errors.map((e) => e['code']), JSON.stringify(errors)).toEqual(['model-out-of-memory']);
    expect(await workersOf(page, 'asr.worker')).toEqual([true, false]);
  } finally {
    await opened.context.unrouteAll({ behavior: 'ignoreErrors' });
    await opened.close();
  }
});

const REPLY = 'Hello there, thanks for calling. The weather today is sunny and warm, with a light breeze from the west.';

test('the voice runs out of memory while loading: model-out-of-memory, its worker ended, its file kept; the next reply loads it and is spoken whole', async () => {
  const opened = await openSpeakingPage();
  try {
    const { page, context } = opened;
    const served = await firstWorkerShortOfMemory(context, '**/assets/tts.worker-*.js');
    await page.evaluate(() => document.querySelector('voice-agent')!.preload().catch(() => {}));
    await expect.poll(() => errorCodes(page), { timeout: 90_000 }).toEqual(['model-out-of-memory']);
    const [error] = await recordedEvents(page, 'voice-error');
    const message = String(error!.detail['message']);
    expect(message, message).toMatch(/not enough memory to load the voice en_US-joe-medium/i);
    expect(message).toMatch(/close other tabs/i);
    expect(served()).toBe(1);
    await expect.poll(() => workersOf(page, 'tts.worker')).toEqual([true]);
    expect(await cachedModelFiles(page, 'joe-medium')).toEqual(['en_US-joe-medium.onnx']);

    // The next reply tries the voice again (a failed load is retried by the next use):
    // with memory to spare it loads, and the reply is spoken whole.
    await sayInPage(page, REPLY);
    expect(served()).toBe(2);
    expect(await workersOf(page, 'tts.worker')).toEqual([true, false]);
    expect(await responseEnds(page)).toEqual([{ text: REPLY, heardText: REPLY, interrupted: false }]);
    const captured = await readCapturedAudio(page);
    const span = soundSpan(captured.samples, captured.sampleRateHz)!;
    const heard = await transcribe(captured.samples.subarray(span.start, span.end), captured.sampleRateHz);
    expect(wordErrorRate(REPLY, heard).wer, heard).toBeLessThanOrEqual(0.2);
    expect(await errorCodes(page)).toEqual(['model-out-of-memory']);
  } finally {
    await opened.context.unrouteAll({ behavior: 'ignoreErrors' });
    await opened.close();
  }
});

test('the local LLM runs out of memory while loading: model-out-of-memory, its worker ended, its file kept; the next turn loads it and is answered', async () => {
  // A text-mode agent answering with the tiny random-weight LLM (7 MB, test/tiny-random-smollm2):
  // its worker's WebAssembly heap may not grow at all, so creating the session fails.
  const opened = await openAgentPage({
    body: agentMarkup('mode="text" asr-model="none" local-llm="test/tiny-random-smollm2" local-llm-device="wasm" local-llm-max-tokens="8"'),
  });
  try {
    const { page, context } = opened;
    const served = await firstWorkerShortOfMemory(context, '**/assets/llm.worker-*.js', 0);
    await page.evaluate(() => document.querySelector('voice-agent')!.preload().catch(() => {}));
    await expect.poll(() => errorCodes(page), { timeout: 60_000 }).toEqual(['model-out-of-memory']);
    const [error] = await recordedEvents(page, 'voice-error');
    const message = String(error!.detail['message']);
    expect(message, message).toMatch(/not enough memory to load the language model/i);
    expect(message).toMatch(/close other tabs/i);
    expect(served()).toBe(1);
    await expect.poll(() => workersOf(page, 'llm.worker')).toEqual([true]);
    expect(await cachedModelFiles(page, 'tiny-random-smollm2')).toEqual(['model_quantized.onnx']);

    // The next turn loads the model in a new worker, with memory to spare, and is answered.
    await page.evaluate(() => document.querySelector('voice-agent')!.send('Hello'));
    // The random weights say nothing speakable (often only newlines): the history shows the
    // model's reply, generated and not failed.
    const history = () => page.evaluate(() => document.querySelector('voice-agent')!.history.map((e) => ({ ...e })));
    await expect.poll(async () => (await history()).map((e) => e.role), { timeout: 60_000 }).toEqual(['user', 'assistant']);
    const [, reply] = await history();
    expect(reply!.failed).toBeFalsy();
    expect(reply!.content.length).toBeGreaterThan(0);
    expect(served()).toBe(2);
    expect(await workersOf(page, 'llm.worker')).toEqual([true, false]);
    expect(await errorCodes(page)).toEqual(['model-out-of-memory']);
  } finally {
    await opened.context.unrouteAll({ behavior: 'ignoreErrors' });
    await opened.close();
  }
});

/**
 * Speech recognition end to end: real recordings as the microphone, the real Silero and
 * Whisper tiny.en models (../shared/models), the built element in Debian's Chromium.
 */
import { expect, test, type Page } from '@playwright/test';
import { startAgent, waitForPlayback } from './support/agent.ts';
import { agentMarkup, openAgentPage, recordedEvents, type RecordedEvent } from './support/browser.ts';
import { AUDIO_DIR, SCRATCH_DIR, durationSeconds, joinClips, paddedFixture, readWav, silence, writeWav, type Pcm } from './support/wav.ts';
import { normalizeForWer, wordErrorRate } from './support/wer.ts';
import { join } from 'node:path';

interface Transcript {
  readonly text: string;
  readonly final: boolean;
  readonly language: string;
  readonly source: string;
}

async function transcripts(page: Page): Promise<(Transcript & { at: number })[]> {
  return (await recordedEvents(page, 'voice-transcript'))
    .map((e) => ({ ...(e.detail as unknown as Transcript), at: e.at }))
    .filter((t) => t.source === 'speech');
}

const finals = async (page: Page) => (await transcripts(page)).filter((t) => t.final);
const joined = (list: readonly Transcript[]) => list.map((t) => t.text).join(' ');

const JFK = 'english-other/en_jfk_inaugural_1961.wav';
const JFK_TEXT = 'And so, my fellow Americans, ask not what your country can do for you, ask what you can do for your country.';

test('the JFK clip, default turn-taking: a final per phrase turn, in order, reading as the speech', async () => {
  const { path, pcm } = paddedFixture(JFK);
  const opened = await openAgentPage({ micWav: path, body: agentMarkup(process.env.DEBUG_ASR ? 'debug' : '') });
  try {
    const { page } = opened;
    // Loaded and warm before the visitor speaks, as a page that calls preload() has it.
    await page.evaluate(() => document.querySelector('voice-agent')!.preload());
    const t0 = await startAgent(page);
    await waitForPlayback(page, t0, durationSeconds(pcm) + 0.5);
    const final = await finals(page);
    if (process.env.DEBUG_ASR) {
      const debug = await page.evaluate(() => (window as unknown as { __debug: { at: number }[] }).__debug);
      for (const d of debug) console.log(Math.round(d.at - t0), JSON.stringify(d).slice(0, 200));
    }
    // One final per turn (JFK pauses 0.6–1 s between phrases: 3–4 turns at silence-ms 480),
    // in spoken order: together they read as the speech. Whisper hears each phrase alone
    // here, so tiny.en may slip on a word or two ("my" → "am I").
    const turns = await recordedEvents(page, 'voice-speech-end');
    expect(final).toHaveLength(turns.length);
    expect(wordErrorRate(JFK_TEXT, joined(final)).wer, joined(final)).toBeLessThan(0.3);
    for (const t of final) expect(t.language).toBe('en');
    const states = (await recordedEvents(page, 'voice-state-change')).map((e) => e.detail['state']);
    expect(states).toContain('transcribing');
    // The captions show what was said.
    const captions = await page.evaluate(() =>
      Array.from(document.querySelector('voice-agent')!.shadowRoot!.querySelectorAll('[part="caption"]'), (li) => li.textContent ?? ''),
    );
    expect(normalizeForWer(captions.join(' ')).join(' ')).toContain('what your country can do for you');
    // Model files were reported with byte progress.
    const progress = await recordedEvents(page, 'voice-model-progress');
    expect(progress.some((e) => e.detail['model'] === 'asr' && Number(e.detail['loaded']) > 1_000_000)).toBe(true);
    const capabilities = await page.evaluate(() => document.querySelector('voice-agent')!.capabilities);
    expect(capabilities).toMatchObject({ model: 'Xenova/whisper-tiny.en', device: 'wasm', dtype: 'q8', measured: { webgpu: false } });
  } finally {
    await opened.close();
  }
});

test('the JFK clip as one turn: the final transcript contains "ask not what your country can do for you"', async () => {
  const { path, pcm } = paddedFixture(JFK);
  // A 2 s hangover keeps his pauses inside the turn: one turn, one final.
  const opened = await openAgentPage({ micWav: path, body: agentMarkup('silence-ms="2000"') });
  try {
    const { page } = opened;
    const t0 = await startAgent(page);
    await waitForPlayback(page, t0, durationSeconds(pcm) + 2);
    const final = await finals(page);
    expect(final).toHaveLength(1);
    const text = normalizeForWer(final[0]!.text).join(' ');
    expect(text, final[0]!.text).toContain('ask not what your country can do for you');
    expect(text).toContain('ask what you can do for your country');
  } finally {
    await opened.close();
  }
});

for (const clip of ['no-speech/nospeech_dishes_noise_0-20s.wav', 'no-speech/nospeech_picovoice_empty.wav']) {
  test(`noise alone (${clip.split('/').pop()}) gives no transcript at all`, async () => {
    const { path, pcm } = paddedFixture(clip);
    const opened = await openAgentPage({ micWav: path });
    try {
      const { page } = opened;
      await page.evaluate(() => document.querySelector('voice-agent')!.preload());
      const t0 = await startAgent(page);
      await waitForPlayback(page, t0, durationSeconds(pcm) + 0.5);
      expect(await transcripts(page)).toEqual([]);
      expect(await recordedEvents(page, 'voice-error')).toEqual([]);
    } finally {
      await opened.close();
    }
  });
}

test('speech over loud kitchen noise is transcribed without invented words', async () => {
  const clip = 'derived/noisy/noisy_1221-135766-0002_dishes_snr05dB.wav';
  const reference = 'YET THESE THOUGHTS AFFECTED HESTER PRYNNE LESS WITH HOPE THAN APPREHENSION';
  const { path, pcm } = paddedFixture(clip);
  const opened = await openAgentPage({ micWav: path });
  try {
    const { page } = opened;
    const t0 = await startAgent(page);
    await waitForPlayback(page, t0, durationSeconds(pcm) + 0.5);
    const hypothesis = normalizeForWer(joined(await finals(page)));
    const referenceWords = new Set(normalizeForWer(reference));
    // Most words are right, and almost nothing is made up.
    expect(wordErrorRate(reference, hypothesis.join(' ')).wer, hypothesis.join(' ')).toBeLessThan(0.5);
    const invented = hypothesis.filter((word) => !referenceWords.has(word));
    expect(invented.length, hypothesis.join(' ')).toBeLessThanOrEqual(3);
  } finally {
    await opened.close();
  }
});

test('a 40 s+ turn is transcribed whole, not cut at Whisper’s 30 s window', async () => {
  const ids = ['1688-142285-0000', '1688-142285-0001', '1998-15444-0000', '1998-15444-0002'];
  const manifest = await import('node:fs').then((fs) => fs.readFileSync(join(AUDIO_DIR, 'MANIFEST.tsv'), 'utf8'));
  const references = ids.map((id) => manifest.split('\n').find((line) => line.startsWith(`ls_test-other_${id}\t`))!.split('\t')[5]!);
  const clips = ids.map((id) => readWav(join(AUDIO_DIR, `librispeech/test-other/ls_test-other_${id}.wav`)));
  const speech = joinClips(clips, 0.3);
  expect(durationSeconds(speech)).toBeGreaterThan(40);
  const rate = speech.sampleRateHz;
  const padded = joinClips([{ sampleRateHz: rate, samples: silence(1, rate) }, speech, { sampleRateHz: rate, samples: silence(1.5, rate) }]);
  const path = writeWav(join(SCRATCH_DIR, 'librispeech-40s-joined.wav'), padded);
  // silence-ms 2000 keeps the reader's own pauses inside one turn.
  const opened = await openAgentPage({ micWav: path, body: agentMarkup('silence-ms="2000"') });
  try {
    const { page } = opened;
    const t0 = await startAgent(page);
    await waitForPlayback(page, t0, durationSeconds(padded) + 2.5);
    const turns = await recordedEvents(page, 'voice-speech-end');
    expect(turns).toHaveLength(1);
    expect(Number(turns[0]!.detail['durationMs'])).toBeGreaterThan(40_000);
    const final = await finals(page);
    expect(final).toHaveLength(1);
    // Partials kept coming while the reader was still talking, adapted to the recognizer's
    // pace (one call at a time): at least one every ~8 s of speech on this 2-core machine.
    const partials = (await transcripts(page)).filter((t) => !t.final && t.at < turns[0]!.at);
    expect(partials.length, JSON.stringify(partials.map((p) => p.text))).toBeGreaterThanOrEqual(5);
    const reference = references.join(' ');
    const { wer } = wordErrorRate(reference, final[0]!.text);
    expect(wer, final[0]!.text).toBeLessThan(0.25);
    // The last clip's closing words are there: nothing was dropped at the end.
    expect(normalizeForWer(final[0]!.text).slice(-6).join(' ')).toContain(normalizeForWer(references[3]!).slice(-2).join(' '));
  } finally {
    await opened.close();
  }
});

/** The first error event with `code`, if any. */
async function errorWith(page: Page, code: string): Promise<RecordedEvent | undefined> {
  return (await recordedEvents(page, 'voice-error')).find((e) => e.detail['code'] === code);
}

for (const fault of [
  { name: 'missing (404)', file: 'encoder_model_quantized.onnx', respond: { status: 404, body: 'Not found' } },
  {
    name: 'an HTML page',
    file: 'config.json',
    respond: { status: 200, contentType: 'text/html', body: '<!doctype html><title>App</title><p>index' },
  },
  {
    name: 'corrupt',
    file: 'decoder_model_merged_quantized.onnx',
    respond: { status: 200, contentType: 'application/octet-stream', body: Buffer.alloc(4096, 0x5a) },
  },
]) {
  test(`a Whisper file that is ${fault.name} gives a voice-error naming it; turns and typing still work`, async () => {
    const { path, pcm } = paddedFixture('english-other/en_goforward.wav');
    const opened = await openAgentPage({ micWav: path });
    try {
      const { page, context } = opened;
      await context.route(`**/models/Xenova/whisper-tiny.en/**/${fault.file}`, (route) => route.fulfill(fault.respond));
      const t0 = await startAgent(page);
      await expect.poll(() => errorWith(page, 'model-load-failed'), { timeout: 60_000 }).toBeTruthy();
      const error = (await errorWith(page, 'model-load-failed'))!;
      expect(String(error.detail['message'])).toContain(fault.file);
      expect(error.detail['recoverable']).toBe(true);
      // No hang: the spoken turn is still cut by the VAD and the element keeps listening.
      await waitForPlayback(page, t0, durationSeconds(pcm) + 0.5);
      expect(await recordedEvents(page, 'voice-speech-end')).toHaveLength(1);
      expect(await finals(page)).toEqual([]);
      await page.evaluate(() => document.querySelector('voice-agent')!.send('typed instead'));
      const typed = (await recordedEvents(page, 'voice-transcript')).filter((e) => e.detail['source'] === 'text');
      expect(typed.map((e) => e.detail['text'])).toEqual(['typed instead']);
    } finally {
      await opened.close();
    }
  });
}

/** Starts listening, lets the fake mic play `pcm`, and expects one final transcript containing `words`. */
async function expectOneTurnHeard(page: Page, pcm: Pcm, words: string): Promise<void> {
  const t0 = await startAgent(page);
  await waitForPlayback(page, t0, durationSeconds(pcm) + 0.5);
  await expect.poll(() => finals(page), { timeout: 60_000 }).toHaveLength(1);
  expect(normalizeForWer((await finals(page))[0]!.text).join(' ')).toContain(words);
}

test('forced WebGPU failure: the worker falls back to WASM and the turn is still transcribed', async () => {
  // The page sees a WebGPU adapter (stubbed on the main thread), but the worker has none
  // (no --enable-unsafe-webgpu), so loading Whisper on WebGPU fails for real inside it.
  const { path, pcm } = paddedFixture('english-other/en_goforward.wav');
  const fakeAdapter = `Object.defineProperty(navigator, 'gpu', { configurable: true, value: {
    requestAdapter: async () => ({ features: new Set(), limits: {}, requestDevice: async () => { throw new Error('stub'); } }),
  } });`;
  const opened = await openAgentPage({
    micWav: path,
    initScripts: [fakeAdapter],
    body: agentMarkup('asr-device="webgpu" asr-dtype=\'{"encoder_model":"fp32","decoder_model_merged":"q8"}\''),
  });
  try {
    const { page } = opened;
    await expectOneTurnHeard(page, pcm, 'go forward');
    expect(await errorWith(page, 'gpu-fallback')).toBeTruthy();
    const capabilities = await page.evaluate(() => document.querySelector('voice-agent')!.capabilities);
    expect(capabilities).toMatchObject({ device: 'wasm', measured: { webgpu: true } });
    expect(capabilities?.fallback).toBeTruthy();
  } finally {
    await opened.close();
  }
});

test('a WebGPU adapter request that never answers: the probe gives up in time and the turn is transcribed on WASM', async () => {
  // Some drivers leave navigator.gpu.requestAdapter() pending forever; the element must not
  // wait with them. The stub is on the page (where the probe runs), at the browser boundary.
  const { path, pcm } = paddedFixture('english-other/en_goforward.wav');
  const hangingAdapter = `Object.defineProperty(navigator, 'gpu', { configurable: true, value: {
    requestAdapter: () => { window.__adapterRequests = (window.__adapterRequests ?? 0) + 1; return new Promise(() => {}); },
  } });`;
  const opened = await openAgentPage({ micWav: path, initScripts: [hangingAdapter], body: agentMarkup('asr-device="auto"') });
  try {
    const { page } = opened;
    await expectOneTurnHeard(page, pcm, 'go forward');
    expect(await page.evaluate(() => (window as unknown as { __adapterRequests?: number }).__adapterRequests)).toBeGreaterThan(0);
    const capabilities = await page.evaluate(() => document.querySelector('voice-agent')!.capabilities);
    expect(capabilities).toMatchObject({ device: 'wasm', measured: { webgpu: false } });
  } finally {
    await opened.close();
  }
});

test('WebGPU path (SwiftShader): a short clip is transcribed correctly on the GPU backend', async () => {
  test.setTimeout(540_000);
  const { path } = paddedFixture('english-other/en_goforward.wav', 1, 3);
  const opened = await openAgentPage({
    micWav: path,
    extraArgs: ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader', '--use-webgpu-adapter=swiftshader'],
    body: agentMarkup('asr-device="webgpu" asr-dtype=\'{"encoder_model":"fp32","decoder_model_merged":"q8"}\''),
  });
  try {
    const { page } = opened;
    await startAgent(page);
    // SwiftShader runs WebGPU on the CPU: minutes, not seconds (TESTING.md). No timing here.
    await expect.poll(() => finals(page), { timeout: 480_000, intervals: [2000] }).toHaveLength(1);
    expect(normalizeForWer((await finals(page))[0]!.text).join(' ')).toContain('go forward ten meters');
    const capabilities = await page.evaluate(() => document.querySelector('voice-agent')!.capabilities);
    expect(capabilities).toMatchObject({ device: 'webgpu', model: 'Xenova/whisper-tiny.en' });
    expect(capabilities?.fallback).toBeUndefined();
    expect(await errorWith(page, 'gpu-fallback')).toBeUndefined();
  } finally {
    await opened.close();
  }
});

/**
 * TTS worker: Piper voices on onnxruntime-web (WASM), one clause at a time.
 *
 * Text arrives already split into clauses and cleaned (src/speaking/speakable-text.ts). Per
 * clause: espeak-ng phonemes (the {@link Phonemizer} seam) → ids through the voice's own
 * `phoneme_id_map` → one model run with the voice's inference scales (length scale
 * divided by the speaking rate) → PCM resampled to the playback context's rate, with the
 * span of actual speech marked, transferred back.
 *
 * Scheduling: one model run at a time (the CPU is the limit; overlapping runs only slow
 * each other). Waiting clauses are served first-clause-first: a new reply's opening words
 * never queue behind the long later clauses of another. Queued clauses of a reply are
 * dropped by `cancel(replyId)`; a run in progress finishes (ONNX Runtime cannot abort one),
 * which the clause length cap keeps short.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web/wasm';
import { phonemesToIds, parseVoiceConfig, type Phonemizer, type PiperVoiceConfig } from '../src/speaking/piper-voice.ts';
import type {
  FileProgress,
  SynthesisRequest,
  SynthesisResult,
  TtsAssets,
  TtsWorkerApi,
  VoiceInfo,
  VoiceSource,
} from '../src/platform/protocol.ts';
import { StreamingResampler } from '../src/audio/resampler.ts';
import { EspeakPhonemizer } from './espeak-phonemizer.ts';
import { forgetModelBytes, loadModelBytes } from './model-bytes.ts';
import { fileNameOf, isOutOfMemory, namedError, outOfMemoryError } from './worker-utils.ts';
import { folderManifest } from './model-manifest.ts';

/** Amplitude above which a sample counts as speech when marking the voiced span. */
const VOICED_LEVEL = 0.01;

interface LoadedVoice {
  readonly config: PiperVoiceConfig;
  readonly session: ort.InferenceSession;
  readonly info: VoiceInfo;
}

interface Job {
  readonly request: SynthesisRequest;
  readonly enqueuedAt: number;
  resolve(result: SynthesisResult | null): void;
  reject(error: unknown): void;
}

const voices = new Map<string, Promise<LoadedVoice>>();
let phonemizer: (Phonemizer & { onProgress: ((p: FileProgress) => void) | null }) | null = null;
let runtimeReady = false;
const queue: Job[] = [];
let busy = false;

function configureRuntime(assets: TtsAssets): void {
  if (runtimeReady) return;
  runtimeReady = true;
  ort.env.wasm.wasmPaths = { wasm: assets.ortWasmUrl };
  ort.env.wasm.proxy = false;
  // Two threads when the page is cross-origin isolated (SharedArrayBuffer): a Piper run
  // is the one place where a second core shortens time to first audio. Without isolation
  // (a third-party embed) ONNX Runtime can only use one.
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.max(1, Math.min(2, navigator.hardwareConcurrency || 1)) : 1;
}

async function loadVoice(assets: TtsAssets, source: VoiceSource, onProgress: (p: FileProgress) => void): Promise<LoadedVoice> {
  const started = performance.now();
  configureRuntime(assets);
  phonemizer ??= new EspeakPhonemizer({
    workerUrl: assets.phonemizerWorkerUrl,
    wasmUrl: assets.phonemizerWasmUrl,
    dataUrl: assets.phonemizerDataUrl,
  });
  phonemizer.onProgress = onProgress;
  const what = `the voice ${source.id}`;
  const localOnly = source.localOnly === true;
  const checked = { manifest: folderManifest(source.manifestFolder, localOnly), localOnly };
  const [configBytes, modelBytes] = await Promise.all([
    loadModelBytes(source.configUrl, `${what} (its config)`, onProgress, checked),
    loadModelBytes(source.modelUrl, what, onProgress, checked),
    phonemizer.load(),
  ]).catch((error: unknown) => {
    throw isOutOfMemory(error) ? outOfMemoryError(what, error) : error;
  });
  const configFile = fileNameOf(source.configUrl);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(configBytes));
  } catch (error) {
    await forgetModelBytes(source.configUrl);
    throw namedError('model-load-failed', `${configFile} (${source.configUrl}) is not valid JSON: ${String(error)}`);
  }
  let config: PiperVoiceConfig;
  try {
    config = parseVoiceConfig(json, `${configFile} (${source.configUrl})`);
  } catch (error) {
    await forgetModelBytes(source.configUrl);
    throw namedError('model-load-failed', error instanceof Error ? error.message : String(error));
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(new Uint8Array(modelBytes), {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    });
  } catch (error) {
    if (isOutOfMemory(error)) throw outOfMemoryError(what, error);
    await forgetModelBytes(source.modelUrl);
    throw namedError(
      'model-load-failed',
      `${fileNameOf(source.modelUrl)} (${source.modelUrl}) is not a usable Piper voice model: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  for (const name of ['input', 'input_lengths', 'scales']) {
    if (!session.inputNames.includes(name)) {
      await session.release().catch(() => {});
      throw namedError('model-load-failed', `${fileNameOf(source.modelUrl)} is not a Piper voice model (no "${name}" input).`);
    }
  }
  const voice: LoadedVoice = {
    config,
    session,
    info: { id: source.id, sampleRateHz: config.sampleRateHz, loadMs: 0 },
  };
  // Warm-up: the first run of a session allocates its buffers; keep that out of the
  // first reply. Two lengths, so both a short and a sentence-sized clause are warm.
  for (const text of ['Hello there.', 'This is a slightly longer sentence to warm up the voice.']) {
    await synthesizeWith(voice, { text, speakingRate: 1, outputRateHz: config.sampleRateHz });
  }
  return { ...voice, info: { ...voice.info, loadMs: performance.now() - started } };
}

interface SynthesisInput {
  readonly text: string;
  readonly speakingRate: number;
  readonly outputRateHz: number;
}

async function synthesizeWith(voice: LoadedVoice, input: SynthesisInput): Promise<Omit<SynthesisResult, 'queuedMs'>> {
  if (!phonemizer) throw namedError('speech-failed', 'The phonemizer is not loaded.');
  const { config, session } = voice;
  const t0 = performance.now();
  const sentences = await phonemizer.phonemize(input.text, config);
  const { ids, dropped } = phonemesToIds(sentences, config.phonemeIdMap);
  const t1 = performance.now();
  if (ids.length === 0) {
    return { pcm: new Float32Array(0), voicedStartFrame: 0, voicedEndFrame: 0, dropped, phonemizeMs: t1 - t0, inferenceMs: 0, audioMs: 0 };
  }
  const rate = Number.isFinite(input.speakingRate) && input.speakingRate > 0 ? input.speakingRate : 1;
  const feeds: Record<string, ort.Tensor> = {
    input: new ort.Tensor('int64', BigInt64Array.from(ids, (id) => BigInt(id)), [1, ids.length]),
    input_lengths: new ort.Tensor('int64', BigInt64Array.from([BigInt(ids.length)]), [1]),
    scales: new ort.Tensor('float32', Float32Array.from([config.noiseScale, config.lengthScale / rate, config.noiseW]), [3]),
  };
  if (config.numSpeakers > 1 && session.inputNames.includes('sid')) {
    feeds['sid'] = new ort.Tensor('int64', BigInt64Array.from([0n]), [1]);
  }
  let raw: Float32Array;
  try {
    const outputs = await session.run(feeds);
    const output = outputs[session.outputNames[0]!];
    if (!output || !(output.data instanceof Float32Array)) throw new Error('no float32 audio output');
    raw = output.data;
  } catch (error) {
    throw namedError('speech-failed', `The voice could not synthesize "${input.text.slice(0, 40)}": ${String(error)}`);
  }
  const t2 = performance.now();
  const pcm = resample(raw, config.sampleRateHz, input.outputRateHz);
  const [voicedStartFrame, voicedEndFrame] = voicedSpan(pcm);
  return {
    pcm,
    voicedStartFrame,
    voicedEndFrame,
    dropped,
    phonemizeMs: t1 - t0,
    inferenceMs: t2 - t1,
    audioMs: (raw.length / config.sampleRateHz) * 1000,
  };
}

/** Resamples a whole clip (each clause is independent: it starts and ends in silence). */
function resample(pcm: Float32Array, fromHz: number, toHz: number): Float32Array {
  if (fromHz === toHz) return pcm.slice();
  const resampler = new StreamingResampler(fromHz, toHz);
  const head = resampler.process(pcm);
  // Flush the filter's look-ahead with zeros, then cut to the exact converted length.
  const tail = resampler.process(new Float32Array(2 * StreamingResampler.HALF_TAPS));
  const length = Math.round((pcm.length * toHz) / fromHz);
  const out = new Float32Array(length);
  out.set(head.subarray(0, length));
  if (head.length < length) out.set(tail.subarray(0, length - head.length), head.length);
  return out;
}

function voicedSpan(pcm: Float32Array): [number, number] {
  let start = 0;
  while (start < pcm.length && Math.abs(pcm[start]!) < VOICED_LEVEL) start++;
  let end = pcm.length;
  while (end > start && Math.abs(pcm[end - 1]!) < VOICED_LEVEL) end--;
  return start >= end ? [0, pcm.length] : [start, end];
}

/** Runs queued jobs one at a time, first clauses first. */
async function pump(): Promise<void> {
  if (busy) return;
  busy = true;
  try {
    for (;;) {
      const index = Math.max(0, queue.findIndex((job) => job.request.first));
      const job = queue.splice(index, 1)[0];
      if (!job) break;
      const started = performance.now();
      try {
        const voice = await voices.get(job.request.voiceId);
        if (!voice) throw namedError('speech-failed', `The voice ${job.request.voiceId} is not loaded.`);
        const result = await synthesizeWith(voice, job.request);
        job.resolve(Comlink.transfer({ ...result, queuedMs: started - job.enqueuedAt }, [result.pcm.buffer]));
      } catch (error) {
        job.reject(error);
      }
    }
  } finally {
    busy = false;
  }
}

const api: TtsWorkerApi = {
  async loadVoice(assets, source, onProgress) {
    const report = (progress: FileProgress) => void Promise.resolve(onProgress(progress)).catch(() => {});
    let loading = voices.get(source.id);
    if (!loading) {
      loading = loadVoice(assets, source, report);
      voices.set(source.id, loading);
      // A failed load is forgotten, so the next attempt (a fixed URL, a retry) starts afresh.
      loading.catch(() => voices.delete(source.id));
    }
    return (await loading).info;
  },

  synthesize(request) {
    return new Promise<SynthesisResult | null>((resolve, reject) => {
      queue.push({ request, enqueuedAt: performance.now(), resolve, reject });
      void pump();
    });
  },

  async cancel(replyId) {
    for (let i = queue.length - 1; i >= 0; i--) {
      if (queue[i]!.request.replyId === replyId) queue.splice(i, 1)[0]!.resolve(null);
    }
  },

  async dispose() {
    for (const job of queue.splice(0)) job.resolve(null);
    for (const loading of voices.values()) {
      void loading.then((voice) => voice.session.release()).catch(() => {});
    }
    voices.clear();
    phonemizer?.dispose();
    phonemizer = null;
  },
};

Comlink.expose(api);

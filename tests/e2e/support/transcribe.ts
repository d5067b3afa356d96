/**
 * Transcribes captured audio with the real Whisper tiny.en model from ../shared/models,
 * in Node (transformers.js on onnxruntime-node, CPU, q8): "it speaks" is checked by a
 * recognizer, not by looking at our own bookkeeping. Reusable by any spec or benchmark.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StreamingResampler } from '../../../src/audio/resampler.ts';
import { MODELS_DIR } from './wav.ts';

export const WHISPER_MODEL = 'Xenova/whisper-tiny.en';

type Recognizer = (audio: Float32Array) => Promise<{ text: string } | { text: string }[]>;
let recognizer: Promise<Recognizer> | null = null;

async function load(): Promise<Recognizer> {
  if (!existsSync(join(MODELS_DIR, WHISPER_MODEL, 'onnx', 'encoder_model_quantized.onnx'))) {
    throw new Error(`${join(MODELS_DIR, WHISPER_MODEL)} is missing: the tests need ../shared/models beside the repository.`);
  }
  const { env, pipeline } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = `${MODELS_DIR}/`;
  return (await pipeline('automatic-speech-recognition', WHISPER_MODEL, { dtype: 'q8' })) as unknown as Recognizer;
}

/** Resamples mono PCM to 16 kHz (Whisper's rate) with the project's own resampler. */
export function to16k(samples: Float32Array, sampleRateHz: number): Float32Array {
  if (sampleRateHz === 16_000) return samples;
  const resampler = new StreamingResampler(sampleRateHz, 16_000);
  const head = resampler.process(samples);
  const tail = resampler.process(new Float32Array(64));
  const out = new Float32Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out.subarray(0, Math.round((samples.length * 16_000) / sampleRateHz));
}

/** Whisper's transcript of mono PCM at any rate (30 s windows are chunked by the pipeline). */
export async function transcribe(samples: Float32Array, sampleRateHz: number): Promise<string> {
  recognizer ??= load();
  const asr = await recognizer;
  const result = await asr(to16k(samples, sampleRateHz));
  const text = Array.isArray(result) ? result.map((r) => r.text).join(' ') : result.text;
  return text.trim();
}

/**
 * ASR worker: Whisper through transformers.js (`automatic-speech-recognition`), on WebGPU
 * or WASM. One model per worker; the controller terminates the worker to switch device.
 *
 * Audio arrives transferred (no copies). Calls are answered strictly in order: a turn's
 * call never interleaves with another (transformers.js shares one inference chain, and
 * interleaved generate() loops would only slow both).
 */
import * as Comlink from 'comlink';
import type { AutomaticSpeechRecognitionPipeline } from '@huggingface/transformers';
import { isEnglishOnlyModel } from '../src/hearing/asr-plan.ts';
import type { AsrLoadConfig, AsrRequest, AsrResult, AsrWorkerApi } from '../src/platform/protocol.ts';
import { PipelineSlot } from './transformers-env.ts';
import { SerialQueue, namedError } from './worker-utils.ts';

/** Whisper's window: longer audio is transcribed in overlapping 30 s chunks. */
const WINDOW_SECONDS = 30;
const CHUNK_STRIDE_SECONDS = 5;
const SAMPLE_RATE_HZ = 16_000;

const slot = new PipelineSlot<AutomaticSpeechRecognitionPipeline, AsrLoadConfig>(
  'automatic-speech-recognition',
  (config) => `the speech recognizer ${config.model} (${config.device})`,
  (recognizer) => recognizer(new Float32Array(SAMPLE_RATE_HZ / 2)),
);
/** Calls run one at a time, in order. */
const queue = new SerialQueue();

async function detectLanguage(audio: Float32Array): Promise<string> {
  // Whisper's first generated token after <|startoftranscript|> is its language token.
  const pipe = slot.pipe!;
  const features = (await pipe.processor(audio.subarray(0, WINDOW_SECONDS * SAMPLE_RATE_HZ))).input_features;
  const output = (await pipe.model.generate({ inputs: features, max_new_tokens: 1 })) as unknown as {
    tolist(): bigint[][];
  };
  const tokens = output.tolist()[0] ?? [];
  const decoded = pipe.tokenizer.decode(tokens.slice(1, 2).map(Number), { skip_special_tokens: false });
  return /<\|([a-z]{2,3})\|>/.exec(decoded)?.[1] ?? 'und';
}

const api: AsrWorkerApi = {
  load(config, onProgress) {
    return slot.load(config, onProgress);
  },

  transcribe(request: AsrRequest): Promise<AsrResult> {
    return queue.run(async () => {
      const { pipe, config } = slot;
      if (!pipe || !config) throw namedError('model-load-failed', 'The speech recognizer is not loaded.');
      const started = performance.now();
      const englishOnly = isEnglishOnlyModel(config.model);
      let language = englishOnly ? 'en' : (request.language ?? 'und');
      if (!englishOnly && !request.language) language = await detectLanguage(request.audio);
      const long = request.audio.length > WINDOW_SECONDS * SAMPLE_RATE_HZ;
      try {
        const output = await pipe(request.audio, {
          // English-only checkpoints reject language/task; multilingual ones get both.
          ...(englishOnly ? {} : { task: request.task, ...(language === 'und' ? {} : { language }) }),
          ...(long ? { chunk_length_s: WINDOW_SECONDS, stride_length_s: CHUNK_STRIDE_SECONDS } : {}),
        });
        const text = (Array.isArray(output) ? output[0]?.text : output.text) ?? '';
        return { text: text.trim(), language, inferenceMs: performance.now() - started };
      } catch (error) {
        throw namedError('transcription-failed', `Speech recognition failed (${config.device}): ${String(error)}`);
      }
    });
  },

  async dispose() {
    await queue.idle();
    await slot.dispose();
  },
};

Comlink.expose(api);

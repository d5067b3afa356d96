/**
 * ASR worker: one recognizer through transformers.js, on WebGPU or WASM. One model per
 * worker; the controller terminates the worker to switch model or device.
 *
 * Two families:
 * - **Whisper** (`automatic-speech-recognition` pipeline): multilingual checkpoints detect
 *   the language (one decoder step) when none is given, and translate on request.
 * - **Moonshine** (English): its encoder takes the raw waveform, so a call costs what the
 *   audio is long. Called through `generate()` directly: exports differ in whether the
 *   encoder wants an attention mask, and the pipeline would bound the output at
 *   `floor(seconds) × 6` tokens — zero for a half-second partial.
 *
 * Audio arrives transferred (no copies). Calls are answered strictly in order: a turn's
 * call never interleaves with another (transformers.js shares one inference chain, and
 * interleaved generate() loops would only slow both).
 */
import * as Comlink from 'comlink';
import { Tensor, type AutomaticSpeechRecognitionPipeline } from '@huggingface/transformers';
import { isEnglishOnlyModel } from '../src/hearing/asr-plan.ts';
import { moonshineChunks, moonshineMaxTokens } from '../src/hearing/moonshine-chunks.ts';
import { LOOP_RETRY_NO_REPEAT_NGRAM, collapseRepetitions, hasRepetitionLoop, whisperMaxTokens } from '../src/hearing/repetition.ts';
import type { AsrLoadConfig, AsrRequest, AsrResult, AsrWorkerApi } from '../src/platform/protocol.ts';
import { PipelineSlot } from './transformers-env.ts';
import { SerialQueue, namedError } from './worker-utils.ts';

/** Whisper's window: longer audio is transcribed in overlapping 30 s chunks. */
const WINDOW_SECONDS = 30;
const CHUNK_STRIDE_SECONDS = 5;
const SAMPLE_RATE_HZ = 16_000;

/** The parts of a loaded pipeline this worker reaches into (typed loosely by transformers.js). */
interface RecognizerModel {
  config: { model_type?: string };
  sessions: Record<string, { inputNames: string[] }>;
  forward_params: string[];
  generation_config?: { lang_to_id?: Record<string, number>; decoder_start_token_id?: number };
  generate(inputs: Record<string, unknown>): Promise<unknown>;
  forward(inputs: Record<string, unknown>): Promise<{ logits: Tensor }>;
}

const slot = new PipelineSlot<AutomaticSpeechRecognitionPipeline, AsrLoadConfig>(
  'automatic-speech-recognition',
  (config) => `the speech recognizer ${config.model} (${config.device})`,
  // Half a second of silence: kernels compile and buffers are allocated outside a turn.
  (pipe, config) => recognize(pipe, config, new Float32Array(SAMPLE_RATE_HZ / 2), { task: 'transcribe', language: 'en' }),
);
/** Calls run one at a time, in order. */
const queue = new SerialQueue();

type Pipe = AutomaticSpeechRecognitionPipeline;

function modelOf(pipe: Pipe): RecognizerModel {
  return pipe.model as unknown as RecognizerModel;
}

/**
 * Whisper's language: the most likely language token after `<|startoftranscript|>`, from
 * one decoder step (transformers.js' generate() assumes English when none is given).
 */
async function detectLanguage(pipe: Pipe, audio: Float32Array): Promise<string> {
  const whisper = modelOf(pipe);
  const languages = Object.entries(whisper.generation_config?.lang_to_id ?? {});
  const start = whisper.generation_config?.decoder_start_token_id ?? 50258;
  if (languages.length === 0) return 'und';
  const features = (await pipe.processor(audio.subarray(0, WINDOW_SECONDS * SAMPLE_RATE_HZ))).input_features;
  const { logits } = await whisper.forward({
    input_features: features,
    decoder_input_ids: new Tensor('int64', BigInt64Array.from([BigInt(start)]), [1, 1]),
  });
  const scores = logits.data as Float32Array; // [1, 1, vocabulary]
  let best = languages[0]!;
  for (const entry of languages) if (scores[entry[1]]! > scores[best[1]]!) best = entry;
  return /<\|([a-z]{2,3})\|>/.exec(best[0])?.[1] ?? 'und';
}

async function transcribeWithWhisper(pipe: Pipe, audio: Float32Array, englishOnly: boolean, language: string, task: AsrRequest['task']) {
  const long = audio.length > WINDOW_SECONDS * SAMPLE_RATE_HZ;
  const decode = async (extra: Record<string, unknown>) => {
    const output = await pipe(audio, {
      // English-only checkpoints reject language/task; multilingual ones get both.
      ...(englishOnly ? {} : { task, ...(language === 'und' ? {} : { language }) }),
      ...(long ? { chunk_length_s: WINDOW_SECONDS, stride_length_s: CHUNK_STRIDE_SECONDS } : {}),
      // Without a bound a looping decoder runs to 448 tokens: seconds of work for garbage.
      max_new_tokens: whisperMaxTokens(audio.length / SAMPLE_RATE_HZ),
      ...extra,
    });
    return (Array.isArray(output) ? output[0]?.text : output.text) ?? '';
  };
  const text = await decode({});
  // A loop: decode once more with repeated token n-grams forbidden (see repetition.ts).
  return hasRepetitionLoop(text) ? decode({ no_repeat_ngram_size: LOOP_RETRY_NO_REPEAT_NGRAM }) : text;
}

async function transcribeWithMoonshine(pipe: Pipe, audio: Float32Array): Promise<string> {
  const moonshine = modelOf(pipe);
  // Moonshine AI's own export wants the masks that transformers.js does not pass by default.
  const wantsMask = moonshine.sessions['model']?.inputNames.includes('attention_mask') ?? false;
  if (wantsMask && !moonshine.forward_params.includes('attention_mask')) moonshine.forward_params.push('attention_mask');
  const texts: string[] = [];
  for (const chunk of moonshineChunks(audio, SAMPLE_RATE_HZ)) {
    const inputs = (await pipe.processor(chunk)) as { input_values: Tensor };
    const samples = inputs.input_values.dims.at(-1)!;
    const mask = wantsMask ? { attention_mask: new Tensor('int64', new BigInt64Array(samples).fill(1n), [1, samples]) } : {};
    const tokens = await moonshine.generate({ ...inputs, ...mask, max_new_tokens: moonshineMaxTokens(chunk.length / SAMPLE_RATE_HZ) });
    texts.push(pipe.tokenizer.batch_decode(tokens as Tensor, { skip_special_tokens: true })[0] ?? '');
  }
  return texts.map((text) => text.trim()).filter(Boolean).join(' ');
}

/** One recognizer call; `language` undefined lets a multilingual Whisper detect it. */
async function recognize(
  pipe: Pipe,
  config: AsrLoadConfig,
  audio: Float32Array,
  request: Pick<AsrRequest, 'language' | 'task'>,
): Promise<{ text: string; language: string }> {
  const recognizer = modelOf(pipe);
  if (recognizer.config.model_type === 'moonshine') return { text: await transcribeWithMoonshine(pipe, audio), language: 'en' };
  const englishOnly = isEnglishOnlyModel(config.model) || !recognizer.generation_config?.lang_to_id;
  const language = englishOnly ? 'en' : (request.language ?? (await detectLanguage(pipe, audio)));
  const text = await transcribeWithWhisper(pipe, audio, englishOnly, language, request.task);
  // Translation gives English text whatever was spoken.
  return { text, language: request.task === 'translate' && !englishOnly ? 'en' : language };
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
      try {
        const { text, language } = await recognize(pipe, config, request.audio, request);
        return { text: collapseRepetitions(text).trim(), language, inferenceMs: performance.now() - started };
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

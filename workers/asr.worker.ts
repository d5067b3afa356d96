/**
 * ASR worker: Whisper through transformers.js (`automatic-speech-recognition`), on WebGPU
 * or WASM. One model per worker; the controller terminates the worker to switch device.
 *
 * Audio arrives transferred (no copies). Calls are answered strictly in order: a turn's
 * call never interleaves with another (transformers.js shares one inference chain, and
 * interleaved generate() loops would only slow both).
 */
import * as Comlink from 'comlink';
import { env, pipeline, type AutomaticSpeechRecognitionPipeline } from '@huggingface/transformers';
import { isEnglishOnlyModel } from '../src/core/asr-plan.ts';
import type { AsrLoadConfig, AsrRequest, AsrResult, AsrWorkerApi, FileProgress } from '../src/core/protocol.ts';
import { fileNameOf, namedError } from './worker-utils.ts';

/** Whisper's window: longer audio is transcribed in overlapping 30 s chunks. */
const WINDOW_SECONDS = 30;
const CHUNK_STRIDE_SECONDS = 5;
const SAMPLE_RATE_HZ = 16_000;

let recognizer: AutomaticSpeechRecognitionPipeline | null = null;
let loaded: AsrLoadConfig | null = null;
let loading: Promise<void> | null = null;
/** The tail of the call chain: each call starts when the previous one has settled. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * transformers.js fetches every file through `env.fetch`. This one turns the failures a
 * static host produces (an HTML fallback page, an empty or non-ONNX body) into errors that
 * name the file, instead of a JSON or protobuf parse error three layers down. 404s pass
 * through: transformers.js decides which files are optional, and names a required one.
 */
function checkingFetch(baseFetch: typeof fetch): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    let response: Response;
    try {
      response = await baseFetch(input, init);
    } catch (error) {
      throw namedError('model-load-failed', `Could not download ${fileNameOf(url)} (${url}): ${String(error)}`);
    }
    if (!response.ok) return response;
    if ((response.headers.get('content-type') ?? '').includes('text/html')) {
      throw namedError('model-load-failed', `${fileNameOf(url)} (${url}) is an HTML page, not a model file.`);
    }
    if (!url.split('?')[0]!.endsWith('.onnx') || !response.body) return response;
    return new Response(response.body.pipeThrough(onnxGuard(url)), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/**
 * Checks an ONNX download as it streams: a ModelProto starts with field 1 (ir_version,
 * a varint: byte 0x08), and the body must not be empty. A damaged file fails here, named.
 */
function onnxGuard(url: string): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      if (seen === 0 && chunk.byteLength > 0 && chunk[0] !== 0x08) {
        controller.error(namedError('model-load-failed', `${fileNameOf(url)} (${url}) is not an ONNX model (damaged or wrong file).`));
        return;
      }
      seen += chunk.byteLength;
      controller.enqueue(chunk);
    },
    flush(controller) {
      if (seen === 0) controller.error(namedError('model-load-failed', `${fileNameOf(url)} (${url}) is empty.`));
    },
  });
}

const DEFAULT_FETCH = env.fetch as unknown as typeof fetch;

function configureEnvironment(config: AsrLoadConfig): void {
  env.allowLocalModels = false;
  env.allowRemoteModels = true;
  if (config.modelBaseUrl) {
    env.remoteHost = `${config.modelBaseUrl}/`;
    env.remotePathTemplate = '{model}/';
  }
  env.fetch = checkingFetch(DEFAULT_FETCH) as typeof env.fetch;
  // Cache Storage keeps the weights for the next visit (transformers.js' own cache).
  env.useBrowserCache = typeof caches !== 'undefined';
  const onnx = env.backends.onnx;
  if (onnx.wasm) {
    onnx.wasm.wasmPaths = { mjs: config.ortWasm.mjs, wasm: config.ortWasm.wasm };
    onnx.wasm.numThreads = config.threads;
    onnx.wasm.proxy = false;
  }
}

/** Drops this model's files from Cache Storage, so a damaged copy is not served again. */
async function forgetCachedFiles(model: string): Promise<void> {
  if (typeof caches === 'undefined') return;
  try {
    const cache = await caches.open(env.cacheKey);
    for (const request of await cache.keys()) {
      if (request.url.includes(`/${model}/`)) await cache.delete(request);
    }
  } catch {
    // Cache Storage may be unavailable (opaque origins); nothing to forget then.
  }
}

/** The file transformers.js was fetching when it failed, for messages that name it. */
let lastFile = '';

function describeLoadError(error: unknown, config: AsrLoadConfig): Error {
  if (error instanceof Error && error.name === 'model-load-failed') return error;
  const message = error instanceof Error ? error.message : String(error);
  const missing = /Could not locate file: "?([^"\s]+)"?/.exec(message);
  // Name the file in flight only when the failure is about a file's contents.
  const aboutContents = /protobuf|parse|invalid|corrupt|JSON|Unexpected token|load model/i.test(message);
  const file = missing?.[1] ? fileNameOf(missing[1]) : aboutContents ? lastFile : '';
  return namedError(
    'model-load-failed',
    `Could not load the speech recognizer ${config.model} (${config.device})${file ? `, file ${file}` : ''}: ${message}`,
  );
}

function serialized<T>(task: () => Promise<T>): Promise<T> {
  const run = queue.then(task, task);
  queue = run.catch(() => undefined);
  return run;
}

async function detectLanguage(audio: Float32Array): Promise<string> {
  // Whisper's first generated token after <|startoftranscript|> is its language token.
  const pipe = recognizer!;
  const features = (await pipe.processor(audio.subarray(0, WINDOW_SECONDS * SAMPLE_RATE_HZ))).input_features;
  const output = (await pipe.model.generate({ inputs: features, max_new_tokens: 1 })) as unknown as {
    tolist(): bigint[][];
  };
  const tokens = output.tolist()[0] ?? [];
  const decoded = pipe.tokenizer.decode(tokens.slice(1, 2).map(Number), { skip_special_tokens: false });
  return /<\|([a-z]{2,3})\|>/.exec(decoded)?.[1] ?? 'und';
}

const api: AsrWorkerApi = {
  async load(config, onProgress) {
    if (loaded && (loaded.model !== config.model || loaded.device !== config.device)) {
      throw namedError('model-load-failed', `This worker already holds ${loaded.model}; start a new one.`);
    }
    loading ??= (async () => {
      configureEnvironment(config);
      const report = (progress: FileProgress) => void Promise.resolve(onProgress(progress)).catch(() => {});
      try {
        recognizer = (await pipeline('automatic-speech-recognition', config.model, {
          device: config.device,
          dtype: config.dtype as never,
          progress_callback: (info: { status: string; file?: string; loaded?: number; total?: number }) => {
            if (!info.file) return;
            if (info.status === 'initiate' || info.status === 'download') lastFile = fileNameOf(info.file);
            if (info.status === 'progress') {
              report({ file: fileNameOf(info.file), loaded: info.loaded ?? 0, total: info.total ?? 0 });
            }
          },
        })) as AutomaticSpeechRecognitionPipeline;
        // Warm-up: the first call compiles kernels and allocates; keep that out of a turn.
        await recognizer(new Float32Array(SAMPLE_RATE_HZ / 2));
        loaded = config;
      } catch (error) {
        await recognizer?.dispose().catch(() => {});
        recognizer = null;
        await forgetCachedFiles(config.model);
        throw describeLoadError(error, config);
      }
    })();
    try {
      await loading;
    } catch (error) {
      loading = null;
      throw error;
    }
  },

  transcribe(request: AsrRequest): Promise<AsrResult> {
    return serialized(async () => {
      const pipe = recognizer;
      const config = loaded;
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
    await queue;
    await recognizer?.dispose();
    recognizer = null;
    loaded = null;
    loading = null;
  },
};

Comlink.expose(api);

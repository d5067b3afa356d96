/**
 * What every transformers.js worker (ASR, local LLM) sets up the same way: model files
 * from `model-base-url` through a fetch that names bad files, onnxruntime's wasm runtime
 * from our own origin (never a CDN), Cache Storage for the weights (and its cleanup after
 * a failed load), byte progress, and load errors that name the file.
 */
import { env, pipeline } from '@huggingface/transformers';
import type { FileProgress, ModelRuntimeConfig } from '../src/platform/protocol.ts';
import { fetchFollowingNoRedirect, isRedirect, localOnlyViolation, pageOrigin, redirectRefused, staysOnOrigin } from '../src/platform/local-only.ts';
import { TRANSFORMERS_CACHE_NAME } from '../src/platform/model-cache.ts';
import { folderManifest, manifestCheck, manifestMismatch, MANIFEST_NAME, type ManifestLookup } from './model-manifest.ts';
import { resumableFetch } from './resumable-fetch.ts';
import { fileNameOf, isOutOfMemory, isQuotaError, namedError, outOfMemoryError } from './worker-utils.ts';

/**
 * transformers.js fetches every file through `env.fetch`. This one turns the failures a
 * static host produces (an HTML fallback page, an empty or non-ONNX body) into errors that
 * name the file, instead of a JSON or protobuf parse error three layers down. 404s pass
 * through: transformers.js decides which files are optional, and names a required one.
 */
function checkingFetch(baseFetch: typeof fetch, localOnly: boolean, manifest: ManifestLookup): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    // The page checked the planned URLs; this catches any other file transformers.js asks
    // for (a CDN default) before it leaves the origin, and a redirect the host answers with.
    if (localOnly && !staysOnOrigin(url, pageOrigin())) {
      throw namedError('local-only-violation', localOnlyViolation({ attribute: 'model-base-url', url, what: fileNameOf(url) }, pageOrigin()).message);
    }
    let response: Response;
    try {
      response = await baseFetch(input, init);
    } catch (error) {
      throw namedError('model-load-failed', `Could not download ${fileNameOf(url)} (${url}): ${String(error)}`);
    }
    if (localOnly && isRedirect(response)) throw namedError('local-only-violation', redirectRefused(url, fileNameOf(url)).message);
    if (!response.ok) return response;
    if ((response.headers.get('content-type') ?? '').includes('text/html')) {
      throw namedError('model-load-failed', `${fileNameOf(url)} (${url}) is an HTML page, not a model file.`);
    }
    const entry = await manifest(url);
    const isModel = url.split('?')[0]!.endsWith('.onnx');
    if ((!isModel && !entry) || !response.body) return response;
    let body: ReadableStream<Uint8Array> = response.body;
    if (isModel) body = body.pipeThrough(onnxGuard(url));
    if (entry) {
      const fail = (reason: string) => namedError('model-load-failed', `${fileNameOf(url)} (${url}) does not match the folder's ${MANIFEST_NAME}: ${reason}.`);
      body = body.pipeThrough(manifestCheck(entry, fail));
    }
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/**
 * Checks a model download as it streams: an ONNX ModelProto starts with field 1
 * (ir_version, a varint: byte 0x08); an ORT-format model (onnxruntime's FlatBuffer, as
 * Moonshine AI ships its int8 files) reads `ORTM` at bytes 4–8. The body must not be
 * empty. A damaged file fails here, named.
 */
function onnxGuard(url: string): TransformStream<Uint8Array, Uint8Array> {
  let head = new Uint8Array(0);
  let checked = false;
  const fail = (controller: TransformStreamDefaultController<Uint8Array>, why: string) =>
    controller.error(namedError('model-load-failed', `${fileNameOf(url)} (${url}) ${why}`));
  return new TransformStream({
    transform(chunk, controller) {
      if (!checked) {
        // Hold bytes back until the first eight are in (chunks can be tiny).
        const joined = new Uint8Array(head.byteLength + chunk.byteLength);
        joined.set(head);
        joined.set(chunk, head.byteLength);
        if (joined.byteLength < 8 && joined[0] !== 0x08) {
          head = joined;
          return;
        }
        checked = true;
        if (!isModelHeader(joined)) return fail(controller, 'is not an ONNX model (damaged or wrong file).');
        controller.enqueue(joined);
        return;
      }
      controller.enqueue(chunk);
    },
    flush(controller) {
      if (checked) return;
      if (head.byteLength === 0) return fail(controller, 'is empty.');
      if (!isModelHeader(head)) return fail(controller, 'is not an ONNX model (damaged or wrong file).');
      controller.enqueue(head);
    },
  });
}

/** ONNX protobuf (`0x08` first) or ORT format (`ORTM` at bytes 4–8). */
export function isModelHeader(bytes: Uint8Array): boolean {
  if (bytes[0] === 0x08) return true;
  return bytes.byteLength >= 8 && String.fromCharCode(...bytes.subarray(4, 8)) === 'ORTM';
}

const DEFAULT_FETCH = env.fetch as unknown as typeof fetch;

/** Points transformers.js at our files and runtime. Call before the first `pipeline()`. */
export function configureTransformers(config: ModelRuntimeConfig): void {
  env.allowLocalModels = false;
  env.allowRemoteModels = true;
  if (config.modelBaseUrl) {
    env.remoteHost = `${config.modelBaseUrl}/`;
    env.remotePathTemplate = '{model}/';
  }
  // `local-only` keeps transformers.js' remote mode: its "remote host" is then our own
  // `model-base-url` (the page checked it is on the origin), and the fetch below refuses
  // anything else. (Its local mode, `allowRemoteModels = false` with `localModelPath` set
  // to the base URL, failed to load Whisper's preprocessor config in Chromium.) A download
  // cut off mid-file is resumed (or retried) before the checks see it.
  // Under `local-only` no redirect is followed, retries and resumed downloads included.
  const networkFetch = config.localOnly ? fetchFollowingNoRedirect(DEFAULT_FETCH) : DEFAULT_FETCH;
  env.fetch = checkingFetch(resumableFetch(networkFetch), config.localOnly === true, folderManifest(config.modelBaseUrl, config.localOnly === true, DEFAULT_FETCH)) as typeof env.fetch;
  // Cache Storage keeps the weights for the next visit (transformers.js' own bucket, named
  // here because page code lists and clears it: src/platform/model-cache.ts).
  env.useBrowserCache = typeof caches !== 'undefined';
  env.cacheKey = TRANSFORMERS_CACHE_NAME;
  // transformers.js would otherwise fetch onnxruntime's wasm factory (`.mjs`) into Cache
  // Storage and import it from a blob: URL, which a Content-Security-Policy allowing only
  // 'self' scripts refuses (README "Content-Security-Policy"). Off, onnxruntime imports the
  // factory and streams the wasm from their own same-origin URLs (the HTTP cache keeps them).
  env.useWasmCache = false;
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

/**
 * Why a cached copy cannot be served, or undefined when it can: it must be as long as it
 * was stored, and a model file must start like one ({@link isModelHeader}). Junk or a
 * truncated copy (a disk fault, a write cut short, an old file at that URL) fails, and is
 * then fetched afresh: a model that failed to parse inside onnxruntime could not simply be
 * loaded again in the same worker (measured: the second session failed too), so the check
 * comes first.
 */
async function unservable(url: string, cached: Response, manifest: ManifestLookup): Promise<string | undefined> {
  const blob = await cached.clone().blob();
  const stated = Number(cached.headers.get('content-length'));
  if (blob.size === 0) return 'it is empty';
  if (stated > 0 && blob.size !== stated) return `it is ${blob.size} bytes, stored as ${stated}`;
  // With the folder's manifest, nothing less than its SHA-256 will do.
  const entry = await manifest(url);
  if (entry) return manifestMismatch(new Uint8Array(await blob.arrayBuffer()), entry);
  if (!url.split('?')[0]!.endsWith('.onnx')) return undefined;
  return isModelHeader(new Uint8Array(await blob.slice(0, 8).arrayBuffer())) ? undefined : 'it does not start like an ONNX model';
}

/**
 * transformers.js' browser cache, through our hands: the same Cache Storage bucket, but a
 * cached copy is checked before it is served ({@link unservable}; a bad one is deleted,
 * named in a console warning, and downloaded again), and a `put` the quota refuses is reported (`onFull`, with the file's
 * name) instead of only logged to the console. `Cache.put` stores a whole entry or
 * nothing, so a refused file leaves nothing half-written; it is downloaded again next visit.
 */
function reportingCache(onFull: (file: string) => void, manifest: ManifestLookup) {
  let opened: Promise<Cache | null> | undefined;
  const open = () => (opened ??= caches.open(env.cacheKey).catch(() => null));
  return {
    async match(request: string) {
      const cache = await open();
      const cached = await cache?.match(request);
      if (!cached) return undefined;
      const damage = await unservable(request, cached, manifest).catch((error: unknown) => `it could not be read (${String(error)})`);
      if (damage === undefined) return cached;
      await cache!.delete(request).catch(() => false);
      console.warn(`voice-agent: the cached copy of ${fileNameOf(request)} (${request}) was dropped and is downloaded again: ${damage}.`);
      return undefined;
    },
    async put(request: string, response: Response) {
      const cache = await open();
      try {
        await cache?.put(request, response);
      } catch (error) {
        // Any other failure only costs the cache, as in transformers.js itself.
        if (isQuotaError(error)) onFull(fileNameOf(request));
      }
    },
    async delete(request: string) {
      return (await open())?.delete(request) ?? false;
    },
  };
}

/** transformers.js' `progress_callback` payload (the fields we use). */
interface ProgressInfo {
  status: string;
  file?: string;
  loaded?: number;
  total?: number;
}

/**
 * Follows a `pipeline()` load: forwards byte progress to `onProgress` (never letting a
 * failed report break the load) and remembers the file in flight, so a failure can name it.
 */
export class LoadTracker {
  /** The file transformers.js was fetching most recently. */
  lastFile = '';

  constructor(private readonly onProgress: (progress: FileProgress) => unknown) {}

  /** Reports that `file` loaded but Cache Storage refused to keep it (quota). */
  cacheFull(file: string): void {
    void Promise.resolve(this.onProgress({ file, loaded: 0, total: 0, cacheFull: true })).catch(() => {});
  }

  readonly progressCallback = (info: ProgressInfo): void => {
    if (!info.file) return;
    if (info.status === 'initiate' || info.status === 'download') this.lastFile = fileNameOf(info.file);
    if (info.status === 'progress') {
      // The path inside the model folder (e.g. onnx/model_quantized.onnx): it tells apart
      // files that share a name across subfolders.
      const progress = { file: info.file, loaded: info.loaded ?? 0, total: info.total ?? 0 };
      void Promise.resolve(this.onProgress(progress)).catch(() => {});
    }
  };

  /**
   * A `model-load-failed` error for a failed load of `what` (e.g. "the speech recognizer
   * Xenova/whisper-tiny.en (wasm)"), naming the missing or damaged file when it is known.
   */
  describe(error: unknown, what: string): Error {
    if (error instanceof Error && (error.name === 'model-load-failed' || error.name === 'local-only-violation')) return error;
    const message = error instanceof Error ? error.message : String(error);
    const missing = /Could not locate file: "?([^"\s]+)"?/.exec(message);
    // Name the file in flight only when the failure is about a file's contents.
    const aboutContents = /protobuf|parse|invalid|corrupt|JSON|Unexpected token|load model/i.test(message);
    const file = missing?.[1] ? fileNameOf(missing[1]) : aboutContents ? this.lastFile : '';
    return namedError('model-load-failed', `Could not load ${what}${file ? `, file ${file}` : ''}: ${message}`);
  }
}

/** What identifies a loaded model: a worker holds one and is replaced to change it. */
interface ModelChoice extends ModelRuntimeConfig {
  readonly model: string;
  readonly device: 'webgpu' | 'wasm';
  readonly dtype: unknown;
}

/**
 * A worker's one transformers.js pipeline: loaded once (concurrent calls share the load; a
 * failed load forgets the cached files, names the file, and may be tried again), warmed up,
 * then used by the worker's calls through `pipe` and `config`.
 */
export class PipelineSlot<Pipe extends { dispose(): Promise<unknown> }, Config extends ModelChoice> {
  pipe: Pipe | null = null;
  config: Config | null = null;
  private loading: Promise<void> | null = null;

  /**
   * @param task the transformers.js pipeline task
   * @param describe how failures name the model ("the speech recognizer X (wasm)")
   * @param warmUp a first call, so kernel compilation and allocation stay out of a turn
   */
  constructor(
    private readonly task: 'automatic-speech-recognition' | 'text-generation',
    private readonly describe: (config: Config) => string,
    private readonly warmUp: (pipe: Pipe, config: Config) => Promise<unknown>,
  ) {}

  async load(config: Config, onProgress: (progress: FileProgress) => unknown): Promise<void> {
    const held = this.config;
    if (held && (held.model !== config.model || held.device !== config.device || JSON.stringify(held.dtype) !== JSON.stringify(config.dtype))) {
      throw namedError('model-load-failed', `This worker already holds ${held.model}; start a new one.`);
    }
    this.loading ??= this.loadOnce(config, onProgress);
    try {
      await this.loading;
    } catch (error) {
      this.loading = null;
      throw error;
    }
  }

  async dispose(): Promise<void> {
    await this.pipe?.dispose();
    this.pipe = null;
    this.config = null;
    this.loading = null;
  }

  /** One load; a failed one drops the model's cached files (a damaged copy is not served again). */
  private async loadOnce(config: Config, onProgress: (progress: FileProgress) => unknown): Promise<void> {
    configureTransformers(config);
    const tracker = new LoadTracker(onProgress);
    if (env.useBrowserCache) {
      env.useCustomCache = true;
      env.customCache = reportingCache((file) => tracker.cacheFull(file), folderManifest(config.modelBaseUrl, config.localOnly === true, DEFAULT_FETCH));
    }
    let pipe: Pipe | null = null;
    try {
      pipe = (await pipeline(this.task, config.model, {
        device: config.device,
        dtype: config.dtype as never,
        progress_callback: tracker.progressCallback,
      })) as unknown as Pipe;
      await this.warmUp(pipe, config);
      this.pipe = pipe;
      this.config = config;
    } catch (error) {
      await pipe?.dispose().catch(() => {});
      // Running out of memory says nothing against the files: they stay cached for the next try.
      if (isOutOfMemory(error)) throw outOfMemoryError(this.describe(config), error);
      await forgetCachedFiles(config.model);
      throw tracker.describe(error, this.describe(config));
    }
  }
}

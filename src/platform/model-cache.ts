/**
 * What the element keeps in Cache Storage, for page code: list it (per model, in bytes)
 * and clear it (all of it, or one model). Two buckets:
 *
 * - {@link TRANSFORMERS_CACHE_NAME}: transformers.js' files (the recognizer, the local LLM),
 *   keyed by URL in the hub layout (`…/{org}/{name}/resolve/{revision}/{file}`) or the
 *   `model-base-url` layout (`…/{org}/{name}/{file}`, weights under `onnx/`);
 * - {@link MODEL_CACHE_NAME}: the files the element fetches itself (Silero VAD, Smart Turn,
 *   the Piper voice and its config, the phonemizer's data), one entry per file.
 *
 * Cache Storage belongs to the origin, not to an element: these are static on the class.
 */

/** The element's own bucket (see workers/model-bytes.ts). */
export const MODEL_CACHE_NAME = 'voice-agent-models';
/** Stored with each entry of {@link MODEL_CACHE_NAME}: the file's length, so a truncated or damaged copy is noticed. */
export const CACHED_BYTES_HEADER = 'x-voice-agent-bytes';
/** transformers.js' bucket (its default name, set explicitly by the workers). */
export const TRANSFORMERS_CACHE_NAME = 'transformers-cache';

/** One model's files in Cache Storage. */
export interface CachedModel {
  /**
   * The model id for recognizer / LLM files (`Xenova/whisper-tiny.en`); for the files the
   * element fetches itself, the file's name without extensions (`en_US-joe-medium`,
   * `silero_vad`).
   */
  readonly model: string;
  /** The Cache Storage bucket holding it. */
  readonly cache: string;
  /** Its files' URLs. */
  readonly urls: readonly string[];
  /** Their total size in bytes. */
  readonly bytes: number;
}

/** The parts of `CacheStorage` used here (a fake in unit tests). */
export interface CacheStorageLike {
  has(name: string): Promise<boolean>;
  open(name: string): Promise<Pick<Cache, 'keys' | 'match' | 'delete'>>;
}

/** Which model a cached URL belongs to (see {@link CachedModel.model}). */
export function modelOfUrl(url: string, cache: string): string {
  let path: string[];
  try {
    path = new URL(url).pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return url;
  }
  const file = path.at(-1) ?? url;
  if (cache !== TRANSFORMERS_CACHE_NAME) return file.replace(/(\.(onnx|json|ort|bin|data|txt|wasm))+$/, '');
  const resolve = path.indexOf('resolve');
  if (resolve >= 2) return path.slice(resolve - 2, resolve).join('/');
  const folders = path.slice(0, -1);
  if (folders.at(-1) === 'onnx') folders.pop();
  return folders.slice(-2).join('/') || file;
}

/** A cached entry's size: the length we stored with it, its content-length, or its body. */
async function entryBytes(response: Response): Promise<number> {
  const stated = Number(response.headers.get(CACHED_BYTES_HEADER) ?? response.headers.get('content-length'));
  if (Number.isFinite(stated) && stated > 0) return stated;
  return (await response.blob()).size;
}

function browserCaches(): CacheStorageLike | undefined {
  return typeof caches === 'undefined' ? undefined : caches;
}

/** Every model with files in the element's caches, largest first. Empty where Cache Storage is unavailable. */
export async function listCachedModels(storage = browserCaches()): Promise<CachedModel[]> {
  if (!storage) return [];
  const models = new Map<string, { model: string; cache: string; urls: string[]; bytes: number }>();
  for (const cacheName of [TRANSFORMERS_CACHE_NAME, MODEL_CACHE_NAME]) {
    // `has` first: `open` would create an empty bucket just by looking.
    if (!(await storage.has(cacheName))) continue;
    const cache = await storage.open(cacheName);
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      if (!response) continue;
      const model = modelOfUrl(request.url, cacheName);
      const entry = models.get(`${cacheName} ${model}`) ?? { model, cache: cacheName, urls: [], bytes: 0 };
      entry.urls.push(request.url);
      entry.bytes += await entryBytes(response);
      models.set(`${cacheName} ${model}`, entry);
    }
  }
  return [...models.values()].sort((a, b) => b.bytes - a.bytes);
}

/**
 * Deletes the cached files of `model` (as {@link listCachedModels} names it), or of every
 * model when none is given. Resolves to the number of files deleted. A model in use keeps
 * working (it is in memory); it is downloaded again on the next visit.
 */
export async function clearModelCache(model?: string, storage = browserCaches()): Promise<number> {
  if (!storage) return 0;
  let deleted = 0;
  for (const cacheName of [TRANSFORMERS_CACHE_NAME, MODEL_CACHE_NAME]) {
    if (!(await storage.has(cacheName))) continue;
    const cache = await storage.open(cacheName);
    for (const request of await cache.keys()) {
      if (model !== undefined && modelOfUrl(request.url, cacheName) !== model) continue;
      if (await cache.delete(request)) deleted++;
    }
  }
  return deleted;
}

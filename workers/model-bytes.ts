/**
 * The model files this project fetches itself (Silero VAD, Smart Turn, Piper voices, the
 * phonemizer's files): downloaded with progress, resumed when cut off, checked against the
 * folder's manifest, and kept in Cache Storage for the next visit.
 */
import type { FileProgress } from '../src/platform/protocol.ts';
import { CACHED_BYTES_HEADER, MODEL_CACHE_NAME } from '../src/platform/model-cache.ts';
import { fetchFollowingNoRedirect, isRedirect, redirectRefused } from '../src/platform/local-only.ts';
import { manifestMismatch, MANIFEST_NAME, type ManifestLookup } from './model-manifest.ts';
import { resumableFetch } from './resumable-fetch.ts';
import { fileNameOf, isQuotaError, namedError } from './worker-utils.ts';

/**
 * The Cache Storage bucket for the model files this project fetches itself (Silero VAD,
 * Smart Turn, Piper voices, the phonemizer's files). The recognizer and the local LLM go
 * through transformers.js' own cache instead. (Named in src/, where page code lists and
 * clears both.)
 */
export { MODEL_CACHE_NAME };

/** The parts of Cache Storage used here (a fake in unit tests). */
export interface ModelCacheStorage {
  open(name: string): Promise<Pick<Cache, 'match' | 'put' | 'delete'>>;
}

function browserCaches(): ModelCacheStorage | undefined {
  return typeof caches === 'undefined' ? undefined : caches;
}

async function openModelCache(storage: ModelCacheStorage | undefined) {
  try {
    return (await storage?.open(MODEL_CACHE_NAME)) ?? null;
  } catch {
    return null; // opaque origins, private modes without storage: fetch every time
  }
}

/** The cached copy of `url`, or null; an entry whose length does not match what was stored is dropped. */
async function cachedModelBytes(storage: ModelCacheStorage | undefined, url: string): Promise<ArrayBuffer | null> {
  const cache = await openModelCache(storage);
  if (!cache) return null;
  try {
    const hit = await cache.match(url);
    if (!hit) return null;
    const expected = Number(hit.headers.get(CACHED_BYTES_HEADER));
    const bytes = await hit.arrayBuffer();
    if (bytes.byteLength > 0 && bytes.byteLength === expected) return bytes;
  } catch {
    // An unreadable entry is as good as a damaged one.
  }
  await cache.delete(url).catch(() => false);
  return null;
}

/**
 * Drops `url` from the model cache: the file came back whole but would not load (a
 * damaged copy, or an old file at that URL), so the next attempt downloads it again.
 */
export async function forgetModelBytes(url: string, storage = browserCaches()): Promise<void> {
  const cache = await openModelCache(storage);
  await cache?.delete(url).catch(() => false);
}

/** Where {@link loadModelBytes} keeps files, and what it checks them against. */
export interface ModelBytesOptions {
  /** Cache Storage (a fake in unit tests); undefined: the browser's. */
  readonly storage?: ModelCacheStorage;
  /** The model folder's manifest (see model-manifest.ts); absent: nothing to check against. */
  readonly manifest?: ManifestLookup;
  /** `local-only`: a redirect is not followed but fails with `local-only-violation` (see local-only.ts). */
  readonly localOnly?: boolean;
}

/**
 * Fetches a model file with byte progress and checks that it is one: a 404, an HTML page
 * served in its place (a common static-host fallback) or an empty body becomes a clear
 * error naming the file, not a protobuf parse failure three layers down. A whole file is
 * kept in Cache Storage ({@link MODEL_CACHE_NAME}) and served from there on later visits.
 * When the folder has a manifest that lists the file, a cached copy that differs from it is
 * dropped (with a console warning naming it) and downloaded again, and a download that
 * differs fails naming the file.
 */
export async function loadModelBytes(
  url: string,
  what: string,
  onProgress?: (progress: FileProgress) => void,
  { storage = browserCaches(), manifest, localOnly = false }: ModelBytesOptions = {},
): Promise<ArrayBuffer> {
  const file = fileNameOf(url);
  const entry = await manifest?.(url);
  const cached = await cachedModelBytes(storage, url);
  const cachedDiffers = cached && entry ? await manifestMismatch(new Uint8Array(cached), entry) : undefined;
  if (cached && !cachedDiffers) {
    onProgress?.({ file, loaded: cached.byteLength, total: cached.byteLength });
    return cached;
  }
  if (cachedDiffers) {
    console.warn(`voice-agent: the cached copy of ${file} (${url}) was dropped and is downloaded again: ${cachedDiffers}.`);
    await forgetModelBytes(url, storage);
  }
  let response: Response;
  try {
    // A download cut off mid-file is resumed (or retried); see resumable-fetch.ts.
    response = await resumableFetch(localOnly ? fetchFollowingNoRedirect(fetch) : fetch)(url);
  } catch (error) {
    throw namedError('model-load-failed', `Could not download ${what} (${url}): ${String(error)}`);
  }
  if (localOnly && isRedirect(response)) throw namedError('local-only-violation', redirectRefused(url, what).message);
  if (!response.ok) {
    throw namedError('model-load-failed', `Could not download ${what} (${url}): HTTP ${response.status}`);
  }
  if ((response.headers.get('content-type') ?? '').includes('text/html')) {
    throw namedError('model-load-failed', `${url} returned an HTML page instead of ${what}.`);
  }
  // With a content-encoding, content-length counts compressed bytes: useless as a total.
  const encoding = response.headers.get('content-encoding');
  const total = encoding && encoding !== 'identity' ? 0 : Number(response.headers.get('content-length')) || 0;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = response.body?.getReader();
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.byteLength;
      onProgress?.({ file, loaded, total });
    }
  } else {
    const bytes = new Uint8Array(await response.arrayBuffer());
    chunks.push(bytes);
    loaded = bytes.byteLength;
  }
  if (loaded === 0) throw namedError('model-load-failed', `${url} is empty (expected ${what}).`);
  if (total && loaded < total) {
    throw namedError('model-load-failed', `${url} was cut off (${loaded} of ${total} bytes).`);
  }
  onProgress?.({ file, loaded, total: total || loaded });
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  const differs = entry ? await manifestMismatch(bytes, entry) : undefined;
  if (differs) {
    throw namedError('model-load-failed', `${file} (${url}), ${what}, does not match the folder's ${MANIFEST_NAME}: ${differs}.`);
  }
  void keepModelBytes(storage, url, bytes).then((kept) => {
    if (kept === 'quota') onProgress?.({ file, loaded, total: total || loaded, cacheFull: true });
  });
  return bytes.buffer;
}

/**
 * Stores a downloaded file (a copy: the caller may hand its buffer on). Best effort: a full
 * disk only costs the cache, and `Cache.put` stores a whole entry or nothing. Says whether
 * the quota refused it, so the element can tell the page.
 */
async function keepModelBytes(storage: ModelCacheStorage | undefined, url: string, bytes: Uint8Array): Promise<'kept' | 'quota' | 'failed'> {
  const cache = await openModelCache(storage);
  if (!cache) return 'failed';
  const headers = { 'content-type': 'application/octet-stream', [CACHED_BYTES_HEADER]: String(bytes.byteLength) };
  try {
    await cache.put(url, new Response(bytes.slice(), { headers }));
    return 'kept';
  } catch (error) {
    return isQuotaError(error) ? 'quota' : 'failed';
  }
}

import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import type { ManifestEntry, ManifestLookup } from './model-manifest.ts';
import { forgetModelBytes, loadModelBytes, MODEL_CACHE_NAME, type ModelCacheStorage } from './model-bytes.ts';

/** A fake of Cache Storage's one bucket, holding Responses in a Map. */
class FakeCacheStorage implements ModelCacheStorage {
  readonly entries = new Map<string, Response>();
  opened: string[] = [];
  async open(name: string) {
    this.opened.push(name);
    return {
      match: async (url: RequestInfo | URL) => this.entries.get(String(url))?.clone(),
      put: async (url: RequestInfo | URL, response: Response) => void this.entries.set(String(url), response),
      delete: async (url: RequestInfo | URL) => this.entries.delete(String(url)),
    } as unknown as Cache;
  }
}

const URL_ = 'https://models.example/voice/en.onnx';

function serveOnce(bytes: Uint8Array) {
  const fetched = vi.fn(async () => new Response(bytes.slice(), { headers: { 'content-length': String(bytes.length) } }));
  vi.stubGlobal('fetch', fetched);
  return fetched;
}

/** Lets the best-effort cache write that loadModelBytes does not wait for finish. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

afterEach(() => vi.unstubAllGlobals());

describe('loadModelBytes with a model cache', () => {
  it('downloads once and serves the second load from the cache', async () => {
    const storage = new FakeCacheStorage();
    const file = new Uint8Array([1, 2, 3, 4, 5]);
    const fetched = serveOnce(file);
    const first = await loadModelBytes(URL_, 'a voice', undefined, { storage });
    await settle();
    const progress: unknown[] = [];
    const second = await loadModelBytes(URL_, 'a voice', (p) => progress.push(p), { storage });
    expect(fetched).toHaveBeenCalledTimes(1);
    expect(new Uint8Array(first)).toEqual(file);
    expect(new Uint8Array(second)).toEqual(file);
    expect(storage.opened.every((name) => name === MODEL_CACHE_NAME)).toBe(true);
    expect(progress).toEqual([{ file: 'en.onnx', loaded: 5, total: 5 }]);
  });

  it('drops a cached copy whose length does not match and downloads again', async () => {
    const storage = new FakeCacheStorage();
    storage.entries.set(URL_, new Response(new Uint8Array([9, 9]), { headers: { 'x-voice-agent-bytes': '5' } }));
    const file = new Uint8Array([1, 2, 3, 4, 5]);
    const fetched = serveOnce(file);
    const bytes = await loadModelBytes(URL_, 'a voice', undefined, { storage });
    expect(fetched).toHaveBeenCalledTimes(1);
    expect(new Uint8Array(bytes)).toEqual(file);
    await settle();
    expect(new Uint8Array(await storage.entries.get(URL_)!.clone().arrayBuffer())).toEqual(file);
  });

  it('forgets a file that came back whole but would not load', async () => {
    const storage = new FakeCacheStorage();
    serveOnce(new Uint8Array([1, 2, 3]));
    await loadModelBytes(URL_, 'a voice', undefined, { storage });
    await settle();
    expect(storage.entries.has(URL_)).toBe(true);
    await forgetModelBytes(URL_, storage);
    expect(storage.entries.has(URL_)).toBe(false);
  });

  it('still loads when Cache Storage cannot be opened', async () => {
    const broken: ModelCacheStorage = { open: () => Promise.reject(new Error('SecurityError')) };
    serveOnce(new Uint8Array([7]));
    expect(new Uint8Array(await loadModelBytes(URL_, 'a voice', undefined, { storage: broken }))).toEqual(new Uint8Array([7]));
  });
});

describe('loadModelBytes with a model folder manifest', () => {
  const file = new Uint8Array([1, 2, 3, 4, 5]);
  const entry: ManifestEntry = { path: 'voice/en.onnx', bytes: 5, sha256: createHash('sha256').update(file).digest('hex') };
  /** A fake lookup: the manifest lists URL_ as `entry`. */
  const manifest: ManifestLookup = async (url) => (url === URL_ ? entry : undefined);

  it('drops a cached copy of the same length that differs from the manifest, warns naming it, and downloads again', async () => {
    const storage = new FakeCacheStorage();
    storage.entries.set(URL_, new Response(new Uint8Array([1, 2, 3, 4, 6]), { headers: { 'x-voice-agent-bytes': '5' } }));
    const fetched = serveOnce(file);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const bytes = await loadModelBytes(URL_, 'a voice', undefined, { storage, manifest });
    expect(new Uint8Array(bytes)).toEqual(file);
    expect(fetched).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls.join(' ')).toMatch(/cached copy of en\.onnx .* dropped .*SHA-256/);
    warn.mockRestore();
    await settle();
    expect(new Uint8Array(await storage.entries.get(URL_)!.clone().arrayBuffer())).toEqual(file);
  });

  it('serves a cached copy that matches without downloading', async () => {
    const storage = new FakeCacheStorage();
    storage.entries.set(URL_, new Response(file.slice(), { headers: { 'x-voice-agent-bytes': '5' } }));
    const fetched = serveOnce(file);
    expect(new Uint8Array(await loadModelBytes(URL_, 'a voice', undefined, { storage, manifest }))).toEqual(file);
    expect(fetched).not.toHaveBeenCalled();
  });

  it('fails a download that differs from the manifest with model-load-failed naming the file, and keeps nothing', async () => {
    const storage = new FakeCacheStorage();
    serveOnce(new Uint8Array([1, 2, 3, 4, 0]));
    const failed = loadModelBytes(URL_, 'a voice', undefined, { storage, manifest });
    await expect(failed).rejects.toMatchObject({ name: 'model-load-failed' });
    await expect(failed).rejects.toThrow(/en\.onnx .*a voice, does not match the folder's voice-agent-models\.json: its SHA-256/);
    await settle();
    expect(storage.entries.has(URL_)).toBe(false);
  });
});

describe('loadModelBytes under local-only', () => {
  it('asks fetch not to follow redirects, and a redirect fails with local-only-violation naming the file; nothing is kept', async () => {
    const storage = new FakeCacheStorage();
    // A fake of Node's answer to a `redirect: 'manual'` fetch (a browser's is an opaque redirect).
    const fetched = vi.fn(async (_url: string, init?: RequestInit) =>
      init?.redirect === 'manual'
        ? new Response(null, { status: 302, headers: { location: 'https://cdn.elsewhere.example/en.onnx' } })
        : new Response(new Uint8Array([1, 2, 3])),
    );
    vi.stubGlobal('fetch', fetched);
    const error = await loadModelBytes(URL_, 'the voice en', undefined, { storage, localOnly: true }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'local-only-violation' });
    expect(String((error as Error).message)).toContain(URL_);
    expect(String((error as Error).message)).toContain('redirect');
    expect(fetched).toHaveBeenCalledTimes(1);
    await settle();
    expect(storage.entries.size).toBe(0);
    // Without local-only the same host's file loads (fetch follows redirects as usual).
    expect(new Uint8Array(await loadModelBytes(URL_, 'the voice en', undefined, { storage }))).toEqual(new Uint8Array([1, 2, 3]));
  });
});

import { describe, expect, it } from 'vitest';
import { resumableFetch } from './resumable-fetch.ts';

const FILE = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
const URL_ = 'http://fake.test/models/m/onnx/model.onnx';
const noSleep = { attempts: 3, backoffMs: 100 };

/** A body that delivers `bytes` in 100-byte chunks and then errors after `cutAfter` of them (if given). */
function body(bytes: Uint8Array, cutAfter?: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (cutAfter !== undefined && offset >= cutAfter) return controller.error(new TypeError('fake: connection reset'));
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + 100));
      offset += 100;
    },
  });
}

/**
 * A fake file server: the first `cuts` responses are cut off after 300 bytes; it honours
 * Range with 206 when `ranges`, else answers 200 with the whole file.
 */
function fakeServer(options: { cuts: number; ranges: boolean }) {
  const requests: (string | null)[] = [];
  let cuts = options.cuts;
  const fetcher = (async (_input: RequestInfo | URL, init?: RequestInit) => {
    const range = new Headers(init?.headers).get('range');
    requests.push(range);
    const cut = cuts-- > 0 ? 300 : undefined;
    const from = options.ranges && range ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
    return new Response(body(FILE.slice(from), cut), {
      status: from > 0 ? 206 : 200,
      headers: { 'content-length': String(FILE.byteLength - from) },
    });
  }) as typeof fetch;
  return { fetcher, requests };
}

async function bytesOf(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer());
}

describe('resumableFetch', () => {
  it('a body cut off mid-file resumes with a Range request where the server honours it', async () => {
    const sleeps: number[] = [];
    const server = fakeServer({ cuts: 1, ranges: true });
    const response = await resumableFetch(server.fetcher, { ...noSleep, sleep: async (ms) => void sleeps.push(ms) })(URL_);
    expect(await bytesOf(response)).toEqual(FILE);
    expect(server.requests).toEqual([null, 'bytes=300-']);
    expect(sleeps).toEqual([100]);
  });

  it('without Range support the file is fetched again and the bytes already delivered skipped', async () => {
    const server = fakeServer({ cuts: 2, ranges: false });
    const sleeps: number[] = [];
    const response = await resumableFetch(server.fetcher, { ...noSleep, sleep: async (ms) => void sleeps.push(ms) })(URL_);
    expect(await bytesOf(response)).toEqual(FILE);
    expect(server.requests).toHaveLength(3);
    expect(sleeps).toEqual([100, 200]); // backoff doubles
  });

  it('a connection that is always cut off fails after the last try, naming the file', async () => {
    const server = fakeServer({ cuts: 99, ranges: true });
    const response = await resumableFetch(server.fetcher, { ...noSleep, sleep: async () => {} })(URL_);
    const failure = await bytesOf(response).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).name).toBe('model-load-failed');
    expect((failure as Error).message).toContain('model.onnx');
    expect(server.requests).toHaveLength(3);
  });

  it('a fetch that rejects before any byte is retried; HTTP errors are returned as they are', async () => {
    let calls = 0;
    const flaky = (async () => {
      if (++calls === 1) throw new TypeError('fake: network down');
      return new Response(body(FILE));
    }) as typeof fetch;
    expect(await bytesOf(await resumableFetch(flaky, { ...noSleep, sleep: async () => {} })(URL_))).toEqual(FILE);
    expect(calls).toBe(2);
    const missing = (async () => new Response('no', { status: 404 })) as typeof fetch;
    expect((await resumableFetch(missing, noSleep)(URL_)).status).toBe(404);
  });
});

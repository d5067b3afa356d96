/**
 * Model downloads that survive a connection cut off mid-file. A body that errors part-way
 * is picked up again: with `Range: bytes=N-` when the server answers 206 for it, otherwise
 * by fetching the file again and skipping the bytes already delivered. A few attempts with
 * a growing pause between them; then an error naming the file. The caller sees one
 * uninterrupted body (so transformers.js' progress and cache work unchanged).
 */
import { fileNameOf, namedError } from './worker-utils.ts';

export interface RetryPolicy {
  /** Tries in all, the first included. */
  readonly attempts: number;
  /** Pause before the first retry; doubled before each later one. */
  readonly backoffMs: number;
  /** Waits `ms` (injected so tests need no real time). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Four tries over about 3.5 s of pauses: enough for a flaky connection, quick to give up on a dead one. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, backoffMs: 500 };

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function urlOf(input: RequestInfo | URL): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
}

/** `baseFetch`, with downloads retried as the module comment says. Only GETs without a Range of their own. */
export function resumableFetch(baseFetch: typeof fetch, policy: RetryPolicy = DEFAULT_RETRY): typeof fetch {
  const sleep = policy.sleep ?? realSleep;
  return async (input, init) => {
    const url = urlOf(input);
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    if (method !== 'GET' || new Headers(init?.headers).has('range')) return baseFetch(input, init);
    const file = fileNameOf(url);
    let attempt = 1;
    let lastError: unknown;
    /** Waits before try `attempt + 1`, or throws the named failure when none are left. */
    const nextAttempt = async (cause: unknown, delivered: number) => {
      lastError = cause;
      if (attempt >= policy.attempts) {
        throw namedError(
          'model-load-failed',
          `Could not download ${file} (${url}): ${delivered > 0 ? `cut off after ${delivered} bytes, ` : ''}${policy.attempts} tries (${String(lastError)})`,
        );
      }
      await sleep(policy.backoffMs * 2 ** (attempt - 1));
      attempt++;
    };

    let first: Response;
    for (;;) {
      try {
        first = await baseFetch(input, init);
        break;
      } catch (error) {
        await nextAttempt(error, 0);
      }
    }
    if (!first.ok || !first.body) return first;

    let source = first.body.getReader();
    /** Bytes read past the skipped part of a re-read body, delivered before reading on. */
    let leftover: Uint8Array | null = null;
    let delivered = 0;
    /** Opens the file again from `delivered`: a 206 from there, or a 200 whose first bytes are skipped. */
    const reopen = async (): Promise<void> => {
      for (;;) {
        try {
          const headers = new Headers(init?.headers);
          headers.set('range', `bytes=${delivered}-`);
          const response = await baseFetch(url, { ...init, headers });
          if (!response.body || (response.status !== 206 && response.status !== 200)) throw new Error(`HTTP ${response.status}`);
          source = response.body.getReader();
          if (response.status === 200) leftover = await skip(source, delivered);
          return;
        } catch (error) {
          await nextAttempt(error, delivered);
        }
      }
    };
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        for (;;) {
          try {
            let value: Uint8Array | undefined = leftover ?? undefined;
            leftover = null;
            if (!value) {
              const read = await source.read();
              if (read.done) return controller.close();
              value = read.value;
            }
            delivered += value.byteLength;
            return controller.enqueue(value);
          } catch (error) {
            await nextAttempt(error, delivered);
            await reopen();
          }
        }
      },
      cancel(reason) {
        return source.cancel(reason);
      },
    });
    return new Response(body, { status: first.status, statusText: first.statusText, headers: first.headers });
  };
}

/** Reads and drops the first `count` bytes of a body read again from its start; returns what it read past them. */
async function skip(reader: ReadableStreamDefaultReader<Uint8Array>, count: number): Promise<Uint8Array | null> {
  let left = count;
  while (left > 0) {
    const { done, value } = await reader.read();
    if (done) throw new Error('the file is shorter than before');
    if (value.byteLength > left) return value.subarray(left);
    left -= value.byteLength;
  }
  return null;
}

/**
 * Small helpers shared by the model workers.
 */
import { resumableFetch } from './resumable-fetch.ts';
import type { FileProgress } from '../src/platform/protocol.ts';

/**
 * An Error whose `name` is a VoiceErrorCode: comlink re-creates thrown errors on the main
 * thread from name + message only, so the code has to travel in `name`.
 */
export function namedError(code: string, message: string): Error {
  const error = new Error(message);
  error.name = code;
  return error;
}

/**
 * Runs tasks strictly one after another, in call order (a failed task does not block the
 * next). Model calls never interleave: transformers.js shares one inference chain, and
 * interleaved generate() loops would only slow both.
 */
export class SerialQueue {
  /** The tail of the chain: each task starts when the previous one has settled. */
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task, task);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Settles when every task queued so far has settled. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

/** The last path segment of a URL, for progress reports and messages. */
export function fileNameOf(url: string): string {
  try {
    return new URL(url).pathname.split('/').pop() || url;
  } catch {
    return url;
  }
}

/**
 * Fetches a model file with byte progress and checks that it is one: a 404, an HTML page
 * served in its place (a common static-host fallback) or an empty body becomes a clear
 * error naming the file, not a protobuf parse failure three layers down.
 */
export async function loadModelBytes(
  url: string,
  what: string,
  onProgress?: (progress: FileProgress) => void,
): Promise<ArrayBuffer> {
  const file = fileNameOf(url);
  let response: Response;
  try {
    // A download cut off mid-file is resumed (or retried); see resumable-fetch.ts.
    response = await resumableFetch(fetch)(url);
  } catch (error) {
    throw namedError('model-load-failed', `Could not download ${what} (${url}): ${String(error)}`);
  }
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
  return bytes.buffer;
}

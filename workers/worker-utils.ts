/**
 * Small helpers shared by the model workers.
 */

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
 * Whether `error` says the browser ran out of memory while loading or running a model: a
 * JS allocation that failed (`RangeError: Array buffer allocation failed`, the model's bytes
 * on a phone with a few hundred MB to spare), a WebAssembly heap that could not grow (ONNX
 * Runtime reports the allocation that failed; emscripten aborts with `OOM`), or the GPU's
 * (`GPUOutOfMemoryError`, "out of memory").
 */
export function isOutOfMemory(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return typeof error === 'string' && OUT_OF_MEMORY.test(error);
  const { name, message } = error as { name?: unknown; message?: unknown };
  if (name === 'GPUOutOfMemoryError' || name === 'model-out-of-memory') return true;
  return typeof message === 'string' && OUT_OF_MEMORY.test(message);
}

const OUT_OF_MEMORY =
  /array buffer allocation failed|out of memory|\boom\b|bad_alloc|failed to allocate|could not allocate|cannot enlarge memory|memory size exceeded|allocation failed/i;

/**
 * The `model-out-of-memory` error for a load of `what` ("the speech recognizer X (wasm)")
 * that ran out of memory: what the visitor can do, and the browser's own words.
 */
export function outOfMemoryError(what: string, cause: unknown): Error {
  const said = cause instanceof Error ? cause.message : String(cause);
  return namedError(
    'model-out-of-memory',
    `There is not enough memory to load ${what}. Close other tabs or apps, then press the talk button to try again; a smaller model needs less. (${said})`,
  );
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

/** The last path segment of a URL (absolute, or a path like transformers.js' cache keys), for progress reports and messages. */
export function fileNameOf(url: string): string {
  try {
    return new URL(url, 'file:///').pathname.split('/').pop() || url;
  } catch {
    return url;
  }
}

/** True for the error Cache Storage (and every other storage API) throws when the origin's quota is spent. */
export function isQuotaError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'QuotaExceededError' || /quota/i.test(error.message));
}

/**
 * Responders: the one interface every answer source implements (a remote OpenAI-compatible
 * LLM, the page's own `voice-turn` handler, later an in-browser model).
 *
 * A responder turns the conversation so far into a stream of text deltas. It knows nothing
 * about speech: the element feeds the deltas to the clause splitter and TTS as they come.
 *
 * Outcomes of `respond()`, which every implementation keeps:
 *
 * - the iterable ends normally: the reply is complete (even if it produced no text);
 * - it throws an error for which {@link isAbortError} is true: the request's `signal` was
 *   aborted (barge-in, `stop()`, a newer turn). That is deliberate — report nothing;
 * - it throws a `VoiceAgentError` with a stable code (`llm-*`, `responder-failed`): the
 *   reply failed; report it (`voice-error`), apologise, keep listening.
 *
 * Breaking out of a `for await` loop (which calls the iterator's `return()`) also releases
 * everything the responder holds (the HTTP connection, the page's iterator).
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * const turnId = conversation.beginTurn('What time is it?');
 * try {
 *   for await (const delta of responder.respond({
 *     messages: conversation.messagesForRequest(systemPrompt),
 *     signal: controller.signal,
 *     turnId,
 *   })) {
 *     conversation.appendReply(turnId, delta); // and hand it to TTS
 *   }
 *   conversation.finishReply(turnId);
 * } catch (error) {
 *   if (isAbortError(error)) return; // interrupted: the barge-in path records the heard part
 *   conversation.failTurn(turnId, VoiceAgentError.from(error, 'responder-failed'));
 * }
 * ```
 */

/** Who wrote a chat message (the OpenAI chat roles we use). */
export type ChatRole = 'system' | 'user' | 'assistant';

/** One message of a chat request. The visitor's words are only ever `user` content. */
export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
}

/** What a responder is asked to answer. */
export interface ResponderRequest {
  /** The whole request: an optional system message, then alternating user / assistant, ending with user. */
  readonly messages: readonly ChatMessage[];
  /** Aborted when the reply is no longer wanted. The responder stops all work promptly. */
  readonly signal: AbortSignal;
  /** The conversation turn this reply belongs to (for logs and stale-message guards). */
  readonly turnId: number;
}

/** Anything that can answer a turn with streamed text. */
export interface Responder {
  /** Streams the reply as text deltas (never empty strings). See the module comment for outcomes. */
  respond(request: ResponderRequest): AsyncIterable<string>;
  /** Loads what answering needs ahead of the first turn (a model); rejects on failure. Optional. */
  prepare?(): Promise<void>;
}

/**
 * True for the outcome of a deliberate abort: a `DOMException`/`Error` named `AbortError`.
 * Responders throw exactly that when their signal is aborted, whatever `reason` was given.
 */
export function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}

/** The error a responder throws when its signal was aborted (keeps the abort reason as `cause`). */
export function abortError(signal?: AbortSignal): Error {
  const error = new DOMException('The reply was cancelled.', 'AbortError');
  if (signal?.reason !== undefined) {
    // DOMException has no `cause` option; attach it for debugging only.
    Object.defineProperty(error, 'cause', { value: signal.reason, configurable: true });
  }
  return error;
}

/** Throws {@link abortError} if `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortError(signal);
}

/**
 * Settles like `promise`, or rejects with {@link abortError} as soon as `signal` aborts
 * (the promise itself keeps running; its late result is dropped, and a late rejection
 * is swallowed so it never surfaces as an unhandled rejection).
 */
export function raceAbort<T>(promise: PromiseLike<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    Promise.resolve(promise).catch(() => {});
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(promise).then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Reads a whole reply into one string (tests, non-streaming callers). */
export async function collectReply(stream: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const delta of stream) text += delta;
  return text;
}

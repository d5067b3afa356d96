import type { ConversationEntry } from '../answering/conversation.ts';
import { VoiceAgentError, describeCause } from '../platform/errors.ts';
import { abortError, raceAbort, type Responder, type ResponderRequest } from '../answering/responder.ts';

/** What a page may answer a turn with. */
export type PageReply = string | PromiseLike<string> | AsyncIterable<string>;

export interface VoiceTurnDetail {
  /** What the visitor said (final transcript) or typed. */
  readonly text: string;
  /** The conversation before this turn (`conversation.historyBefore(turnId)`; read-only snapshot). */
  readonly history: readonly ConversationEntry[];
  /** This turn's id (as in `history` entries). */
  readonly turnId: number;
  /** `speech` for a spoken turn, `text` for a typed one or `send()`. */
  readonly source: 'speech' | 'text';
  /** Aborted when the reply is no longer wanted (the visitor interrupted, `stop()`): pass it to your own `fetch`. */
  readonly signal: AbortSignal;
}

/** How a `voice-turn` dispatch ended (see {@link VoiceTurnEvent.outcome}). */
export type VoiceTurnOutcome =
  /** `respondWith()` was called: answer with the page's reply; no LLM is called. */
  | 'page'
  /** `preventDefault()` without `respondWith()`: the page handled the turn; no reply at all. */
  | 'cancelled'
  /** Nobody answered: the configured responder (LLM) answers, if any. */
  | 'default';

/**
 * Fired for every visitor turn before the agent answers it, so page code can answer
 * instead of the LLM. Call `respondWith()` synchronously inside the listener with a string,
 * a Promise of a string, or an async iterable of strings (streamed like an LLM reply);
 * then no LLM request is made. `preventDefault()` alone means "no reply to this turn".
 *
 * @example
 * ```js
 * agent.addEventListener('voice-turn', (e) => {
 *   if (/weather/i.test(e.detail.text)) {
 *     e.respondWith(fetch('/weather', { signal: e.detail.signal }).then((r) => r.text()));
 *   }
 * });
 * ```
 */
export class VoiceTurnEvent extends Event {
  static readonly eventName = 'voice-turn';
  readonly detail: VoiceTurnDetail;
  private reply: PageReply | undefined;
  private hasReply = false;
  private responder: Responder | null = null;

  constructor(detail: VoiceTurnDetail) {
    super(VoiceTurnEvent.eventName, { bubbles: true, composed: true, cancelable: true });
    this.detail = detail;
  }

  /**
   * Answers this turn from page code; no LLM is called. Must be called during dispatch
   * (synchronously in a listener) and at most once; it also calls `preventDefault()`.
   *
   * @throws DOMException `InvalidStateError` when called twice or after dispatch.
   * @throws TypeError when `reply` is not a string, a thenable or an async iterable.
   */
  respondWith(reply: PageReply): void {
    if (this.hasReply) {
      throw new DOMException(
        'voice-turn: respondWith() was already called for this turn (a turn has one answer).',
        'InvalidStateError',
      );
    }
    if (this.eventPhase === 0 /* Event.NONE: not being dispatched */) {
      throw new DOMException(
        'voice-turn: respondWith() must be called synchronously inside the event listener. To answer later, pass a Promise or an async iterable.',
        'InvalidStateError',
      );
    }
    if (!isPageReply(reply)) {
      throw new TypeError('voice-turn: respondWith() takes a string, a Promise of a string, or an async iterable of strings.');
    }
    this.hasReply = true;
    this.reply = reply;
    this.preventDefault();
  }

  /** True once `respondWith()` was called: the integrator must not call the LLM. */
  get responded(): boolean {
    return this.hasReply;
  }

  /** What the element does with this turn; read it after `dispatchEvent()` returns. */
  get outcome(): VoiceTurnOutcome {
    if (this.hasReply) return 'page';
    return this.defaultPrevented ? 'cancelled' : 'default';
  }

  /** The page's answer as a single-use responder (the same one on every read), or null when `respondWith()` was not called. */
  get pageResponder(): Responder | null {
    if (!this.hasReply) return null;
    return (this.responder ??= createPageResponder(this.reply!));
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'voice-turn': VoiceTurnEvent;
  }
}

/** True for the values `respondWith()` accepts. */
export function isPageReply(value: unknown): value is PageReply {
  if (typeof value === 'string') return true;
  if (typeof value !== 'object' || value === null) return false;
  return (
    typeof (value as { then?: unknown }).then === 'function' ||
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

/**
 * A responder that plays back a page's reply (the value given to `respondWith()`). It
 * can be used once: a page's async iterator cannot be replayed.
 */
export function createPageResponder(reply: PageReply): Responder {
  let used = false;
  return {
    respond(request: ResponderRequest): AsyncIterable<string> {
      if (used) throw new Error('A page responder answers one turn only.');
      used = true;
      return pageReplyStream(reply, request.signal);
    },
  };
}

/**
 * Turns a page's reply into text deltas, with the responder contract: empty strings are
 * skipped; an abort of `signal` ends it with an `AbortError` at once (and calls the page
 * iterator's `return()`, so its `finally` blocks run); anything the page throws or a
 * value that is not a string becomes a `responder-failed` error.
 */
export async function* pageReplyStream(reply: PageReply, signal: AbortSignal): AsyncGenerator<string, void, undefined> {
  if (signal.aborted) throw abortError(signal);
  if (typeof reply === 'string') {
    if (reply) yield reply;
    return;
  }
  if (typeof (reply as PromiseLike<string>).then === 'function') {
    let value: unknown;
    try {
      value = await raceAbort(reply as PromiseLike<string>, signal);
    } catch (error) {
      if (signal.aborted) throw abortError(signal);
      throw pageFailed(error);
    }
    if (typeof value !== 'string') throw pageFailed(new TypeError(`the Promise resolved to ${describeValue(value)}, not a string`));
    if (value) yield value;
    return;
  }
  const iterator = (reply as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  let exhausted = false;
  try {
    for (;;) {
      // Ask the page for nothing more once the reply is unwanted.
      if (signal.aborted) throw abortError(signal);
      let step: IteratorResult<unknown>;
      try {
        step = await raceAbort(iterator.next(), signal);
      } catch (error) {
        if (signal.aborted) throw abortError(signal);
        exhausted = true; // it threw: nothing to close
        throw pageFailed(error);
      }
      if (step.done) {
        exhausted = true;
        return;
      }
      if (typeof step.value !== 'string') throw pageFailed(new TypeError(`it yielded ${describeValue(step.value)}, not a string`));
      if (step.value) yield step.value;
    }
  } finally {
    // Stopped early (abort, a bad value, the consumer broke off): let the page clean up.
    // Not awaited: a generator suspended in an await only returns after that await settles.
    if (!exhausted) {
      try {
        Promise.resolve(iterator.return?.()).catch(() => {});
      } catch {
        // a throwing return() is the page's problem, not the turn's
      }
    }
  }
}

function pageFailed(cause: unknown): VoiceAgentError {
  if (cause instanceof VoiceAgentError) return cause;
  return new VoiceAgentError('responder-failed', `The page’s answer to this turn failed: ${describeCause(cause)}`, {
    cause,
  });
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

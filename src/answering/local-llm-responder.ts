/**
 * A responder backed by an on-device chat model (`local-llm`): the model runs in a worker
 * (`workers/llm.worker.ts`); this side turns its streamed text into the `Responder`
 * contract.
 *
 * - Deltas are yielded in the order the worker sent them, as they arrive (whole words:
 *   the worker's `TextStreamer` emits text at word boundaries).
 * - Abort (the request's signal): the stream throws an `AbortError` at once and the worker
 *   is told to `stop(id)` (generation ends after its current token). Leaving the `for
 *   await` loop early stops the generation the same way.
 * - The model is loaded on first use (`load()`); a failed load is the turn's failure with
 *   code `model-load-failed` (naming the file), and the next turn tries again.
 * - A generation failure is `responder-failed` (the worker's message says what broke).
 */
import { VoiceAgentError } from '../platform/errors.ts';
import type { LlmGenerateRequest, LlmGenerateResult } from '../platform/protocol.ts';
import { abortError, raceAbort, throwIfAborted, type Responder, type ResponderRequest } from './responder.ts';

/** What the responder needs from the model worker (the controller adapts the comlink facade). */
export interface LocalLlmBackend {
  /** Resolves once the model is loaded (loading it if needed); rejects with `model-load-failed`. */
  load(): Promise<void>;
  generate(request: LlmGenerateRequest, onText: (text: string) => void): Promise<LlmGenerateResult>;
  stop(id: number): Promise<void>;
}

export interface LocalLlmResponderOptions {
  /** New tokens per reply at most (read when each reply starts). */
  readonly maxNewTokens: () => number;
  /** Told about every generation that ended (for `voice-debug`), with how its text arrived here. */
  readonly onGeneration?: (turnId: number, result: LlmGenerateResult, arrival: TextArrival) => void;
}

/** How a generation's text reached the page. */
export interface TextArrival {
  /** Text pieces received. */
  readonly deltas: number;
  /** Wall-clock time the first piece arrived (null: none). */
  readonly firstTextAt: number | null;
  /** The pieces joined: the reply as it reached the page. */
  readonly text: string;
}

export class LocalLlmResponder implements Responder {
  private nextId = 0;

  constructor(
    private readonly backend: LocalLlmBackend,
    private readonly options: LocalLlmResponderOptions,
  ) {}

  /** Loads the model now (`preload()`), not at the first turn. */
  prepare(): Promise<void> {
    return this.backend.load();
  }

  async *respond({ messages, signal, turnId }: ResponderRequest): AsyncGenerator<string> {
    throwIfAborted(signal);
    try {
      await raceAbort(this.backend.load(), signal);
    } catch (error) {
      if (signal.aborted) throw abortError(signal);
      throw VoiceAgentError.from(error, 'model-load-failed');
    }

    const id = ++this.nextId;
    const pending: string[] = [];
    let firstTextAt: number | null = null;
    let deltas = 0;
    let text = '';
    let settled = false;
    let failure: unknown = null;
    let wake: (() => void) | null = null;
    const notify = () => {
      const resume = wake;
      wake = null;
      resume?.();
    };
    const stop = () => {
      if (!settled) this.backend.stop(id).catch(() => {});
    };

    signal.addEventListener('abort', notify, { once: true });
    this.backend
      .generate({ id, messages, maxNewTokens: this.options.maxNewTokens() }, (piece) => {
        if (settled || !piece) return;
        firstTextAt ??= performance.timeOrigin + performance.now();
        deltas++;
        text += piece;
        pending.push(piece);
        notify();
      })
      .then(
        (result) => this.options.onGeneration?.(turnId, result, { deltas, firstTextAt, text }),
        (error: unknown) => {
          failure = error;
        },
      )
      .finally(() => {
        settled = true;
        notify();
      });

    try {
      for (;;) {
        if (signal.aborted) throw abortError(signal);
        const next = pending.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (settled) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      if (failure) throw VoiceAgentError.from(failure, 'responder-failed');
    } finally {
      signal.removeEventListener('abort', notify);
      // Aborted, or the consumer left the loop early: the worker stops generating.
      stop();
    }
  }
}

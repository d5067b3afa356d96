import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { Conversation, type ConversationEntry } from './conversation.ts';
import { VoiceAgentError } from '../platform/errors.ts';
import { assertLocalOnly } from '../platform/local-only.ts';
import { OpenAIResponder } from './openai-responder.ts';
import { DEFAULT_MAX_TOKENS } from './reply-limits.ts';
import type { Responder } from './responder.ts';
import { ClauseSplitter, type Clause } from '../speaking/speakable-text.ts';
import { streamReply } from './stream-reply.ts';
import type { VoiceResponseDetail } from '../events/response.ts';
import type { VoiceResponseEndDetail } from '../events/response-end.ts';
import { VoiceTurnEvent } from '../events/turn.ts';
import type { ReplyHooks } from '../speaking/speech-controller.ts';
import type { ResponderPort } from '../session/ports.ts';

/** Where answers come from when page code does not answer (`voice-turn`). */
export interface ResponderSettings {
  /** An OpenAI-compatible endpoint (`llm-url`); undefined: no LLM (dictation). */
  readonly llmUrl?: string;
  readonly llmModel?: string;
  readonly systemPrompt?: string;
  /** Extra request headers (set from code, never markup). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Called before every request; a non-empty result is sent as `Authorization: Bearer …`. */
  readonly getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /** The longest `llm-url` reply, sent as `max_tokens` (`max-tokens`; default {@link DEFAULT_MAX_TOKENS}). */
  readonly maxTokens?: number;
  /** The on-device model (`local-llm`), used when there is no `llm-url`. */
  readonly localResponder?: Responder;
  /** `local-only`: an `llm-url` off the page's origin is refused (`local-only-violation`), never requested; a redirect from it is not followed. */
  readonly localOnly?: boolean;
}

export interface ConversationCallbacks {
  /** Dispatch `voice-turn` from the element (page code may answer it). */
  dispatchTurn(event: VoiceTurnEvent): void;
  /** A responder is answering (state `thinking`). */
  onReplyStart(turnId: number, source: 'speech' | 'text'): void;
  /** The responder's first text arrived (for `voice-metrics`). */
  onFirstDelta(turnId: number): void;
  /** Speak one clause of the answer (the speech controller's `say` with hooks). */
  speak(text: string, hooks: ReplyHooks): Promise<void>;
  onResponse(detail: VoiceResponseDetail): void;
  onResponseEnd(detail: VoiceResponseEndDetail): void;
  /** The whole answer text, once known (for captions). */
  onReplyText(text: string): void;
  onError(error: VoiceAgentError): void;
  /** The answer is over, whatever happened (state leaves `thinking`). */
  onReplyEnd(turnId: number): void;
}

/** What the visitor is told when an answer fails (shown; the error itself is a `voice-error`). */
export const APOLOGY = 'Sorry, I could not answer that just now.';

/**
 * The conversation loop's one owner: history, the responder of each turn, and the answer
 * streaming into speech clause by clause.
 *
 * A turn goes: `voice-turn` (page code may `respondWith`), else the LLM (`llm-url`), else
 * the on-device LLM (`local-llm`), else nothing (dictation). Deltas go through the
 * streaming clause splitter; each clause is spoken as soon as it is complete, so the
 * first words play while the rest is generated.
 * What was heard is recorded in `history` (`interrupted: true` with the heard part when it
 * was cut short; `failed` turns are marked and left out of later requests).
 */
export class ConversationController implements ReactiveController, ResponderPort {
  readonly conversation = new Conversation();
  settings: ResponderSettings = {};
  private readonly callbacks: ConversationCallbacks;
  /** The answer under way: its turn, its abort, and what of it was heard so far. */
  private current: { turnId: number; abort: AbortController; heard: string } | null = null;

  constructor(host: ReactiveControllerHost, callbacks: ConversationCallbacks) {
    this.callbacks = callbacks;
    host.addController(this);
  }

  hostDisconnected(): void {
    this.cancel();
  }

  get history(): readonly ConversationEntry[] {
    return this.conversation.history;
  }

  /** Whether an answer is being prepared or spoken. */
  get busy(): boolean {
    return this.current !== null;
  }

  /**
   * Abandons the answer under way: its responder is aborted and the turn is closed at once
   * as interrupted with what was heard (stop the speech first, so that is final), before
   * any newer turn can begin.
   */
  cancel(): void {
    const current = this.current;
    if (!current) return;
    this.current = null;
    current.abort.abort();
    this.conversation.finishReply(current.turnId, { heardText: current.heard, interrupted: true });
  }

  reset(): void {
    this.cancel();
    this.conversation.reset();
  }

  /** Loads what the configured responder needs ahead of the first turn (the `local-llm` model). */
  async preload(): Promise<void> {
    await this.settings.localResponder?.prepare?.();
  }

  /** Runs one visitor turn through the loop. Resolves when its answer is over. */
  async runTurn(text: string, source: 'speech' | 'text'): Promise<void> {
    this.cancel();
    const turnId = this.conversation.beginTurn(text, { source });
    const abort = new AbortController();
    const current = { turnId, abort, heard: '' };
    this.current = current;
    const event = new VoiceTurnEvent({
      text,
      history: this.conversation.historyBefore(turnId),
      turnId,
      source,
      signal: abort.signal,
    });
    this.callbacks.dispatchTurn(event);
    const responder = event.pageResponder ?? (event.outcome === 'default' ? this.llmResponder() : null);
    if (!responder) {
      // Dictation (no responder), or the page handled the turn itself.
      this.conversation.endTurnWithoutReply(turnId);
      this.current = null;
      return;
    }
    this.callbacks.onReplyStart(turnId, source);
    try {
      await this.answer(current, responder);
    } finally {
      // A newer turn that cancelled this one owns the state now: its own end will come.
      const superseded = this.current !== null && this.current.turnId !== turnId;
      if (this.current?.turnId === turnId) this.current = null;
      if (!superseded) this.callbacks.onReplyEnd(turnId);
    }
  }

  private async answer(current: { turnId: number; abort: AbortController; heard: string }, responder: Responder): Promise<void> {
    const { turnId } = current;
    const signal = current.abort.signal;
    const splitter = new ClauseSplitter();
    const spoken: Promise<void>[] = [];
    let interrupted = false;
    let replyText = '';
    const speakClause = (clause: Clause) => {
      const before = replyText.slice(0, clause.start);
      const hooks: ReplyHooks = {
        onResponse: (detail) => this.callbacks.onResponse({ delta: detail.delta, text: before + detail.text }),
        onResponseEnd: (detail) => {
          if (detail.heardText) current.heard = before + detail.heardText;
          interrupted ||= detail.interrupted;
        },
      };
      spoken.push(this.callbacks.speak(clause.text, hooks));
    };
    const outcome = await streamReply({
      responder,
      conversation: this.conversation,
      turnId,
      signal,
      systemPrompt: this.settings.systemPrompt,
      onDelta: (delta) => {
        if (!replyText && delta) this.callbacks.onFirstDelta(turnId);
        replyText += delta;
        if (!signal.aborted) splitter.push(delta).forEach(speakClause);
      },
    });
    if (outcome.status !== 'aborted') splitter.finish().forEach(speakClause);
    if (outcome.text.trim()) this.callbacks.onReplyText(outcome.text.trim());
    if (outcome.status === 'failed') {
      this.callbacks.onError(outcome.error);
      this.callbacks.onReplyText(APOLOGY);
    }
    await Promise.all(spoken);
    const wasInterrupted = interrupted || outcome.status === 'aborted';
    const heard = current.heard;
    if (outcome.status === 'failed') {
      this.conversation.failTurn(turnId, outcome.error, { heardText: heard });
    } else if (this.conversation.isCurrent(turnId)) {
      this.conversation.finishReply(turnId, { heardText: heard, interrupted: wasInterrupted });
    }
    if (spoken.length > 0) {
      this.callbacks.onResponseEnd({ text: outcome.text, heardText: heard, interrupted: wasInterrupted });
    }
  }

  private llmResponder(): Responder | null {
    const { llmUrl, llmModel, headers, getToken, maxTokens = DEFAULT_MAX_TOKENS } = this.settings;
    if (!llmUrl) return this.settings.localResponder ?? null;
    try {
      assertLocalOnly(this.settings.localOnly, [{ attribute: 'llm-url', url: llmUrl, what: 'the language model' }]);
      return new OpenAIResponder({
        url: llmUrl,
        model: llmModel,
        headers,
        getToken: getToken && (() => getToken()),
        maxTokens,
        refuseRedirects: this.settings.localOnly === true,
      });
    } catch (error) {
      this.callbacks.onError(VoiceAgentError.from(error, 'llm-bad-request'));
      return null;
    }
  }
}

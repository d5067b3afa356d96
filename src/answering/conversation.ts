/**
 * The conversation history as a pure model: no DOM, no timers, no I/O.
 *
 * A turn is one thing the visitor said (or typed) and the agent's reply to it. Each turn
 * gets an id from {@link Conversation.beginTurn}; every later update names that id, and an
 * update for any turn but the open one (a late delta from a cancelled reply, a finish
 * after a reset) is ignored. At most one turn is open at a time.
 *
 * What a reply becomes in the history:
 *
 * | How the turn ended                          | assistant entry                                        |
 * |---------------------------------------------|--------------------------------------------------------|
 * | `finishReply(id)`                           | `content` = the whole reply (`heard` if reported)      |
 * | `finishReply(id, { interrupted: true, heardText })` | `content` = `heard` = the heard part, `interrupted: true`, `generated` = everything the responder produced |
 * | `failTurn(id, error)`                       | `content` = what was heard before the failure (often ''), `failed` = `{ code, message }`; the user entry is marked `failed` too |
 * | `endTurnWithoutReply(id)`                   | none (dictation, or the page cancelled `voice-turn`)   |
 * | a new `beginTurn()` while one is open       | the open one is closed as interrupted with nothing heard |
 *
 * What the model sees next time ({@link Conversation.messagesForRequest}):
 *
 * - the system prompt first (when non-empty), then the turns in order;
 * - **failed turns are left out entirely** (question and partial answer): the visitor heard
 *   an apology, not an answer, and will usually ask again; sending the question with no
 *   answer would make the model answer it twice, and sending half an answer would make it
 *   believe it had said something it was never allowed to finish;
 * - an interrupted reply is sent as the heard part only (never the unheard rest); one with
 *   nothing heard is left out, and the user messages around it are merged into one, so
 *   the roles always alternate `user, assistant, user, …` (strict chat templates such as
 *   Gemma's and Mistral's reject two user messages in a row);
 * - the open turn's reply-in-progress is never included.
 *
 * Limits: the history keeps the latest `maxTurns` turns (default 50; older turns are
 * dropped whole, user and reply together). Requests carry at most `maxRequestChars`
 * characters of conversation (default 24 000, roughly 6 000 tokens, which fits the 8k
 * contexts of small local models with room for the reply): the oldest turns are left out
 * first, and the newest user message is always sent even if it alone is longer.
 *
 * @example
 * ```ts
 * const conversation = new Conversation();
 * const id = conversation.beginTurn('What is the capital of France?');
 * conversation.messagesForRequest('Answer briefly.');
 * // → [{ role: 'system', … }, { role: 'user', content: 'What is the capital of France?' }]
 * conversation.appendReply(id, 'Paris. It is ');
 * conversation.appendReply(id, 'on the Seine.');
 * conversation.finishReply(id, { interrupted: true, heardText: 'Paris.' });
 * conversation.history.at(-1);
 * // → { turnId: 1, role: 'assistant', content: 'Paris.', heard: 'Paris.', interrupted: true,
 * //     generated: 'Paris. It is on the Seine.' }
 * ```
 */
import type { VoiceErrorCode } from '../platform/errors.ts';
import type { ChatMessage } from './responder.ts';

/** Why a turn failed (a `VoiceAgentError` fits). */
export interface TurnFailure {
  readonly code: VoiceErrorCode;
  readonly message: string;
}

/** One entry of the history. */
export interface ConversationEntry {
  /** The turn this entry belongs to (a user entry and its reply share it). */
  readonly turnId: number;
  readonly role: 'user' | 'assistant';
  /**
   * User: what the visitor said or typed. Assistant: the reply as it counts in the
   * conversation — the whole reply, or for an interrupted one only the heard part.
   */
  readonly content: string;
  /** User: how the text came in. */
  readonly source?: 'speech' | 'text';
  /** Assistant: what the visitor actually heard, when the speaking layer reported it. */
  readonly heard?: string;
  /** Assistant: the visitor spoke over the reply; `content` is the heard part. */
  readonly interrupted?: true;
  /** Assistant, interrupted: everything the responder had produced (shown, never sent back to the model). */
  readonly generated?: string;
  /** Both entries of a failed turn: why it failed. Failed turns are not sent to the model. */
  readonly failed?: TurnFailure;
}

export interface ConversationOptions {
  /** Turns kept in `history` (older ones are dropped whole). Default 50. */
  readonly maxTurns?: number;
  /** Characters of conversation sent per request (system prompt not counted). Default 24 000. */
  readonly maxRequestChars?: number;
}

export const DEFAULT_MAX_TURNS = 50;
export const DEFAULT_MAX_REQUEST_CHARS = 24_000;

interface OpenTurn {
  readonly turnId: number;
  reply: string;
}

export class Conversation {
  readonly maxTurns: number;
  readonly maxRequestChars: number;
  private entries: ConversationEntry[] = [];
  private open: OpenTurn | null = null;
  private lastTurnId = 0;

  constructor(options: ConversationOptions = {}) {
    this.maxTurns = positiveInteger(options.maxTurns, DEFAULT_MAX_TURNS, 'maxTurns');
    this.maxRequestChars = positiveInteger(options.maxRequestChars, DEFAULT_MAX_REQUEST_CHARS, 'maxRequestChars');
  }

  /** The entries, oldest first (a snapshot; entries are frozen). */
  get history(): readonly ConversationEntry[] {
    return this.entries.slice();
  }

  /** The entries of the turns before `turnId` (what `voice-turn` carries as `history`). */
  historyBefore(turnId: number): readonly ConversationEntry[] {
    return this.entries.filter((e) => e.turnId < turnId);
  }

  /** The open turn's id, or null when no reply is under way. */
  get currentTurnId(): number | null {
    return this.open?.turnId ?? null;
  }

  /** The open turn's reply so far ('' when none is open). */
  get pendingReply(): string {
    return this.open?.reply ?? '';
  }

  /** True while `turnId` is the open turn (updates for it are accepted). */
  isCurrent(turnId: number): boolean {
    return this.open !== null && this.open.turnId === turnId;
  }

  /**
   * Records what the visitor said and opens a turn for the reply; returns its id.
   * A turn still open is first closed as interrupted with nothing heard.
   */
  beginTurn(userText: string, options: { source?: 'speech' | 'text' } = {}): number {
    if (typeof userText !== 'string' || userText.trim() === '') {
      throw new TypeError('Conversation.beginTurn needs the visitor’s text (a non-empty string).');
    }
    if (this.open) this.finishReply(this.open.turnId, { interrupted: true, heardText: '' });
    const turnId = ++this.lastTurnId;
    this.push({ turnId, role: 'user', content: userText, ...(options.source ? { source: options.source } : {}) });
    this.open = { turnId, reply: '' };
    this.trim();
    return turnId;
  }

  /** Adds a delta to the open turn's reply. Returns false (and changes nothing) for any other turn. */
  appendReply(turnId: number, delta: string): boolean {
    if (!this.isCurrent(turnId)) return false;
    this.open!.reply += delta;
    return true;
  }

  /**
   * Closes the turn with its reply. `interrupted`: the visitor spoke over it, and only
   * `heardText` (default '') is recorded as said. `heardText` without `interrupted` is
   * stored as `heard`. Returns the new entry, or null for a turn that is not open.
   */
  finishReply(turnId: number, options: { heardText?: string; interrupted?: boolean } = {}): ConversationEntry | null {
    if (!this.isCurrent(turnId)) return null;
    const generated = this.open!.reply;
    this.open = null;
    const entry: ConversationEntry = options.interrupted
      ? {
          turnId,
          role: 'assistant',
          content: options.heardText ?? '',
          heard: options.heardText ?? '',
          interrupted: true,
          generated,
        }
      : {
          turnId,
          role: 'assistant',
          content: generated,
          ...(options.heardText === undefined ? {} : { heard: options.heardText }),
        };
    return this.push(entry);
  }

  /**
   * Marks the open turn as failed: its user entry and a reply entry carry `failed`, and
   * the whole turn is left out of later requests. `heardText` is what the visitor heard
   * before the failure (kept for display). Returns false for a turn that is not open.
   */
  failTurn(turnId: number, error: TurnFailure, options: { heardText?: string } = {}): boolean {
    if (!this.isCurrent(turnId)) return false;
    this.open = null;
    const failed: TurnFailure = { code: error.code, message: error.message };
    const userIndex = this.entries.findIndex((e) => e.turnId === turnId && e.role === 'user');
    if (userIndex !== -1) this.entries[userIndex] = Object.freeze({ ...this.entries[userIndex]!, failed });
    const heard = options.heardText ?? '';
    this.push({
      turnId,
      role: 'assistant',
      content: heard,
      ...(options.heardText === undefined ? {} : { heard }),
      failed,
    });
    return true;
  }

  /** Closes the open turn with no reply at all (dictation, or the page cancelled the turn). */
  endTurnWithoutReply(turnId: number): boolean {
    if (!this.isCurrent(turnId)) return false;
    this.open = null;
    return true;
  }

  /** Forgets everything. Turn ids keep counting, so updates from before the reset are ignored. */
  reset(): void {
    this.entries = [];
    this.open = null;
  }

  /** The chat messages for the next request (see the module comment for the rules). */
  messagesForRequest(systemPrompt?: string): ChatMessage[] {
    // Group by turn, skipping failed turns and empty replies.
    const turns: ChatMessage[][] = [];
    let turnId = Number.NaN;
    for (const entry of this.entries) {
      if (entry.failed) continue;
      if (entry.turnId !== turnId) {
        turnId = entry.turnId;
        turns.push([]);
      }
      if (entry.role === 'assistant' && entry.content.trim() === '') continue;
      turns[turns.length - 1]!.push({ role: entry.role, content: entry.content });
    }

    // Keep the newest turns that fit (the newest always).
    let chars = 0;
    let first = turns.length;
    while (first > 0) {
      const size = turns[first - 1]!.reduce((n, m) => n + m.content.length, 0);
      if (first < turns.length && chars + size > this.maxRequestChars) break;
      chars += size;
      first--;
    }

    // Merge neighbours with the same role, so user/assistant alternate.
    const messages: ChatMessage[] = [];
    for (const message of turns.slice(first).flat()) {
      const last = messages[messages.length - 1];
      if (last && last.role === message.role) messages[messages.length - 1] = { role: last.role, content: `${last.content}\n\n${message.content}` };
      else messages.push(message);
    }
    if (systemPrompt?.trim()) messages.unshift({ role: 'system', content: systemPrompt });
    return messages;
  }

  private push(entry: ConversationEntry): ConversationEntry {
    const frozen = Object.freeze(entry);
    this.entries.push(frozen);
    return frozen;
  }

  /** Drops the oldest turns beyond `maxTurns`. */
  private trim(): void {
    const ids = [...new Set(this.entries.map((e) => e.turnId))];
    if (ids.length <= this.maxTurns) return;
    const keepFrom = ids[ids.length - this.maxTurns]!;
    this.entries = this.entries.filter((e) => e.turnId >= keepFrom);
  }
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`Conversation: ${name} must be a positive integer.`);
  return value;
}

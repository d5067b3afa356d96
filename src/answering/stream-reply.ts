/**
 * Runs one responder for one open conversation turn and reports how it ended, so the
 * element has a single place where the responder contract is interpreted:
 *
 * - every delta is appended to the turn (`conversation.appendReply`) and handed to
 *   `onDelta` (clause splitter, TTS, `voice-response` events);
 * - `complete`: the responder finished. The turn stays **open**: the caller closes it with
 *   `finishReply(turnId, { heardText })` when playback has ended, or with
 *   `{ interrupted: true, heardText }` if the visitor talks over the rest;
 * - `aborted`: the signal was aborted, or the turn stopped being the open one (a newer
 *   turn, `reset()`), in which case the responder is released at once. Nothing to report;
 *   the barge-in path records the heard part;
 * - `failed`: a typed `VoiceAgentError` (anything else is wrapped as `responder-failed`).
 *   The caller reports it (`voice-error`), apologises, and calls
 *   `failTurn(turnId, error, { heardText })` once it knows what was heard.
 *
 * It never throws (except for programming errors before the first await).
 */
import type { Conversation } from './conversation.ts';
import { VoiceAgentError } from '../platform/errors.ts';
import { isAbortError, type Responder } from './responder.ts';

export interface StreamReplyOptions {
  readonly responder: Responder;
  readonly conversation: Conversation;
  /** The open turn (from `conversation.beginTurn`). */
  readonly turnId: number;
  /** Aborts the reply (barge-in, `stop()`). */
  readonly signal: AbortSignal;
  /** The system prompt for `messagesForRequest` (a responder may add its own when this is empty). */
  readonly systemPrompt?: string;
  /** Called with every delta, in order, after it was added to the turn. */
  readonly onDelta?: (delta: string, turnId: number) => void;
}

export type ReplyOutcome =
  | { readonly status: 'complete'; readonly text: string }
  | { readonly status: 'aborted'; readonly text: string }
  | { readonly status: 'failed'; readonly text: string; readonly error: VoiceAgentError };

export async function streamReply(options: StreamReplyOptions): Promise<ReplyOutcome> {
  const { responder, conversation, turnId, signal, onDelta } = options;
  let text = '';
  if (signal.aborted || !conversation.isCurrent(turnId)) return { status: 'aborted', text };
  try {
    const stream = responder.respond({ messages: conversation.messagesForRequest(options.systemPrompt), signal, turnId });
    for await (const delta of stream) {
      // A newer turn or a reset took over: stop (leaving the loop releases the responder).
      if (signal.aborted || !conversation.appendReply(turnId, delta)) return { status: 'aborted', text };
      text += delta;
      onDelta?.(delta, turnId);
    }
    if (signal.aborted || !conversation.isCurrent(turnId)) return { status: 'aborted', text };
    return { status: 'complete', text };
  } catch (error) {
    if (signal.aborted || !conversation.isCurrent(turnId)) return { status: 'aborted', text };
    // An AbortError nobody asked for breaks the responder contract: report it, do not hide it.
    const cause = isAbortError(error) ? new Error('the responder was aborted unexpectedly', { cause: error }) : error;
    return { status: 'failed', text, error: VoiceAgentError.from(cause, 'responder-failed') };
  }
}

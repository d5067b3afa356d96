/**
 * The end-of-turn decision, kept as one small replaceable unit.
 *
 * The segmenter knows when the visitor is silent; whether that silence ends their turn
 * is a separate question. Today the answer is "after `silenceMs` of it". A semantic model
 * (Smart Turn v3, which listens to intonation and pace in the turn's audio) can replace
 * this policy without touching the segmenter: it gets the same context, including the
 * turn's audio, and may answer asynchronously.
 */

/** What the policy sees on each silent frame inside a turn. */
export interface EndOfTurnContext {
  /** Silence since the last speech frame of this turn. */
  readonly silenceMs: number;
  /** Speech (frames at or above the speech threshold) in this turn so far. */
  readonly speechMs: number;
  /** Time since the turn's onset, pauses included. */
  readonly turnMs: number;
  /** Speech probability of the current frame. */
  readonly probability: number;
  /** The turn's 16 kHz audio so far (pre-speech pad included). Built on demand: it copies. */
  audio(): Float32Array;
}

export interface EndOfTurnPolicy {
  /** Called on every silent frame inside a turn; `true` ends the turn at this frame. */
  shouldEndTurn(context: EndOfTurnContext): boolean | Promise<boolean>;
}

/** Ends the turn after a fixed stretch of silence (the classic VAD hangover). */
export class SilenceEndOfTurnPolicy implements EndOfTurnPolicy {
  constructor(readonly silenceMs: number) {}

  shouldEndTurn(context: EndOfTurnContext): boolean {
    return context.silenceMs >= this.silenceMs;
  }
}

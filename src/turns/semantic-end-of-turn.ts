import type { EndOfTurnContext, EndOfTurnPolicy } from './end-of-turn.ts';

/**
 * Semantic end of turn: a model (Smart Turn v3) listens to the turn's audio and says
 * whether the visitor has finished, from intonation and pace, not only from silence.
 *
 * The model costs a few hundred ms per call in a browser, and the segmenter awaits the
 * policy on every silent frame, so this policy never waits for it: at the first silent
 * frame of a pause it *starts* a verdict request and answers `false`; later frames read
 * whatever has arrived by then:
 *
 * | verdict for this pause | the turn ends once the silence reaches |
 * |---|---|
 * | complete (p > threshold) | `completeSilenceMs` (short) |
 * | incomplete | `incompleteSilenceMs` (long) |
 * | pending | `incompleteSilenceMs` (long), unless a verdict arrives first |
 * | failed (the call threw) | `silenceMs` (the plain hangover) |
 *
 * Speech resuming ends the pause: its verdict is discarded and the next pause asks again.
 */

/** One answer of the end-of-turn model. */
export interface EndOfTurnVerdict {
  /** Probability (0–1) that the turn is complete. */
  readonly probability: number;
  /** Time spent computing the input features, ms. */
  readonly featuresMs: number;
  /** Time spent in the model itself, ms. */
  readonly inferenceMs: number;
}

/** Whatever answers "is this turn complete?" from its audio (Smart Turn in the worker; a fake in tests). */
export interface EndOfTurnJudge {
  judge(audio: Float32Array): Promise<EndOfTurnVerdict>;
}

export interface SemanticEndOfTurnOptions {
  /** The plain silence hangover, used for a pause whose verdict failed. */
  readonly silenceMs: number;
  /** Verdicts above this are "complete". Default 0.5 (the model's own cut). */
  readonly threshold?: number;
  /** Silence that ends a turn the model called complete. */
  readonly completeSilenceMs?: number;
  /** Silence that ends a turn the model called incomplete, or has not judged yet. */
  readonly incompleteSilenceMs?: number;
  /** Silence after which the model is asked (the first silent frame: 0). */
  readonly askAfterMs?: number;
  /** Told of every verdict that arrives for a pause still open (diagnostics, benchmarks). */
  readonly onVerdict?: (verdict: EndOfTurnVerdict & { readonly complete: boolean }) => void;
  /** Told when a call fails. */
  readonly onFailure?: (error: unknown) => void;
}

/** Silence that ends a turn judged complete: ~5 frames, enough to ride out a stop consonant. */
export const SMART_TURN_COMPLETE_SILENCE_MS = 160;
/**
 * Silence that ends a turn judged incomplete (or not judged yet). Chosen with
 * `npm run bench:end-of-turn` (README "Turn detection"): long enough to bridge the
 * 0.6–2 s mid-sentence pauses there, short enough that a wrong "incomplete" costs a
 * couple of seconds, not a stuck turn.
 */
export const SMART_TURN_INCOMPLETE_SILENCE_MS = 2000;
export const SMART_TURN_THRESHOLD = 0.5;

type PauseState =
  | { readonly id: number; kind: 'asking-later' }
  | { readonly id: number; kind: 'pending' }
  | { readonly id: number; kind: 'judged'; complete: boolean }
  | { readonly id: number; kind: 'failed' };

export class SemanticEndOfTurnPolicy implements EndOfTurnPolicy {
  readonly silenceMs: number;
  readonly threshold: number;
  readonly completeSilenceMs: number;
  readonly incompleteSilenceMs: number;
  readonly askAfterMs: number;
  private readonly judge: EndOfTurnJudge;
  private readonly options: SemanticEndOfTurnOptions;
  private pause: PauseState | null = null;
  private nextId = 0;
  private lastSilenceMs = Infinity;
  private lastTurnMs = Infinity;

  constructor(judge: EndOfTurnJudge, options: SemanticEndOfTurnOptions) {
    this.judge = judge;
    this.options = options;
    this.silenceMs = options.silenceMs;
    this.threshold = options.threshold ?? SMART_TURN_THRESHOLD;
    this.completeSilenceMs = options.completeSilenceMs ?? SMART_TURN_COMPLETE_SILENCE_MS;
    this.incompleteSilenceMs = Math.max(options.incompleteSilenceMs ?? SMART_TURN_INCOMPLETE_SILENCE_MS, this.completeSilenceMs);
    this.askAfterMs = options.askAfterMs ?? 0;
  }

  shouldEndTurn(context: EndOfTurnContext): boolean {
    // The segmenter's silence count restarts when speech resumes (and a new turn's
    // clock restarts too): either means a new pause, whose verdict starts afresh.
    if (this.pause === null || context.silenceMs <= this.lastSilenceMs || context.turnMs <= this.lastTurnMs) {
      this.pause = { id: ++this.nextId, kind: 'asking-later' };
    }
    this.lastSilenceMs = context.silenceMs;
    this.lastTurnMs = context.turnMs;
    const pause = this.pause;

    if (pause.kind === 'asking-later') {
      if (context.silenceMs < this.askAfterMs) return context.silenceMs >= this.incompleteSilenceMs;
      this.ask(pause.id, context.audio());
      return context.silenceMs >= this.incompleteSilenceMs;
    }
    switch (pause.kind) {
      case 'judged':
        return context.silenceMs >= (pause.complete ? this.completeSilenceMs : this.incompleteSilenceMs);
      case 'failed':
        return context.silenceMs >= this.silenceMs;
      case 'pending':
        return context.silenceMs >= this.incompleteSilenceMs;
    }
  }

  private ask(id: number, audio: Float32Array): void {
    this.pause = { id, kind: 'pending' };
    let request: Promise<EndOfTurnVerdict>;
    try {
      request = this.judge.judge(audio);
    } catch (error) {
      request = Promise.reject(error);
    }
    request.then(
      (verdict) => {
        if (this.pause?.id !== id) return; // speech resumed: a stale verdict
        const complete = verdict.probability > this.threshold;
        this.pause = { id, kind: 'judged', complete };
        this.options.onVerdict?.({ ...verdict, complete });
      },
      (error: unknown) => {
        this.options.onFailure?.(error);
        if (this.pause?.id === id) this.pause = { id, kind: 'failed' };
      },
    );
  }
}

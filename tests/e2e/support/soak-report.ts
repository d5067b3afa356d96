/**
 * The soak run's arithmetic, kept apart from the browser so it can be unit-tested: which
 * part of the run is "early" and "late", how a spoken turn is matched with what the element
 * heard and said, and how much a resource grew after warm-up.
 */
import { quantile } from '../../../src/platform/stats.ts';
import { wordErrorRate } from './wer.ts';

/** Long runs compare their first and last 5 minutes; shorter ones their first and last third. */
export const COMPARISON_WINDOW_MS = 5 * 60_000;

export interface Windows {
  /** Early window: [startMs, earlyEndMs). */
  readonly earlyEndMs: number;
  /** Late window: [lateStartMs, endMs]. */
  readonly lateStartMs: number;
  /** How the windows were chosen, for the report. */
  readonly label: string;
}

/** Times relative to the run's start (ms). Under 15 minutes, thirds (5-minute windows would overlap or touch). */
export function comparisonWindows(runMs: number): Windows {
  if (runMs >= 3 * COMPARISON_WINDOW_MS) {
    return { earlyEndMs: COMPARISON_WINDOW_MS, lateStartMs: runMs - COMPARISON_WINDOW_MS, label: 'first vs last 5 minutes' };
  }
  return { earlyEndMs: runMs / 3, lateStartMs: (2 * runMs) / 3, label: 'first vs last third (run shorter than 15 minutes)' };
}

export interface SpokenTurn {
  readonly clip: string;
  readonly reference: string;
  /** Wall clock (ms) when the clip started playing into the microphone. */
  readonly saidAt: number;
  /** Said while the agent was speaking. */
  readonly bargeIn: boolean;
  /** The LLM fault scripted for this turn's request, if any. */
  readonly fault?: string;
}

export interface TurnOutcome extends SpokenTurn {
  /** Final transcripts heard in this turn's window, joined. */
  readonly heard: string;
  /** The agent started speaking after this turn, before the next one was said (or, for an LLM fault, reported its error). */
  readonly answered: boolean;
  readonly wer: { errors: number; words: number };
}

/**
 * Matches each spoken turn with the element's output in its window: from when it was said
 * to when the next one was (the driver says the next turn only once this one is answered,
 * or gives up on it).
 */
export function matchTurns(
  spoken: readonly SpokenTurn[],
  transcripts: readonly { wall: number; text: string }[],
  speakingStarts: readonly number[],
  /** When an LLM error was reported: it answers a turn whose LLM fault was scripted (the apology is shown, not spoken). */
  llmErrors: readonly number[] = [],
): TurnOutcome[] {
  return spoken.map((turn, i) => {
    const end = spoken[i + 1]?.saidAt ?? Infinity;
    const inWindow = (at: number) => at >= turn.saidAt && at < end;
    const heard = transcripts
      .filter((t) => inWindow(t.wall))
      .map((t) => t.text)
      .join(' ')
      .trim();
    const { errors, words } = wordErrorRate(turn.reference, heard);
    const answered = speakingStarts.some(inWindow) || (turn.fault !== undefined && llmErrors.some(inWindow));
    return { ...turn, heard, answered, wer: { errors, words } };
  });
}

/** Word error rate over several turns: all their errors over all their reference words. */
export function pooledWer(turns: readonly { wer: { errors: number; words: number } }[]): number {
  const words = turns.reduce((n, t) => n + t.wer.words, 0);
  return words === 0 ? NaN : turns.reduce((n, t) => n + t.wer.errors, 0) / words;
}

/** p50 of the values whose time falls in [from, to). */
export function p50Between(points: readonly { at: number; value: number }[], from: number, to: number): number {
  return quantile(
    points.filter((p) => p.at >= from && p.at < to).map((p) => p.value),
    0.5,
  );
}

/**
 * Growth of a sampled quantity after warm-up: the median of the samples in the last window
 * over the median of those in the first window after warm-up, minus one. Medians, because a
 * single sample can land just before or after a garbage collection.
 */
export function growthAfterWarmUp(
  samples: readonly { at: number; value: number }[],
  warmUpEndsAt: number,
  lateStartsAt: number,
  earlyEndsAt: number,
): number {
  const after = samples.filter((s) => s.at >= warmUpEndsAt);
  const early = after.filter((s) => s.at < Math.max(earlyEndsAt, warmUpEndsAt + 1)).map((s) => s.value);
  const late = after.filter((s) => s.at >= lateStartsAt).map((s) => s.value);
  const base = quantile(early.length ? early : after.slice(0, 1).map((s) => s.value), 0.5);
  const end = quantile(late.length ? late : after.slice(-1).map((s) => s.value), 0.5);
  return base > 0 ? end / base - 1 : NaN;
}

/**
 * Growth over the run's second half: the median of the window that starts half-way (as long
 * as the last window) against the last window's. Whatever the warm-up, a run whose memory
 * has levelled shows ~0 here; one that still grows shows it. The JIT warms up for tens of
 * minutes (functions tiering up), far beyond the third answer that ends the soak's warm-up.
 */
export function growthOverSecondHalf(samples: readonly { at: number; value: number }[], runMs: number): number {
  const { lateStartMs } = comparisonWindows(runMs);
  const half = runMs / 2;
  return growthAfterWarmUp(samples, half, lateStartMs, Math.min(half + (runMs - lateStartMs), lateStartMs));
}

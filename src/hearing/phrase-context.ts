/**
 * Context across a visitor's inner pauses.
 *
 * A sentence said with a pause in it ("And so, my fellow Americans … ask not") arrives as
 * two turns, and a recognizer hearing "ask not" alone has nothing to go on. When a turn
 * starts soon after the previous one ended, the recognizer hears the previous phrase's
 * audio in front of the new one, and the words it already reported for that phrase are
 * taken off the front of the result: the new phrase is transcribed in context, and
 * reported alone.
 *
 * Pure: the controller decides when to use it and joins the audio.
 */
import { normalizeText } from './transcript-filter.ts';
import { editDistanceOf } from './edit-distance.ts';

/** A turn that starts within this long after the previous one ended is heard in its context. */
export const CONTEXT_GAP_MS = 1500;
/** At most this much of the previous phrase is put in front (the end of it matters most). */
export const CONTEXT_MAX_SECONDS = 6;
/** Silence between the previous phrase and the new one, so words do not run together. */
export const CONTEXT_JOIN_SECONDS = 0.3;

/**
 * `previous` audio (its last {@link CONTEXT_MAX_SECONDS}), a short silence, then `audio`.
 */
export function withContext(previous: Float32Array, audio: Float32Array, sampleRateHz: number): Float32Array {
  const tail = previous.subarray(Math.max(0, previous.length - Math.round(CONTEXT_MAX_SECONDS * sampleRateHz)));
  const gap = Math.round(CONTEXT_JOIN_SECONDS * sampleRateHz);
  const joined = new Float32Array(tail.length + gap + audio.length);
  joined.set(tail);
  joined.set(audio, tail.length + gap);
  return joined;
}

/**
 * The words of `combined` after those that re-transcribe `previous`: the split is where
 * the front of `combined` is closest (word edit distance, normalized) to `previous`. If the
 * front does not resemble `previous` (more than half its words wrong), the context misled
 * the recognizer: undefined, and the caller transcribes the turn alone.
 */
export function stripContext(previous: string, combined: string): string | undefined {
  const before = normalizeText(previous).split(' ').filter(Boolean);
  const tokens = combined.trim().split(/\s+/).filter(Boolean);
  const words = tokens.map((token) => normalizeText(token));
  if (before.length === 0) return combined.trim();
  let bestSplit = 0;
  let bestDistance = Infinity;
  for (let split = 0; split <= tokens.length; split++) {
    const front = words.slice(0, split).filter(Boolean);
    const distance = editDistanceOf(before, front);
    // Ties go to the later split: a repeated last word belongs to the context.
    if (distance <= bestDistance) {
      bestDistance = distance;
      bestSplit = split;
    }
  }
  if (bestDistance > before.length / 2) return undefined;
  return tokens.slice(bestSplit).join(' ');
}

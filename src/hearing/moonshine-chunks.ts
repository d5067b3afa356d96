/**
 * Moonshine's limits, kept out of the worker so they can be tested: how many tokens a
 * stretch of audio may produce, and where to cut a long turn.
 *
 * Moonshine was trained on segments of up to about 30 s, and like every
 * sequence-to-sequence recognizer it can repeat itself on odd input; its authors bound
 * the output at about six tokens per second of audio.
 */

/** Tokens per second of audio the output may reach (Moonshine's paper uses 6). */
const TOKENS_PER_SECOND = 6;
/** A few more, so half a second ("Yes.") is not cut to nothing. */
const SPARE_TOKENS = 6;
/** The longest piece handed to the model at once. */
export const MOONSHINE_MAX_CHUNK_SECONDS = 25;
/** A long turn is cut at its quietest moment within this much of the chunk's end. */
const CUT_SEARCH_SECONDS = 10;
const CUT_WINDOW_SECONDS = 0.1;

export function moonshineMaxTokens(seconds: number): number {
  return Math.ceil(Math.max(0, seconds) * TOKENS_PER_SECOND) + SPARE_TOKENS;
}

/**
 * Splits `audio` into pieces of at most {@link MOONSHINE_MAX_CHUNK_SECONDS}, each cut at
 * the quietest 100 ms in the last 10 s before the limit (between words, as far as energy
 * tells). Short audio comes back whole, as one view of the same buffer.
 */
export function moonshineChunks(audio: Float32Array, sampleRateHz: number): Float32Array[] {
  const limit = Math.round(MOONSHINE_MAX_CHUNK_SECONDS * sampleRateHz);
  const window = Math.max(1, Math.round(CUT_WINDOW_SECONDS * sampleRateHz));
  const chunks: Float32Array[] = [];
  let start = 0;
  while (audio.length - start > limit) {
    const searchFrom = start + limit - Math.round(CUT_SEARCH_SECONDS * sampleRateHz);
    let cut = start + limit;
    let quietest = Infinity;
    for (let at = searchFrom; at + window <= start + limit; at += window) {
      let energy = 0;
      for (let i = at; i < at + window; i++) energy += audio[i]! * audio[i]!;
      if (energy < quietest) {
        quietest = energy;
        cut = at + (window >> 1);
      }
    }
    chunks.push(audio.subarray(start, cut));
    start = cut;
  }
  chunks.push(audio.subarray(start));
  return chunks;
}

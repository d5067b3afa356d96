/**
 * Sequence-to-sequence recognizers can fall into a loop: Whisper base, on a Spanish phrase
 * cut oddly by a pause, wrote "las arenas son blancas y" two hundred times until its
 * 448-token limit (seconds of decoding, and a transcript no one can use). Three defences,
 * pure so they can be tested here and used in the worker:
 *
 * 1. a token budget that follows the audio ({@link whisperMaxTokens});
 * 2. loop detection ({@link hasRepetitionLoop}), on which the worker decodes once more with
 *    repeated token n-grams forbidden (Whisper's own answer to loops is a second decode too,
 *    at a higher temperature; a deterministic one keeps tests and turns reproducible);
 * 3. whatever still loops is cut to one copy ({@link collapseRepetitions}).
 */

/** Fast speech is about 5 tokens a second (English words, Japanese kana); twice that is spare. */
const WHISPER_TOKENS_PER_SECOND = 10;
/** So a half-second "Yes." is never cut. */
const WHISPER_SPARE_TOKENS = 10;
/** Whisper's window; longer audio is decoded window by window, each with its own budget. */
const WHISPER_WINDOW_SECONDS = 30;
/** Whisper's decoder holds 448 positions; the start-of-transcript prompt takes up to 4. */
const WHISPER_MAX_NEW_TOKENS = 444;

/** The most tokens one Whisper window of `seconds` of audio may produce. */
export function whisperMaxTokens(seconds: number): number {
  const windowSeconds = Math.min(Math.max(0, seconds), WHISPER_WINDOW_SECONDS);
  return Math.min(WHISPER_MAX_NEW_TOKENS, Math.ceil(windowSeconds * WHISPER_TOKENS_PER_SECOND) + WHISPER_SPARE_TOKENS);
}

/** Token n-gram size forbidden from repeating on the second decode of a looping turn. */
export const LOOP_RETRY_NO_REPEAT_NGRAM = 4;

/** The longest repeated phrase looked for, in units (words, or characters without spaces). */
const MAX_PHRASE_UNITS = 12;

/**
 * Copies in a row that make a loop. People do say a phrase twice ("no, no"), and a word
 * three times ("very, very, very"); a phrase three times or a word five times is the model.
 */
function loopCopies(phraseUnits: number): number {
  return phraseUnits === 1 ? 5 : 3;
}

interface Units {
  readonly units: string[];
  /** Comparison keys: lower case, punctuation off. */
  readonly keys: string[];
  readonly separator: string;
}

/** Kana and CJK ideographs. */
const WRITTEN_WITHOUT_SPACES = /[\u3040-\u30ff\u3400-\u9fff]/u;

/**
 * Words when the text is spaced; characters for scripts written without spaces (Chinese,
 * Japanese), where a loop is a run of repeated characters.
 */
function unitsOf(text: string): Units {
  const words = text.split(/\s+/).filter(Boolean);
  const spaced = words.length > 1 || !WRITTEN_WITHOUT_SPACES.test(text);
  const units = spaced ? words : Array.from(text.trim());
  const keys = units.map((unit) => unit.toLowerCase().replace(/[^\p{L}\p{N}']+/gu, ''));
  return { units, keys, separator: spaced ? ' ' : '' };
}

/** How many times the `length`-unit phrase at `start` occurs back to back there. */
function copiesAt(keys: readonly string[], start: number, length: number): number {
  let copies = 1;
  for (;;) {
    const next = start + copies * length;
    if (next + length > keys.length) return copies;
    for (let k = 0; k < length; k++) if (keys[start + k] !== keys[next + k]) return copies;
    copies++;
  }
}

/** The loop starting at `start`: its phrase length and copies, or undefined. */
function loopAt(keys: readonly string[], start: number): { length: number; copies: number } | undefined {
  if (keys[start] === '') return undefined;
  for (let length = 1; length <= MAX_PHRASE_UNITS && start + 2 * length <= keys.length; length++) {
    const copies = copiesAt(keys, start, length);
    if (copies >= loopCopies(length)) return { length, copies };
  }
  return undefined;
}

/** True when the text holds a phrase repeated back to back more than people repeat one. */
export function hasRepetitionLoop(text: string): boolean {
  const { keys } = unitsOf(text);
  for (let start = 0; start < keys.length; start++) if (loopAt(keys, start)) return true;
  return false;
}

/** The text with every loop cut to a single copy of its phrase; other text untouched. */
export function collapseRepetitions(text: string): string {
  const { units, keys, separator } = unitsOf(text);
  const kept: string[] = [];
  for (let start = 0; start < units.length; ) {
    const loop = loopAt(keys, start);
    const take = loop ? loop.length : 1;
    kept.push(...units.slice(start, start + take));
    start += loop ? loop.length * loop.copies : 1;
  }
  return kept.length === units.length ? text : kept.join(separator);
}

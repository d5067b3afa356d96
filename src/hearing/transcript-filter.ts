/**
 * "No invented text": Whisper, given silence or noise, writes stock phrases ("Thank you.",
 * "you", "[BLANK_AUDIO]", "Thanks for watching!"). A turn only reaches Whisper after the
 * VAD heard speech in it, but the VAD can be fooled by noise; this is the second check,
 * from the turn's own evidence: how much speech the VAD counted, how loud it was, and
 * whether the text is one of those stock phrases or a non-speech annotation.
 */

/** Lower-case, no punctuation, numbers kept, single spaces: for comparisons and WER. */
export function normalizeText(text: string): string {
  return text
    .toLowerCase()
    .replace(/[‘’]/g, "'")
    .replace(/[^\p{L}\p{N}' ]+/gu, ' ')
    .replace(/(^|\s)'+|'+(?=\s|$)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * What Whisper writes when there is nothing to write, normalized. Sources: the outputs we
 * got on `../shared/audio/no-speech` and the well-known hallucination list of the Whisper
 * community (YouTube-caption endings).
 */
const STOCK_PHRASES = new Set(
  [
    'you',
    'thank you',
    'thanks',
    'thank you very much',
    'thanks for watching',
    'thank you for watching',
    'thanks for watching and see you next time',
    'please subscribe',
    'bye',
    'bye bye',
    'so',
    'okay',
    'oh',
    'uh',
    'um',
    'hmm',
    'the end',
    'i',
    'you you',
  ].map(normalizeText),
);

/** Annotations Whisper emits for non-speech: `[BLANK_AUDIO]`, `(music)`, `*sigh*`, `♪`. */
const NON_SPEECH_ANNOTATION = /^\s*(?:[[(*♪].*?[\])*♪]\s*)+$/u;

/** Below this much VAD-confirmed speech, a stock phrase is taken as invented. */
export const STOCK_PHRASE_MAX_SPEECH_MS = 1500;
/** Turn audio quieter than this (RMS, full scale 1) carries no speech worth transcribing. */
export const MIN_SPEECH_RMS = 0.002;

export interface TurnEvidence {
  /** Speech the VAD counted in the turn (ms in the speaking state). */
  readonly speechMs: number;
  /** RMS of the turn's audio. */
  readonly rms: number;
}

/** Whisper's text with non-speech annotations removed, trimmed. */
export function stripAnnotations(text: string): string {
  return text
    .replace(/\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|♪+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The transcript to report for a turn, or '' when the text is not something the visitor
 * said: empty, only annotations, a stock phrase on a short turn, or a near-silent turn.
 */
export function acceptTranscript(text: string, evidence: TurnEvidence): string {
  if (NON_SPEECH_ANNOTATION.test(text)) return '';
  const cleaned = stripAnnotations(text);
  const normalized = normalizeText(cleaned);
  if (!normalized) return '';
  if (evidence.rms < MIN_SPEECH_RMS) return '';
  if (STOCK_PHRASES.has(normalized) && evidence.speechMs < STOCK_PHRASE_MAX_SPEECH_MS) return '';
  return cleaned;
}

/** Root-mean-square of a signal (0 for an empty one). */
export function rmsOf(samples: Float32Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / samples.length);
}

/**
 * True when a transcript heard while the agent was speaking is the agent's own words
 * coming back (the echo gate's second line: it judges levels, this judges words). Most of
 * the transcript's words, in order, must appear among the agent's recent words — all of
 * them for a transcript of one or two words, at least 70 % for a longer one — so a
 * visitor who talks over the agent (even repeating a word of it) is not taken for echo.
 */
export function echoesAgent(transcript: string, agentSpeech: string): boolean {
  const words = normalizeText(transcript).split(' ').filter(Boolean);
  if (words.length === 0) return false;
  const agent = normalizeText(agentSpeech).split(' ').filter(Boolean).slice(-ECHO_WINDOW_WORDS);
  const matched = longestCommonSubsequence(words, agent);
  return words.length <= 2 ? matched === words.length : matched / words.length >= 0.7;
}

/** How far back the agent's words are compared (about the last 20 s of speech). */
const ECHO_WINDOW_WORDS = 60;

function longestCommonSubsequence(a: readonly string[], b: readonly string[]): number {
  let previous = new Array<number>(b.length + 1).fill(0);
  for (const word of a) {
    const current = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) {
      current[j] = word === b[j - 1] ? previous[j - 1]! + 1 : Math.max(previous[j]!, current[j - 1]!);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The cap on text waiting to be spoken. Replies stream in far faster than they can be
 * spoken (an LLM writes hundreds of words a second, a voice says about three), and every
 * queued clause costs a synthesis request and, once made, its audio in memory. Text
 * beyond the cap is not queued for speech (it is still shown as text): a runaway reply,
 * or a page calling `say()` in a loop, cannot grow the queue without bound.
 */

/** At most this many characters wait to be spoken (about four minutes of speech). */
export const MAX_QUEUED_SPEECH_CHARS = 4000;

export interface Admitted {
  /** The part of the text that joins the queue (a prefix; may be empty). */
  readonly text: string;
  /** Characters left out. */
  readonly dropped: number;
}

/**
 * How much of `text` may join a queue already holding `queuedChars` characters: all of
 * it if it fits; else the longest prefix that fits and ends at a sentence end, else at a
 * word end; else nothing — except that an empty queue takes a first piece even when it
 * has no word end (cut at the cap), so something is always said.
 */
export function admitToSpeechQueue(text: string, queuedChars: number, cap = MAX_QUEUED_SPEECH_CHARS): Admitted {
  const budget = cap - Math.max(0, queuedChars);
  if (text.length <= budget) return { text, dropped: 0 };
  if (budget <= 0) return { text: '', dropped: text.length };
  const window = text.slice(0, budget + 1);
  const sentenceEnd = lastMatchEnd(window.slice(0, budget), /[.!?…](?=\s|$)/g);
  const wordEnd = lastMatchEnd(window, /\S(?=\s)/g);
  let end = sentenceEnd > 0 ? sentenceEnd : Math.min(wordEnd, budget);
  if (end <= 0 && queuedChars <= 0) end = budget;
  const admitted = text.slice(0, Math.max(0, end)).trimEnd();
  return { text: admitted, dropped: text.length - admitted.length };
}

function lastMatchEnd(text: string, pattern: RegExp): number {
  let end = 0;
  for (const match of text.matchAll(pattern)) end = match.index + match[0].length;
  return end;
}

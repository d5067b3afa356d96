/**
 * Word error rate, with the normalization Whisper evaluations use: case, punctuation,
 * numbers written as words, and the spellings LibriSpeech references use ("mister").
 */
import { editDistanceOf } from '../../../src/hearing/edit-distance.ts';
import { normalizeText } from '../../../src/hearing/transcript-filter.ts';

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** 0 ≤ n < 1 000 000 as English words ("1961" → "one thousand nine hundred sixty one"). */
export function numberToWords(n: number): string {
  if (n < 20) return ONES[n]!;
  if (n < 100) return `${TENS[Math.floor(n / 10)]}${n % 10 ? ` ${ONES[n % 10]}` : ''}`;
  if (n < 1000) return `${ONES[Math.floor(n / 100)]} hundred${n % 100 ? ` ${numberToWords(n % 100)}` : ''}`;
  return `${numberToWords(Math.floor(n / 1000))} thousand${n % 1000 ? ` ${numberToWords(n % 1000)}` : ''}`;
}

const SPELLINGS: Record<string, string> = { mr: 'mister', mrs: 'missus', dr: 'doctor', st: 'saint', ok: 'okay' };

export function normalizeForWer(text: string): string[] {
  return normalizeText(text.replace(/(\d),(\d{3})/g, '$1$2').replace(/-/g, ' '))
    .split(' ')
    .filter(Boolean)
    .flatMap((word) => {
      if (/^\d+$/.test(word) && Number(word) < 1_000_000) return numberToWords(Number(word)).split(' ');
      return [SPELLINGS[word] ?? word];
    });
}

/** Word-level edit distance between two normalized word lists. */
export function editDistance(reference: readonly string[], hypothesis: readonly string[]): number {
  return editDistanceOf(reference, hypothesis);
}

/** Word error rate of `hypothesis` against `reference` (both raw text). */
export function wordErrorRate(reference: string, hypothesis: string): { errors: number; words: number; wer: number } {
  const ref = normalizeForWer(reference);
  const errors = editDistance(ref, normalizeForWer(hypothesis));
  return { errors, words: ref.length, wer: ref.length ? errors / ref.length : 0 };
}

/**
 * Character error rate, for languages written without spaces between words (Japanese,
 * Korean's spacing varies, Chinese): case, punctuation and whitespace removed, then an
 * edit distance over characters (code points).
 */
export function characterErrorRate(reference: string, hypothesis: string): { errors: number; characters: number; cer: number } {
  const chars = (text: string) => Array.from(normalizeText(text).replace(/\s+/g, ''));
  const ref = chars(reference);
  const errors = editDistance(ref, chars(hypothesis));
  return { errors, characters: ref.length, cer: ref.length ? errors / ref.length : 0 };
}

import { describe, expect, it } from 'vitest';
import { characterErrorRate, editDistance, normalizeForWer, numberToWords, wordErrorRate } from './wer.ts';

describe('word error rate', () => {
  it('normalizes case, punctuation, numbers and abbreviations', () => {
    expect(normalizeForWer('Mr. Quilter, in 1961 — ten-fold!')).toEqual(
      'mister quilter in one thousand nine hundred sixty one ten fold'.split(' '),
    );
    expect(numberToWords(0)).toBe('zero');
    expect(numberToWords(40)).toBe('forty');
    expect(numberToWords(105)).toBe('one hundred five');
  });

  it('counts substitutions, insertions and deletions', () => {
    expect(editDistance(['a', 'b', 'c'], ['a', 'b', 'c'])).toBe(0);
    expect(editDistance(['a', 'b', 'c'], ['a', 'x', 'c'])).toBe(1);
    expect(editDistance(['a', 'b', 'c'], ['a', 'c'])).toBe(1);
    expect(editDistance(['a', 'b'], ['a', 'b', 'c', 'd'])).toBe(2);
    expect(wordErrorRate('ask not what your country', 'Ask not, what our country')).toEqual({ errors: 1, words: 5, wer: 0.2 });
    expect(wordErrorRate('one two', '').wer).toBe(1);
  });
});

describe('characterErrorRate', () => {
  it('counts edits over characters, ignoring spaces and punctuation', () => {
    expect(characterErrorRate('广州市房地产中介协会分析', '广州市房地产中介协会分析。').cer).toBe(0);
    expect(characterErrorRate('그는 이리저리', '그는이리저리').cer).toBe(0);
    expect(characterErrorRate('abcd', 'abxd')).toEqual({ errors: 1, characters: 4, cer: 0.25 });
    expect(characterErrorRate('', 'x').cer).toBe(0);
  });
});

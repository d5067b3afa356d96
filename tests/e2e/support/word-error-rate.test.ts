import { describe, expect, it } from 'vitest';
import { normalizeWords, wordErrorRate } from './word-error-rate.ts';

describe('wordErrorRate', () => {
  it('is 0 for the same words, whatever the case and punctuation', () => {
    expect(wordErrorRate('Hello there, how are you?', ' hello there how are you')).toBe(0);
    expect(wordErrorRate("It's a well-known fact.", 'its a well known fact')).toBeCloseTo(1 / 5);
  });

  it('counts substitutions, deletions and insertions against the reference length', () => {
    expect(wordErrorRate('one two three four', 'one too three four')).toBe(0.25);
    expect(wordErrorRate('one two three four', 'one three four')).toBe(0.25);
    expect(wordErrorRate('one two three four', 'one two three four five six')).toBe(0.5);
    expect(wordErrorRate('one two', '')).toBe(1);
  });

  it('normalizes quotes, hyphens and symbols', () => {
    expect(normalizeWords('“Don’t” — stop-and-go!')).toEqual(["don't", 'stop', 'and', 'go']);
  });
});

import { describe, expect, it } from 'vitest';
import { CONTEXT_JOIN_SECONDS, CONTEXT_MAX_SECONDS, stripContext, withContext } from './phrase-context.ts';

describe('stripContext', () => {
  it('takes the previous phrase off the front, keeping the new words as written', () => {
    expect(stripContext('And so, my fellow Americans.', 'And so my fellow Americans, ask not what your country')).toBe(
      'ask not what your country',
    );
  });

  it('tolerates the previous phrase heard a little differently the second time', () => {
    expect(stripContext('And so, am I fellow Americans', 'And so my fellow Americans, ask not')).toBe('ask not');
    // A misheard last word of the context is still the context's.
    expect(stripContext('turn left at the lights', 'turn left at the light, then right')).toBe('then right');
  });

  it('gives up when the front does not resemble the previous phrase', () => {
    expect(stripContext('what a lovely day', 'Ask not what your country can do')).toBeUndefined();
    expect(stripContext('yes', 'no thanks')).toBeUndefined();
  });

  it('returns an empty text when the result is only the previous phrase again', () => {
    expect(stripContext('ask not', 'Ask not.')).toBe('');
  });

  it('passes the text through when there was no previous text', () => {
    expect(stripContext('', ' Hello there ')).toBe('Hello there');
  });
});

describe('withContext', () => {
  it('puts the end of the previous phrase and a short silence before the turn', () => {
    const rate = 1000;
    const previous = new Float32Array(rate * (CONTEXT_MAX_SECONDS + 2)).fill(0.5);
    const audio = new Float32Array(rate).fill(0.25);
    const joined = withContext(previous, audio, rate);
    const gap = CONTEXT_JOIN_SECONDS * rate;
    expect(joined.length).toBe(CONTEXT_MAX_SECONDS * rate + gap + rate);
    expect(joined[0]).toBe(0.5);
    expect(joined[CONTEXT_MAX_SECONDS * rate + 1]).toBe(0);
    expect(joined.at(-1)).toBe(0.25);
  });
});

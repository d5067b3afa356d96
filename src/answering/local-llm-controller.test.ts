import { describe, expect, it } from 'vitest';
import { skipRepeatedText } from './local-llm-controller.ts';

/** Feeds a rerun's pieces to skipRepeatedText after `said` was already passed on; returns what it passed on. */
function rerun(said: string, pieces: string[]) {
  const delivered = { text: said };
  const passed: string[] = [];
  const callback = skipRepeatedText(delivered, (text) => passed.push(text));
  for (const piece of pieces) callback(piece);
  return { passed, diverged: callback.diverged === true, delivered: delivered.text };
}

describe('skipRepeatedText (a generation rerun after its worker was lost)', () => {
  it('skips the words already said and passes on the rest', () => {
    const { passed, diverged, delivered } = rerun('The sky is ', ['The ', 'sky ', 'is ', 'blue ', 'today.']);
    expect(passed).toEqual(['blue ', 'today.']);
    expect(diverged).toBe(false);
    expect(delivered).toBe('The sky is blue today.');
  });

  it('a piece that straddles the cut passes on only its new part', () => {
    expect(rerun('The sky', ['The sky is', ' blue.']).passed).toEqual([' is', ' blue.']);
  });

  it('nothing said before the loss: the rerun is passed on whole', () => {
    expect(rerun('', ['Hello ', 'there.']).passed).toEqual(['Hello ', 'there.']);
  });

  it('a rerun that says something else is marked diverged and passes nothing on', () => {
    const { passed, diverged } = rerun('The sky is ', ['A ', 'cloud ', 'is ', 'white.']);
    expect(passed).toEqual([]);
    expect(diverged).toBe(true);
  });

  it('a rerun that strays after the cut point is caught too', () => {
    const { passed, diverged } = rerun('The sky', ['The sea is blue.']);
    expect(passed).toEqual([]);
    expect(diverged).toBe(true);
  });

  it('a rerun that ends before reaching the cut passes nothing on and is not marked', () => {
    const { passed, diverged } = rerun('The sky is blue.', ['The ', 'sky']);
    expect(passed).toEqual([]);
    expect(diverged).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { collapseRepetitions, hasRepetitionLoop, whisperMaxTokens } from './repetition.ts';

const JFK = 'And so, my fellow Americans, ask not what your country can do for you, ask what you can do for your country.';
/** What Whisper base wrote for an 8.7 s Spanish clip in CI (abridged: it went on to 448 tokens). */
const SPANISH_LOOP = `${'las arenas son blancas y '.repeat(30)}las arenas blancas`;

describe('whisperMaxTokens', () => {
  it('follows the audio, with spare for a one-word turn', () => {
    expect(whisperMaxTokens(0.5)).toBe(15);
    expect(whisperMaxTokens(8.7)).toBe(97);
  });
  it('budgets each 30 s window alone and never passes the decoder length', () => {
    expect(whisperMaxTokens(45)).toBe(whisperMaxTokens(30));
    expect(whisperMaxTokens(30)).toBeLessThanOrEqual(444);
    expect(whisperMaxTokens(-1)).toBe(10);
  });
});

describe('hasRepetitionLoop', () => {
  it('finds a phrase written over and over', () => {
    expect(hasRepetitionLoop(SPANISH_LOOP)).toBe(true);
    expect(hasRepetitionLoop('the the the the the end')).toBe(true);
    expect(hasRepetitionLoop('客観的実在客観的実在客観的実在客観的実在')).toBe(true);
  });
  it('leaves what people say alone: rhetoric, a doubled phrase, a tripled word', () => {
    expect(hasRepetitionLoop(JFK)).toBe(false);
    expect(hasRepetitionLoop('No, no. I said no, no.')).toBe(false);
    expect(hasRepetitionLoop('It was very, very, very good.')).toBe(false);
    expect(hasRepetitionLoop('客観的実在の判断的知識が成立するのである')).toBe(false);
    expect(hasRepetitionLoop('')).toBe(false);
  });
});

describe('collapseRepetitions', () => {
  it('keeps one copy of a loop and the words around it', () => {
    expect(collapseRepetitions(`Hola. ${SPANISH_LOOP}`)).toBe('Hola. las arenas son blancas y las arenas blancas');
    expect(collapseRepetitions('I think think think think think so.')).toBe('I think so.');
    expect(collapseRepetitions('ははははははは')).toBe('は');
  });
  it('returns text without a loop unchanged, spacing and punctuation included', () => {
    expect(collapseRepetitions(JFK)).toBe(JFK);
    expect(collapseRepetitions('  Go forward, ten meters.  ')).toBe('  Go forward, ten meters.  ');
  });
});

import { describe, expect, it } from 'vitest';
import { admitToSpeechQueue, MAX_QUEUED_SPEECH_CHARS } from './speech-queue.ts';

describe('admitToSpeechQueue', () => {
  it('admits a text that fits whole', () => {
    const text = 'Hello there, how can I help?';
    expect(admitToSpeechQueue(text, 0, 100)).toEqual({ text, dropped: 0 });
    expect(admitToSpeechQueue(text, 100 - text.length, 100)).toEqual({ text, dropped: 0 });
  });

  it('cuts an over-long text at its last sentence end within the budget', () => {
    const text = 'One sentence here. Another one follows. And a third that does not fit.';
    const budget = text.indexOf('And') + 5;
    const admitted = admitToSpeechQueue(text, 0, budget);
    expect(admitted.text).toBe('One sentence here. Another one follows.');
    expect(admitted.dropped).toBe(text.length - admitted.text.length);
  });

  it('cuts at a word end when no sentence ends within the budget, never inside a word', () => {
    const text = 'a long run of words without any full stop at all in it';
    for (let budget = 3; budget < text.length; budget++) {
      const { text: admitted, dropped } = admitToSpeechQueue(text, 0, budget);
      expect(admitted.length).toBeLessThanOrEqual(budget);
      expect(admitted.length + dropped).toBe(text.length);
      expect(text.startsWith(admitted)).toBe(true);
      // Whole words only: the cut falls before a space.
      expect(text[admitted.length]).toBe(' ');
    }
  });

  it('counts what is already queued against the cap', () => {
    const text = 'Twelve chars';
    expect(admitToSpeechQueue(text, 93, 100)).toEqual({ text: 'Twelve', dropped: text.length - 'Twelve'.length });
    expect(admitToSpeechQueue(text, 100, 100)).toEqual({ text: '', dropped: text.length });
    expect(admitToSpeechQueue(text, 250, 100)).toEqual({ text: '', dropped: text.length });
  });

  it('says something from an empty queue even if the text has no word end (cut at the cap)', () => {
    const text = 'x'.repeat(50);
    expect(admitToSpeechQueue(text, 0, 20)).toEqual({ text: 'x'.repeat(20), dropped: 30 });
    // …but a queue that already holds speech waits rather than cut a word.
    expect(admitToSpeechQueue(text, 5, 20)).toEqual({ text: '', dropped: 50 });
  });

  it('bounds a runaway stream of clauses: the queue never holds more than the cap', () => {
    const clause = 'This clause goes on and on, as a runaway reply would. ';
    let queued = 0;
    let admittedClauses = 0;
    for (let i = 0; i < 1000; i++) {
      const { text } = admitToSpeechQueue(clause.trim(), queued);
      if (text) admittedClauses++;
      queued += text.length;
      expect(queued).toBeLessThanOrEqual(MAX_QUEUED_SPEECH_CHARS);
    }
    expect(admittedClauses).toBeGreaterThan(0);
    expect(admittedClauses).toBeLessThan(1000);
  });
});

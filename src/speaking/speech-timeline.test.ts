import { describe, expect, it } from 'vitest';
import { splitClauses } from './speakable-text.ts';
import { SpeechTimeline, lastWordEnd, startDelayMs } from './speech-timeline.ts';

describe('lastWordEnd', () => {
  const text = 'one two three';
  it('rounds down to the end of the last whole word', () => {
    expect(lastWordEnd(text, 0, 5)).toBe(3); // "one t|wo" → "one"
    expect(lastWordEnd(text, 0, 7)).toBe(7); // "one two| three" → "one two"
    expect(lastWordEnd(text, 0, 2)).toBe(0); // inside the first word → nothing
    expect(lastWordEnd(text, 0, 13)).toBe(13);
    expect(lastWordEnd(text, 4, 5)).toBe(4); // never before `from`
  });
});

describe('SpeechTimeline', () => {
  // Two clauses: "Hello there," (12 chars) and "how are you?" (12 chars), 1000 frames each,
  // with 100 frames of the voice's own silence at each end.
  const text = 'Hello there, how are you?';
  const timeline = () => {
    const t = new SpeechTimeline(text);
    t.add({ start: 0, end: 12, frames: 1000, voicedStartFrame: 100, voicedEndFrame: 900 });
    t.add({ start: 13, end: 25, frames: 1000, voicedStartFrame: 100, voicedEndFrame: 900 });
    return t;
  };

  it('hears nothing before the first voiced frame', () => {
    expect(timeline().heardText(0)).toBe('');
    expect(timeline().heardText(100)).toBe('');
  });

  it('interpolates within a clause and rounds down to whole words', () => {
    // Halfway through the first clause's speech: char 6 → "Hello" heard, "there," not yet.
    expect(timeline().heardText(500)).toBe('Hello');
    expect(timeline().heardText(899)).toBe('Hello');
    expect(timeline().heardText(900)).toBe('Hello there,');
  });

  it('counts a clause as heard once its speech is over, silence included', () => {
    expect(timeline().heardText(1050)).toBe('Hello there,');
    expect(timeline().heardText(1100 + 400)).toBe('Hello there, how');
    expect(timeline().heardText(2000)).toBe(text);
    expect(timeline().heardText(1e9)).toBe(text);
  });

  it('never goes backwards as playback advances', () => {
    const t = timeline();
    let last = 0;
    for (let frame = 0; frame <= 2100; frame += 7) {
      const offset = t.heardOffset(frame);
      expect(offset).toBeGreaterThanOrEqual(last);
      expect(text.startsWith(text.slice(0, offset))).toBe(true);
      last = offset;
    }
    expect(t.totalFrames).toBe(2000);
  });

  it('passes over a clause with nothing to say', () => {
    const reply = 'Run this:\n```\nls\n```\nThen wait.';
    const clauses = splitClauses(reply);
    const t = new SpeechTimeline(reply);
    for (const clause of clauses) {
      const frames = clause.speech ? 1000 : 0;
      t.add({ start: clause.start, end: clause.end, frames, voicedStartFrame: 0, voicedEndFrame: frames });
    }
    expect(t.heardText(1000)).toBe('Run this:\n```\nls\n```');
    expect(t.heardText(2000)).toBe(reply);
  });
});

describe('startDelayMs', () => {
  const clauses = ['Hello there,', 'thanks for calling.', 'The weather today is sunny and warm,', 'with a light breeze.'].map(
    (speech) => ({ speech }),
  );

  it('is 0 when synthesis is several times faster than real time', () => {
    // Measured here: "Hello there," → 780 ms of audio in ~150 ms.
    expect(startDelayMs(clauses, 0, { phonemizeMs: 20, inferenceMs: 130, audioMs: 780 })).toBe(0);
  });

  it('holds the start back just enough when synthesis is about real time', () => {
    const first = { phonemizeMs: 20, inferenceMs: 450, audioMs: 780 };
    const delay = startDelayMs(clauses, 0, first);
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThan(1500);
    // Simulate with the same per-character model: no clause is late with this delay.
    const costPerChar = 470 / 12;
    const audioPerChar = 780 / 12;
    let ready = 0;
    let start = delay + 780;
    for (const clause of clauses.slice(1)) {
      ready += costPerChar * clause.speech.length;
      expect(ready).toBeLessThanOrEqual(start);
      start += audioPerChar * clause.speech.length;
    }
  });

  it('never waits more than the cap, and ignores clauses with nothing to say', () => {
    expect(startDelayMs(clauses, 0, { phonemizeMs: 0, inferenceMs: 10_000, audioMs: 100 })).toBe(1500);
    expect(startDelayMs([{ speech: 'Hi.' }, { speech: '' }], 0, { phonemizeMs: 10, inferenceMs: 900, audioMs: 300 })).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { EchoGate } from './echo-gate.ts';

/** A speech-like output envelope (words, gaps, varying level), deterministic. */
function envelope(length: number, seed = 7): number[] {
  let s = seed;
  const random = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out: number[] = [];
  while (out.length < length) {
    const level = 0.04 + 0.1 * random();
    const word = 2 + Math.floor(random() * 6);
    for (let i = 0; i < word; i++) out.push(level * (0.7 + 0.3 * random()));
    const gap = Math.floor(random() * 4);
    for (let i = 0; i < gap; i++) out.push(0);
  }
  return out.slice(0, length);
}

/** Loudest of the last `tail` readings: what the element measures over the echo tail. */
const peak = (out: number[], t: number, tail = 20) => Math.max(...out.slice(Math.max(0, t - tail), t + 1));

/** Readings of a mic that hears the output `delay` readings late at `gain`. */
function train(gate: EchoGate, gain: number, delay: number, readings = 120): void {
  const out = envelope(readings + 20);
  for (let t = 20; t < out.length; t++) gate.observe(gain * out[t - delay]! + 0.001, peak(out, t));
}

describe('EchoGate', () => {
  it('assumes a loud echo until it has learned the coupling', () => {
    const gate = new EchoGate();
    expect(gate.coupling).toBe(1);
    // Speech at the output's own level is not enough yet…
    expect(gate.isEcho(0.1, 0.1)).toBe(true);
    // …twice as loud is.
    expect(gate.isEcho(0.21, 0.1)).toBe(false);
  });

  it('learns the echo coupling from the agent speaking, whatever the delay', () => {
    for (const [gain, delay] of [
      [0.25, 1],
      [0.25, 11],
      [0.05, 4],
    ] as const) {
      const gate = new EchoGate();
      train(gate, gain, delay);
      expect(gate.coupling).toBeGreaterThan(gain * 0.5);
      expect(gate.coupling).toBeLessThanOrEqual(gain * 1.2); // the mic's own noise floor adds a little
    }
  });

  it('lets the visitor through over the echo, and not the echo alone', () => {
    const gate = new EchoGate();
    train(gate, 0.25, 6);
    // Any stretch of echo alone stays below the gate…
    const out = envelope(400, 99);
    for (let t = 20; t < out.length; t++) expect(gate.isEcho(0.25 * out[t - 6]! + 0.001, peak(out, t))).toBe(true);
    // …speech at 0.08 RMS over the loudest echo does not.
    expect(gate.isEcho(Math.hypot(0.08, 0.25 * 0.14), 0.14)).toBe(false);
  });

  it('never calls speech echo while the agent is silent; while it is audible, faint sounds are', () => {
    const gate = new EchoGate();
    train(gate, 0.25, 3);
    expect(gate.isEcho(0.001, 0)).toBe(false);
    expect(gate.expectedEcho(0.001)).toBe(0);
    expect(gate.isEcho(0.003, 0.1)).toBe(true);
  });

  it('with the browser canceller working (a faint residue), ordinary speech gets through', () => {
    const gate = new EchoGate();
    train(gate, 0.02, 2);
    expect(gate.coupling).toBeLessThan(0.05);
    expect(gate.isEcho(0.03, 0.15)).toBe(false);
  });

  it('does not learn from double talk: a visitor drowned by the echo at first is not locked out', () => {
    const gate = new EchoGate();
    train(gate, 0.25, 3);
    const learned = gate.coupling;
    // The visitor talks over loud output for two seconds; at first the gate holds…
    expect(gate.isEcho(0.09, 0.23)).toBe(true);
    for (let i = 0; i < 40; i++) gate.observe(0.2, 0.23, i);
    // …but their readings did not raise the bar: louder speech gets through.
    expect(gate.coupling).toBe(learned);
    expect(gate.isEcho(0.2, 0.23)).toBe(false);
  });

  it('forgets the readings taken since a barge-in began (the visitor, not echo)', () => {
    const gate = new EchoGate({ minReadings: 5 });
    for (let t = 0; t < 10; t++) gate.observe(0.02, 0.1, t * 50);
    const before = gate.coupling;
    for (let t = 10; t < 13; t++) gate.observe(0.035, 0.1, t * 50); // under the freeze limit, still the visitor
    expect(gate.coupling).toBeGreaterThan(before);
    gate.forgetSince(10 * 50);
    expect(gate.coupling).toBe(before);
  });

  it('ignores readings over silent output, keeps only its window, and forgets on reset', () => {
    const gate = new EchoGate({ window: 40, minReadings: 10 });
    for (let i = 0; i < 50; i++) gate.observe(0.5, 0);
    expect(gate.coupling).toBe(1);
    train(gate, 0.5, 2, 40);
    train(gate, 0.1, 2, 40); // the browser's canceller converged
    expect(gate.coupling).toBeLessThan(0.15);
    gate.reset();
    expect(gate.coupling).toBe(1);
  });
});

/**
 * The gap check on captured speech output must be able to fail: run it on synthetic
 * signals with known holes.
 */
import { describe, expect, it } from 'vitest';
import { longestSilenceMs, silentRuns, soundSpan } from './audio-analysis.ts';

const RATE = 48_000;
const tone = (ms: number, amplitude = 0.2) =>
  Float32Array.from({ length: (ms / 1000) * RATE }, (_, i) => amplitude * Math.sin((2 * Math.PI * 220 * i) / RATE));
const quiet = (ms: number, noise = 0) => Float32Array.from({ length: (ms / 1000) * RATE }, () => (Math.random() - 0.5) * noise);
const join = (...parts: Float32Array[]) => {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

describe('silence measurements', () => {
  it('finds the hole between two sounds, to within a window', () => {
    const signal = join(quiet(300), tone(500), quiet(120), tone(400), quiet(200));
    const runs = silentRuns(signal, RATE);
    expect(runs).toHaveLength(1);
    expect(Math.abs(longestSilenceMs(signal, RATE) - 120)).toBeLessThanOrEqual(10);
    const span = soundSpan(signal, RATE)!;
    expect(Math.abs(span.start / RATE - 0.3)).toBeLessThanOrEqual(0.006);
    expect(Math.abs(span.end / RATE - 1.32)).toBeLessThanOrEqual(0.006);
  });

  it('ignores leading and trailing silence and counts near-silent noise as silence', () => {
    const signal = join(quiet(500, 1e-4), tone(200), quiet(60, 1e-4), tone(200, 0.01), quiet(900, 1e-4));
    expect(Math.abs(longestSilenceMs(signal, RATE) - 60)).toBeLessThanOrEqual(10);
  });

  it('reports no hole in continuous sound and nothing at all in silence', () => {
    expect(longestSilenceMs(tone(1000), RATE)).toBe(0);
    expect(soundSpan(quiet(1000), RATE)).toBeNull();
    expect(silentRuns(quiet(1000), RATE)).toEqual([]);
  });
});

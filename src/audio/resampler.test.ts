import { describe, expect, it } from 'vitest';
import { concatPcm } from './pcm.ts';
import { StreamingResampler } from './resampler.ts';

function sine(rateHz: number, frequencyHz: number, seconds: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(Math.round(rateHz * seconds));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / rateHz);
  return out;
}

/** Amplitude of `frequencyHz` in `signal` (single-bin DFT), i.e. ~0.5 for a 0.5 sine. */
function toneAmplitude(signal: Float32Array, rateHz: number, frequencyHz: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < signal.length; i++) {
    const angle = (2 * Math.PI * frequencyHz * i) / rateHz;
    re += signal[i]! * Math.cos(angle);
    im -= signal[i]! * Math.sin(angle);
  }
  return (2 * Math.hypot(re, im)) / signal.length;
}

function rms(signal: Float32Array): number {
  let sum = 0;
  for (const s of signal) sum += s * s;
  return Math.sqrt(sum / signal.length);
}

/** Resamples `input` in chunks of `chunk` samples (128 = one render quantum). */
function resampleChunked(resampler: StreamingResampler, input: Float32Array, chunk: number): Float32Array {
  const parts: Float32Array[] = [];
  for (let i = 0; i < input.length; i += chunk) parts.push(resampler.process(input.subarray(i, i + chunk)));
  return concatPcm(parts);
}

describe('StreamingResampler', () => {
  for (const inputRate of [48_000, 44_100, 96_000, 22_050]) {
    it(`keeps a 440 Hz tone's frequency and level from ${inputRate} Hz to 16 kHz`, () => {
      const resampler = new StreamingResampler(inputRate, 16_000);
      const out = resampleChunked(resampler, sine(inputRate, 440, 1), 128);
      // One second in ≈ one second out (minus the filter's look-ahead of HALF_TAPS input samples).
      expect(out.length).toBeGreaterThan(16_000 - 20);
      expect(out.length).toBeLessThanOrEqual(16_000);
      const steady = out.subarray(200, out.length - 200);
      expect(toneAmplitude(steady, 16_000, 440)).toBeCloseTo(0.5, 2);
      // Energy is at 440 Hz, not at a neighbour (wrong-rate output would shift it).
      expect(toneAmplitude(steady, 16_000, 460)).toBeLessThan(0.05);
    });
  }

  it('gives the same output whatever the chunk sizes', () => {
    const input = sine(48_000, 1000, 0.5);
    const oneShot = new StreamingResampler(48_000, 16_000).process(input);
    for (const chunk of [1, 7, 128, 1000]) {
      const chunked = resampleChunked(new StreamingResampler(48_000, 16_000), input, chunk);
      expect(chunked.length).toBe(oneShot.length);
      let maxDiff = 0;
      for (let i = 0; i < chunked.length; i++) maxDiff = Math.max(maxDiff, Math.abs(chunked[i]! - oneShot[i]!));
      expect(maxDiff).toBeLessThan(1e-5);
    }
  });

  it('rejects content above the output Nyquist instead of aliasing it into the speech band', () => {
    // 12 kHz at 48 kHz would alias to 4 kHz with naive decimation.
    const out = new StreamingResampler(48_000, 16_000).process(sine(48_000, 12_000, 1));
    const steady = out.subarray(200, out.length - 200);
    expect(rms(steady)).toBeLessThan(0.005);
    expect(toneAmplitude(steady, 16_000, 4000)).toBeLessThan(0.005);
  });

  it('keeps silence silent and DC at unit gain', () => {
    const silent = new StreamingResampler(44_100, 16_000).process(new Float32Array(4410));
    expect(silent.every((s) => s === 0)).toBe(true);
    const dc = new StreamingResampler(44_100, 16_000).process(new Float32Array(44_100).fill(0.25));
    for (const s of dc.subarray(100, dc.length - 100)) expect(s).toBeCloseTo(0.25, 4);
  });

  it('passes 16 kHz input through unchanged', () => {
    const input = sine(16_000, 300, 0.1);
    expect(Array.from(new StreamingResampler(16_000, 16_000).process(input))).toEqual(Array.from(input));
  });

  it('does not grow its buffers over a long stream', () => {
    const resampler = new StreamingResampler(48_000, 16_000);
    const chunk = sine(48_000, 200, 128 / 48_000);
    let total = 0;
    for (let i = 0; i < 48_000 * 60 / 128; i++) total += resampler.process(chunk).length;
    expect(Math.abs(total - 16_000 * 60)).toBeLessThan(20);
    expect((resampler as unknown as { history: Float32Array }).history.length).toBeLessThan(1024);
  });

  it('rejects nonsense rates', () => {
    expect(() => new StreamingResampler(0, 16_000)).toThrow(RangeError);
    expect(() => new StreamingResampler(48_000, Number.NaN)).toThrow(RangeError);
  });
});

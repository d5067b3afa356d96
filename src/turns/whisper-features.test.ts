import { describe, expect, it } from 'vitest';
import { WhisperFeatureExtractor } from '@huggingface/transformers';
import { join } from 'node:path';
import { AUDIO_DIR, readWav } from '../../tests/e2e/support/wav.ts';
import {
  Fft,
  N_FRAMES,
  N_MELS,
  SMART_TURN_WINDOW_SAMPLES,
  smartTurnFeatures,
  smartTurnWaveform,
  whisperLogMel,
} from './whisper-features.ts';

function naiveDft(re: Float64Array, im: Float64Array): [Float64Array, Float64Array] {
  const n = re.length;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) {
      const angle = (-2 * Math.PI * j * k) / n;
      outRe[k]! += re[j]! * Math.cos(angle) - im[j]! * Math.sin(angle);
      outIm[k]! += re[j]! * Math.sin(angle) + im[j]! * Math.cos(angle);
    }
  }
  return [outRe, outIm];
}

describe('Fft', () => {
  for (const size of [1, 2, 5, 8, 12, 25, 400]) {
    it(`matches a naive DFT for n = ${size}`, () => {
      const re = Float64Array.from({ length: size }, (_, i) => Math.sin(i * 1.7) + (i % 3) * 0.25);
      const im = Float64Array.from({ length: size }, (_, i) => Math.cos(i * 0.3) * 0.5);
      const [wantRe, wantIm] = naiveDft(re, im);
      const outRe = new Float64Array(size);
      const outIm = new Float64Array(size);
      new Fft(size).transform(re, im, outRe, outIm);
      for (let k = 0; k < size; k++) {
        expect(outRe[k]).toBeCloseTo(wantRe[k]!, 8);
        expect(outIm[k]).toBeCloseTo(wantIm[k]!, 8);
      }
    });
  }
});

describe('smartTurnWaveform', () => {
  it('keeps the last 8 s, zero-pads at the start, then normalizes the whole window', () => {
    const short = Float32Array.from({ length: 16_000 }, (_, i) => Math.sin(i / 7));
    const out = smartTurnWaveform(short);
    expect(out.length).toBe(SMART_TURN_WINDOW_SAMPLES);
    const mean = out.reduce((a, b) => a + b, 0) / out.length;
    const variance = out.reduce((a, b) => a + (b - mean) ** 2, 0) / out.length;
    expect(mean).toBeCloseTo(0, 9);
    expect(variance).toBeCloseTo(1, 5);
    // The padding (start) is one constant value; the audio is at the end.
    expect(out[0]).toBe(out[SMART_TURN_WINDOW_SAMPLES - 16_001]);
    expect(out[SMART_TURN_WINDOW_SAMPLES - 1]).not.toBe(out[0]);

    const long = Float32Array.from({ length: 200_000 }, (_, i) => (i < 72_000 ? 5 : Math.sin(i / 7)));
    const tail = smartTurnWaveform(long);
    // The first 72 000 samples (the loud 5s) are dropped: the window is a plain sine.
    expect(Math.max(...tail.subarray(0, 1000))).toBeLessThan(2);
  });
});

describe('whisperLogMel', () => {
  it('equals transformers.js WhisperFeatureExtractor(chunk_length=8) on the same normalized JFK waveform', async () => {
    const jfk = readWav(join(AUDIO_DIR, 'english-other/en_jfk_inaugural_1961.wav')).samples;
    // Cut at 3.0 s: exercises the zero padding at the start too.
    for (const audio of [jfk, jfk.subarray(0, 48_000)]) {
      const waveform = smartTurnWaveform(audio);
      const ours = whisperLogMel(waveform);
      const reference = new WhisperFeatureExtractor({
        feature_size: N_MELS,
        sampling_rate: 16_000,
        hop_length: 160,
        chunk_length: 8,
        n_fft: 400,
        n_samples: SMART_TURN_WINDOW_SAMPLES,
        nb_max_frames: N_FRAMES,
        padding_value: 0,
      });
      const { input_features } = (await reference(Float32Array.from(waveform))) as {
        input_features: { dims: number[]; data: Float32Array };
      };
      expect(input_features.dims).toEqual([1, N_MELS, N_FRAMES]);
      let worst = 0;
      for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - input_features.data[i]!));
      expect(worst).toBeLessThan(1e-3);
      // The shortcut for the constant (padded) frames changes nothing.
      const shortcut = smartTurnFeatures(audio);
      let diff = 0;
      for (let i = 0; i < ours.length; i++) diff = Math.max(diff, Math.abs(ours[i]! - shortcut[i]!));
      expect(diff).toBeLessThan(1e-5);
    }
  });

  it('gives the same features with and without the constant-prefix shortcut, for any turn length', () => {
    for (const seconds of [0.2, 1.3, 4, 7.99, 9]) {
      const audio = Float32Array.from({ length: Math.round(seconds * 16_000) }, (_, i) => Math.sin(i / 11) * 0.3 + Math.sin(i / 2.7) * 0.05);
      const plain = whisperLogMel(smartTurnWaveform(audio));
      const fast = smartTurnFeatures(audio);
      let diff = 0;
      for (let i = 0; i < plain.length; i++) diff = Math.max(diff, Math.abs(plain[i]! - fast[i]!));
      expect(diff, `${seconds} s`).toBeLessThan(1e-5);
    }
  });

  it('is fast enough to sit in front of a model call', () => {
    const audio = Float32Array.from({ length: 64_000 }, (_, i) => Math.sin(i / 9) * 0.2);
    const started = performance.now();
    const features = smartTurnFeatures(audio);
    const elapsed = performance.now() - started;
    expect(features.length).toBe(N_MELS * N_FRAMES);
    expect(features.every(Number.isFinite)).toBe(true);
    // Loose bound (shared 2-core machine): a naive 400-point DFT would take seconds here.
    expect(elapsed).toBeLessThan(2000);
  });
});

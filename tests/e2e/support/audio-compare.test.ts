/**
 * The e2e "same speech" check must be able to fail: run it on real recordings against
 * the counterfeits a broken capture path would produce.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { SAME_SPEECH, locate } from './audio-compare.ts';
import { AUDIO_DIR, readWav } from './wav.ts';

const source = readWav(join(AUDIO_DIR, 'english-other/en_cmuarctic_aew_a0001.wav')).samples;
const other = readWav(join(AUDIO_DIR, 'librispeech/test-clean/ls_test-clean_260-123286-0001.wav')).samples;
const excerpt = source.slice(8000, 8000 + 32_000); // 2 s of speech
const padded = (x: Float32Array) => {
  const out = new Float32Array(x.length + 32_000);
  out.set(x, 16_000);
  return out;
};

describe('locate (spectral same-speech check)', () => {
  it('finds an excerpt of the recording, through gain and a crude filter, at the right place', () => {
    let previous = 0;
    const processed = excerpt.map((s) => {
      previous = 0.6 * s + 0.3 * previous; // low-pass + gain change, like capture processing
      return previous + (Math.random() - 0.5) * 1e-3;
    });
    const match = locate(processed, padded(source));
    expect(match.correlation).toBeGreaterThan(0.9);
    expect(Math.abs(match.offset - (16_000 + 8000))).toBeLessThanOrEqual(256);
  });

  it('scores the same speech at a wrong sample rate low', () => {
    const tooFast = excerpt.filter((_, i) => i % 3 === 0); // 48 kHz read as 16 kHz, reversed
    const tooSlow = Float32Array.from({ length: excerpt.length }, (_, i) => excerpt[Math.floor(i / 3)]!);
    expect(locate(tooFast, padded(source)).correlation).toBeLessThan(SAME_SPEECH - 0.1);
    expect(locate(tooSlow, padded(source)).correlation).toBeLessThan(SAME_SPEECH - 0.1);
  });

  it('scores other speech and near-silence low', () => {
    expect(locate(excerpt, padded(other)).correlation).toBeLessThan(SAME_SPEECH - 0.1);
    const hiss = Float32Array.from({ length: excerpt.length }, () => (Math.random() - 0.5) * 1e-3);
    expect(locate(hiss, padded(source)).correlation).toBeLessThan(0.3);
  });
});

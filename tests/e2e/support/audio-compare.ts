/**
 * Checks that captured audio is the same speech as a source recording.
 *
 * The microphone path runs Chromium's echo canceller, noise suppressor and AGC (the
 * element asks for them, as a voice product must). They keep *what* was said but not the
 * waveform: sample-level correlation of a turn with its source falls to ~0.4 with echo
 * cancellation on (~0.99 with all processing off). So the comparison is made on
 * log-spectrograms (32 bands × 16 ms), which that processing preserves, and which still
 * tell apart silence, other speech, and the same speech at a wrong sample rate.
 */
export interface Match {
  /** Correlation of the log-spectrograms at the best alignment (1 = identical). */
  readonly correlation: number;
  /** Where in `source` the captured audio starts, in samples (16 ms resolution). */
  readonly offset: number;
}

/**
 * Turns captured through Chromium's processing score 0.82–0.86 against their source;
 * other speech, wrong-rate speech and silence score ≤ 0.5 (audio-compare.test.ts).
 */
export const SAME_SPEECH = 0.7;

const WINDOW = 512;
const HOP = 256;
const BANDS = 32;

/** Log band energies per frame (frames × BANDS), each frame mean-removed. */
export function logSpectrogram(x: Float32Array): Float32Array[] {
  const frames: Float32Array[] = [];
  const hann = Float32Array.from({ length: WINDOW }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / WINDOW));
  const bins = WINDOW / 2;
  const cos = new Float32Array(bins * WINDOW);
  const sin = new Float32Array(bins * WINDOW);
  for (let k = 0; k < bins; k++) {
    for (let n = 0; n < WINDOW; n++) {
      cos[k * WINDOW + n] = Math.cos((2 * Math.PI * k * n) / WINDOW);
      sin[k * WINDOW + n] = Math.sin((2 * Math.PI * k * n) / WINDOW);
    }
  }
  const windowed = new Float32Array(WINDOW);
  for (let start = 0; start + WINDOW <= x.length; start += HOP) {
    for (let n = 0; n < WINDOW; n++) windowed[n] = x[start + n]! * hann[n]!;
    const bands = new Float32Array(BANDS);
    for (let k = 1; k < bins; k++) {
      let re = 0;
      let im = 0;
      for (let n = 0; n < WINDOW; n++) {
        re += windowed[n]! * cos[k * WINDOW + n]!;
        im += windowed[n]! * sin[k * WINDOW + n]!;
      }
      bands[Math.floor((k * BANDS) / bins)]! += re * re + im * im;
    }
    let mean = 0;
    for (let b = 0; b < BANDS; b++) mean += (bands[b] = Math.log10(bands[b]! + 1e-6));
    mean /= BANDS;
    for (let b = 0; b < BANDS; b++) bands[b]! -= mean;
    frames.push(bands);
  }
  return frames;
}

/** Pearson correlation of two equally long runs of spectrogram frames. */
function correlate(a: readonly Float32Array[], b: readonly Float32Array[], lag: number, count: number): number {
  let sa = 0;
  let sb = 0;
  const n = count * BANDS;
  for (let f = 0; f < count; f++) {
    for (let k = 0; k < BANDS; k++) {
      sa += a[f]![k]!;
      sb += b[f + lag]![k]!;
    }
  }
  const ma = sa / n;
  const mb = sb / n;
  let dot = 0;
  let ea = 0;
  let eb = 0;
  for (let f = 0; f < count; f++) {
    for (let k = 0; k < BANDS; k++) {
      const x = a[f]![k]! - ma;
      const y = b[f + lag]![k]! - mb;
      dot += x * y;
      ea += x * x;
      eb += y * y;
    }
  }
  return ea > 0 && eb > 0 ? dot / Math.sqrt(ea * eb) : 0;
}

/**
 * Finds `captured` inside `source` (both 16 kHz mono). The captured turn must lie inside
 * the source (pad `source` with silence if it may overhang).
 */
export function locate(captured: Float32Array, source: Float32Array): Match {
  const a = logSpectrogram(captured);
  const b = logSpectrogram(source);
  if (a.length === 0 || a.length > b.length) return { correlation: 0, offset: 0 };
  let best = -Infinity;
  let bestLag = 0;
  for (let lag = 0; lag + a.length <= b.length; lag++) {
    const c = correlate(a, b, lag, a.length);
    if (c > best) {
      best = c;
      bestLag = lag;
    }
  }
  return { correlation: best, offset: bestLag * HOP };
}

export function rms(x: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]!;
  return Math.sqrt(sum / Math.max(1, x.length));
}

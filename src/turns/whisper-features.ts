/**
 * Whisper log-mel features for Smart Turn v3 (pure, DOM-free, unit-tested).
 *
 * Smart Turn v3.2 takes the features Hugging Face's `WhisperFeatureExtractor(chunk_length=8)`
 * computes with `do_normalize=True` from the last 8 s of a turn (see
 * ../shared/models/README.md, "Smart Turn v3.2"):
 *
 * 1. keep the last 128 000 samples (8 s at 16 kHz); shorter audio is zero-padded at the
 *    **start** to that length;
 * 2. normalize the padded waveform to zero mean and unit variance
 *    (`(x - mean) / sqrt(var + 1e-7)`);
 * 3. STFT: periodic Hann window of 400 samples, hop 160, centred frames (reflect padding),
 *    power spectrum; 80 Slaney mel filters from 0 to 8 kHz; log10 with a 1e-10 floor;
 *    drop the last frame (801 → 800); clamp to (max − 8); then `(x + 4) / 4`.
 *
 * The result is `[80, 800]`, row-major by mel band, as the model's `input_features`
 * expects. transformers.js's own `WhisperFeatureExtractor` does not normalize the
 * waveform (step 2), which is why this is not simply that class; its spectrogram is the
 * reference in the unit test.
 */

export const SMART_TURN_SAMPLE_RATE_HZ = 16_000;
export const SMART_TURN_WINDOW_SAMPLES = 128_000;
export const N_FFT = 400;
export const HOP_LENGTH = 160;
export const N_MELS = 80;
export const N_FRAMES = 800;

const FREQUENCY_BINS = N_FFT / 2 + 1;

/** The last 8 s of `audio`, zero-padded at the start to 128 000 samples, normalized. */
export function smartTurnWaveform(audio: Float32Array): Float64Array {
  const out = new Float64Array(SMART_TURN_WINDOW_SAMPLES);
  const take = Math.min(audio.length, SMART_TURN_WINDOW_SAMPLES);
  const from = audio.length - take;
  const at = SMART_TURN_WINDOW_SAMPLES - take;
  for (let i = 0; i < take; i++) out[at + i] = audio[from + i]!;
  let sum = 0;
  for (let i = 0; i < out.length; i++) sum += out[i]!;
  const mean = sum / out.length;
  let squares = 0;
  for (let i = 0; i < out.length; i++) squares += (out[i]! - mean) ** 2;
  const scale = 1 / Math.sqrt(squares / out.length + 1e-7);
  for (let i = 0; i < out.length; i++) out[i] = (out[i]! - mean) * scale;
  return out;
}

// ── mel filter bank (Slaney scale and norm, as librosa / transformers) ─────────────────

const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = 15;
const LOG_STEP = Math.log(6.4) / 27;

function hzToMel(hz: number): number {
  return hz >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP : (3 * hz) / 200;
}

function melToHz(mel: number): number {
  return mel >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL)) : (200 * mel) / 3;
}

/** One triangular filter: weights for bins `start .. start + weights.length - 1`. */
interface MelFilter {
  readonly start: number;
  readonly weights: Float64Array;
}

/** 80 Slaney-normalized triangular filters over 201 bins, 0–8000 Hz. */
export function melFilterBank(): MelFilter[] {
  const melMin = hzToMel(0);
  const melMax = hzToMel(SMART_TURN_SAMPLE_RATE_HZ / 2);
  const edges: number[] = [];
  for (let i = 0; i < N_MELS + 2; i++) edges.push(melToHz(melMin + ((melMax - melMin) * i) / (N_MELS + 1)));
  const binHz = (bin: number) => ((SMART_TURN_SAMPLE_RATE_HZ / 2) * bin) / (FREQUENCY_BINS - 1);
  const filters: MelFilter[] = [];
  for (let m = 0; m < N_MELS; m++) {
    const [lower, centre, upper] = [edges[m]!, edges[m + 1]!, edges[m + 2]!];
    const norm = 2 / (upper - lower);
    const values: number[] = [];
    let start = -1;
    for (let bin = 0; bin < FREQUENCY_BINS; bin++) {
      const hz = binHz(bin);
      const weight = Math.max(0, Math.min((hz - lower) / (centre - lower), (upper - hz) / (upper - centre))) * norm;
      if (weight > 0) {
        if (start < 0) start = bin;
        values[bin - start] = weight;
      } else if (start >= 0) {
        break;
      }
    }
    // Fill any interior gap (none for these shapes) with zeros.
    filters.push({ start: Math.max(0, start), weights: Float64Array.from(values, (v) => v ?? 0) });
  }
  return filters;
}

// ── FFT (mixed radix, for n = 400 = 2^4 · 5^2) ──────────────────────────────────────────

/** A complex FFT of any size whose prime factors are small, out of place. */
export class Fft {
  private readonly factors: number[] = [];
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly tempRe: Float64Array;
  private readonly tempIm: Float64Array;
  private readonly butterflies = new Map<number, Int32Array>();

  constructor(readonly size: number) {
    let rest = size;
    for (const p of [4, 2, 3, 5]) {
      while (rest % p === 0) {
        this.factors.push(p);
        rest /= p;
      }
    }
    for (let p = 7; rest > 1; p += 2) {
      while (rest % p === 0) {
        this.factors.push(p);
        rest /= p;
      }
    }
    this.cos = new Float64Array(size);
    this.sin = new Float64Array(size);
    for (let k = 0; k < size; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / size);
      this.sin[k] = -Math.sin((2 * Math.PI * k) / size);
    }
    for (const p of new Set(this.factors)) {
      // Twiddle index of W_p^{qs} = W_size^{(qs mod p)·size/p}.
      const table = new Int32Array(p * p);
      for (let q = 0; q < p; q++) for (let s = 0; s < p; s++) table[q * p + s] = ((q * s) % p) * (size / p);
      this.butterflies.set(p, table);
    }
    const largest = Math.max(1, ...this.factors);
    this.tempRe = new Float64Array(largest);
    this.tempIm = new Float64Array(largest);
  }

  /** out = DFT(in): X[k] = Σ x[j]·e^(−2πi·jk/n). */
  transform(inRe: Float64Array, inIm: Float64Array, outRe: Float64Array, outIm: Float64Array): void {
    this.step(inRe, inIm, 0, 1, outRe, outIm, 0, this.size, 0);
  }

  private step(
    xr: Float64Array, xi: Float64Array, xOff: number, stride: number,
    yr: Float64Array, yi: Float64Array, yOff: number, n: number, depth: number,
  ): void {
    if (n === 1) {
      yr[yOff] = xr[xOff]!;
      yi[yOff] = xi[xOff]!;
      return;
    }
    const p = this.factors[depth]!;
    const m = n / p;
    for (let q = 0; q < p; q++) this.step(xr, xi, xOff + q * stride, stride * p, yr, yi, yOff + q * m, m, depth + 1);
    const unit = this.size / n; // twiddle index of W_n^1
    const tr = this.tempRe;
    const ti = this.tempIm;
    const cos = this.cos;
    const sin = this.sin;
    const small = this.butterflies.get(p)!;
    for (let k = 0; k < m; k++) {
      // t_q = W_n^{qk} · Sub_q[k]   (q·k·unit < n·unit = size: no wrap-around)
      for (let q = 0; q < p; q++) {
        const a = yr[yOff + q * m + k]!;
        const b = yi[yOff + q * m + k]!;
        const e = q * k * unit;
        const c = cos[e]!;
        const s = sin[e]!;
        tr[q] = a * c - b * s;
        ti[q] = a * s + b * c;
      }
      // Y[k + s·m] = Σ_q t_q · W_p^{qs}
      for (let s = 0; s < p; s++) {
        let re = tr[0]!;
        let im = ti[0]!;
        for (let q = 1; q < p; q++) {
          const e = small[q * p + s]!;
          const c = cos[e]!;
          const sn = sin[e]!;
          re += tr[q]! * c - ti[q]! * sn;
          im += tr[q]! * sn + ti[q]! * c;
        }
        yr[yOff + s * m + k] = re;
        yi[yOff + s * m + k] = im;
      }
    }
  }
}

// ── log-mel ─────────────────────────────────────────────────────────────────────────────

let cached: { fft: Fft; window: Float64Array; filters: MelFilter[] } | null = null;

function tables() {
  if (!cached) {
    const window = new Float64Array(N_FFT);
    for (let i = 0; i < N_FFT; i++) window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N_FFT); // periodic Hann
    cached = { fft: new Fft(N_FFT), window, filters: melFilterBank() };
  }
  return cached;
}

/**
 * Whisper log-mel of a 128 000-sample waveform (already normalized): `[80 × 800]`, by mel
 * band. `constantPrefix`: that many leading samples are known to hold one value (the
 * normalized zero padding), so every frame inside them has the same spectrum: it is
 * computed once.
 */
export function whisperLogMel(waveform: Float64Array, constantPrefix = 0): Float32Array {
  if (waveform.length !== SMART_TURN_WINDOW_SAMPLES) {
    throw new Error(`whisperLogMel expects ${SMART_TURN_WINDOW_SAMPLES} samples, got ${waveform.length}`);
  }
  const { fft, window, filters } = tables();
  const half = N_FFT / 2;
  const length = waveform.length;
  // Reflect-pad by n_fft/2 on both sides (numpy "reflect": the edge sample is not repeated).
  const sample = (i: number): number => {
    if (i < 0) return waveform[-i]!;
    if (i >= length) return waveform[2 * (length - 1) - i]!;
    return waveform[i]!;
  };
  // Frames 0 .. constantFrames-1 lie wholly inside the constant prefix (reflection included).
  let constantFrames = 0;
  while (constantFrames < N_FRAMES && constantFrames * HOP_LENGTH + half <= constantPrefix - 1 && constantFrames * HOP_LENGTH - half >= -(constantPrefix - 1)) {
    constantFrames++;
  }
  const frameRe = new Float64Array(N_FFT);
  const frameIm = new Float64Array(N_FFT);
  const outRe = new Float64Array(N_FFT);
  const outIm = new Float64Array(N_FFT);
  const powerA = new Float64Array(FREQUENCY_BINS);
  const powerB = new Float64Array(FREQUENCY_BINS);
  const mel = new Float32Array(N_MELS * N_FRAMES);
  let max = -Infinity;
  const store = (frame: number, power: Float64Array) => {
    for (let m = 0; m < N_MELS; m++) {
      const { start, weights } = filters[m]!;
      let energy = 0;
      for (let j = 0; j < weights.length; j++) energy += weights[j]! * power[start + j]!;
      const value = Math.log10(Math.max(1e-10, energy));
      mel[m * N_FRAMES + frame] = value;
      if (value > max) max = value;
    }
  };
  // Frame 0 stands for all the constant frames; the others are computed.
  const pending: number[] = [];
  for (let f = Math.max(0, constantFrames - 1); f < N_FRAMES; f++) pending.push(f);
  // Two real frames per complex FFT: z = a + i·b, then A[k] = (Z[k] + conj Z[N−k]) / 2 and
  // B[k] = (Z[k] − conj Z[N−k]) / 2i.
  for (let i = 0; i < pending.length; i += 2) {
    const a = pending[i]!;
    const b = pending[i + 1];
    const originA = a * HOP_LENGTH - half;
    const originB = b === undefined ? 0 : b * HOP_LENGTH - half;
    for (let j = 0; j < N_FFT; j++) {
      frameRe[j] = sample(originA + j) * window[j]!;
      frameIm[j] = b === undefined ? 0 : sample(originB + j) * window[j]!;
    }
    fft.transform(frameRe, frameIm, outRe, outIm);
    for (let k = 0; k < FREQUENCY_BINS; k++) {
      const zr = outRe[k]!;
      const zi = outIm[k]!;
      const wr = outRe[(N_FFT - k) % N_FFT]!;
      const wi = -outIm[(N_FFT - k) % N_FFT]!; // conj Z[N−k]
      const ar = (zr + wr) / 2;
      const ai = (zi + wi) / 2;
      const br = (zi - wi) / 2;
      const bi = -(zr - wr) / 2;
      powerA[k] = ar * ar + ai * ai;
      powerB[k] = br * br + bi * bi;
    }
    store(a, powerA);
    if (b !== undefined) store(b, powerB);
  }
  for (let f = 0; f < constantFrames - 1; f++) {
    for (let m = 0; m < N_MELS; m++) mel[m * N_FRAMES + f] = mel[m * N_FRAMES + constantFrames - 1]!;
  }
  const floor = max - 8;
  for (let i = 0; i < mel.length; i++) mel[i] = (Math.max(mel[i]!, floor) + 4) / 4;
  return mel;
}

/** Smart Turn's `input_features` (`[1, 80, 800]` data) for a turn's 16 kHz audio. */
export function smartTurnFeatures(audio: Float32Array): Float32Array {
  return whisperLogMel(smartTurnWaveform(audio), Math.max(0, SMART_TURN_WINDOW_SAMPLES - audio.length));
}

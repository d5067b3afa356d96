/**
 * Streaming band-limited resampler (windowed-sinc interpolation) for mono PCM.
 *
 * Used inside the capture AudioWorklet to turn whatever rate the AudioContext runs at
 * (44.1 kHz, 48 kHz, 96 kHz…) into the 16 kHz that Silero and Whisper expect. We do not
 * ask the browser for a 16 kHz context: Firefox refuses to connect a mic stream to a
 * context whose rate differs from the device's, so the conversion has to happen here.
 *
 * Why not linear interpolation or block averaging: both fold 8–24 kHz content (fans,
 * sibilants, keyboard clicks) back into the speech band. A low-pass windowed sinc keeps
 * the output clean at a cost of `2 * HALF_TAPS` multiply-adds per output sample
 * (~1 M/s at 16 kHz), and the kernel is precomputed into a phase table so `process()`
 * allocates nothing but its output array.
 *
 * The class is DOM-free so it is unit-tested in Node (see `resampler.test.ts`).
 */
export class StreamingResampler {
  /** Taps on each side of the interpolation point. */
  static readonly HALF_TAPS = 16;
  /** Fractional positions the kernel is tabulated at (linear interpolation between). */
  static readonly PHASES = 256;

  readonly inputRateHz: number;
  readonly outputRateHz: number;
  /** Input samples per output sample. */
  private readonly step: number;
  /** Kernel table: PHASES + 1 rows of 2 * HALF_TAPS taps. */
  private readonly table: Float32Array;
  /** Input history: the last 2 * HALF_TAPS samples plus whatever is pending. */
  private history: Float32Array;
  private historyLength = 0;
  /**
   * Position of the next output sample, in input samples, relative to history[0]
   * (which is `HALF_TAPS - 1` samples before the first sample ever seen: zero padding).
   */
  private position: number;
  private readonly passthrough: boolean;

  constructor(inputRateHz: number, outputRateHz: number) {
    if (!(inputRateHz > 0) || !(outputRateHz > 0)) {
      throw new RangeError(`Sample rates must be positive (got ${inputRateHz} → ${outputRateHz})`);
    }
    this.inputRateHz = inputRateHz;
    this.outputRateHz = outputRateHz;
    this.step = inputRateHz / outputRateHz;
    this.passthrough = inputRateHz === outputRateHz;
    this.table = StreamingResampler.buildTable(Math.min(1, outputRateHz / inputRateHz));
    const taps = 2 * StreamingResampler.HALF_TAPS;
    this.history = new Float32Array(taps * 8);
    // Start with HALF_TAPS - 1 zeros so the first output sample is centred on input 0.
    this.historyLength = StreamingResampler.HALF_TAPS - 1;
    this.position = StreamingResampler.HALF_TAPS - 1;
  }

  /**
   * Blackman-windowed sinc, scaled for a cutoff of `cutoff` × the input Nyquist (a bit
   * under the output Nyquist so the transition band sits below it).
   */
  private static buildTable(cutoff: number): Float32Array {
    const { HALF_TAPS, PHASES } = StreamingResampler;
    const taps = 2 * HALF_TAPS;
    const fc = cutoff * 0.92;
    const table = new Float32Array((PHASES + 1) * taps);
    for (let phase = 0; phase <= PHASES; phase++) {
      const frac = phase / PHASES;
      let sum = 0;
      for (let k = 0; k < taps; k++) {
        // Tap k multiplies input sample (base - HALF_TAPS + 1 + k); its distance from the
        // interpolation point (base + frac) is:
        const x = k - (HALF_TAPS - 1) - frac;
        const sinc = x === 0 ? 1 : Math.sin(Math.PI * fc * x) / (Math.PI * fc * x);
        const n = (x + HALF_TAPS) / (2 * HALF_TAPS); // 0..1 across the window
        const window =
          n <= 0 || n >= 1 ? 0 : 0.42 - 0.5 * Math.cos(2 * Math.PI * n) + 0.08 * Math.cos(4 * Math.PI * n);
        const value = sinc * window;
        table[phase * taps + k] = value;
        sum += value;
      }
      // Normalise each phase to unit DC gain so silence stays silence and levels hold.
      for (let k = 0; k < taps; k++) table[phase * taps + k]! /= sum;
    }
    return table;
  }

  /** Resamples one chunk; keeps state so consecutive chunks join seamlessly. */
  process(input: Float32Array): Float32Array {
    if (this.passthrough) return input.slice();
    this.append(input);
    const { HALF_TAPS, PHASES } = StreamingResampler;
    const taps = 2 * HALF_TAPS;
    // An output at position p needs inputs up to floor(p) + HALF_TAPS.
    const lastUsable = this.historyLength - 1 - HALF_TAPS;
    const count = lastUsable < this.position ? 0 : Math.floor((lastUsable - this.position) / this.step) + 1;
    const output = new Float32Array(count);
    const history = this.history;
    const table = this.table;
    let position = this.position;
    for (let i = 0; i < count; i++) {
      const base = Math.floor(position);
      const phaseFloat = (position - base) * PHASES;
      const phase = Math.floor(phaseFloat);
      const blend = phaseFloat - phase;
      const rowA = phase * taps;
      const rowB = rowA + taps;
      const first = base - HALF_TAPS + 1;
      let accA = 0;
      let accB = 0;
      for (let k = 0; k < taps; k++) {
        const sample = history[first + k]!;
        accA += sample * table[rowA + k]!;
        accB += sample * table[rowB + k]!;
      }
      output[i] = accA + (accB - accA) * blend;
      position += this.step;
    }
    this.position = position;
    this.discardConsumed();
    return output;
  }

  private append(input: Float32Array): void {
    const needed = this.historyLength + input.length;
    if (needed > this.history.length) {
      const grown = new Float32Array(Math.max(needed, this.history.length * 2));
      grown.set(this.history.subarray(0, this.historyLength));
      this.history = grown;
    }
    this.history.set(input, this.historyLength);
    this.historyLength = needed;
  }

  /** Drops input that no future output sample can reach. */
  private discardConsumed(): void {
    const keepFrom = Math.floor(this.position) - StreamingResampler.HALF_TAPS + 1;
    if (keepFrom <= 0) return;
    this.history.copyWithin(0, keepFrom, this.historyLength);
    this.historyLength -= keepFrom;
    this.position -= keepFrom;
  }
}

/**
 * Input loudness for the UI: RMS over a window, published at most every `intervalMs`.
 *
 * Runs inside the capture worklet (so it sees every sample) and posts only a few dozen
 * numbers per second to the main thread: a level meter must never cost a frame of audio.
 */
export class LevelMeter {
  private readonly samplesPerReport: number;
  private sumOfSquares = 0;
  private count = 0;

  constructor(sampleRateHz: number, intervalMs: number) {
    this.samplesPerReport = Math.max(1, Math.round((sampleRateHz * intervalMs) / 1000));
  }

  /** Adds samples; returns the RMS (0..1) when a report is due, else `undefined`. */
  push(samples: Float32Array): number | undefined {
    let report: number | undefined;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i]!;
      this.sumOfSquares += s * s;
      if (++this.count === this.samplesPerReport) {
        report = Math.sqrt(this.sumOfSquares / this.count);
        this.sumOfSquares = 0;
        this.count = 0;
      }
    }
    return report;
  }
}

/** RMS level in dBFS, floored at -100 dB (so silence is a finite number). */
export function rmsToDbfs(rms: number): number {
  return rms <= 1e-5 ? -100 : 20 * Math.log10(rms);
}

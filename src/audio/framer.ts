/**
 * Cuts a stream of PCM chunks of any length into fixed-size frames.
 *
 * Silero v5 takes exactly 512 samples (32 ms at 16 kHz) per call, while the AudioWorklet
 * delivers 128-sample render quanta at the context rate, so something has to re-block.
 * Each emitted frame is a fresh `Float32Array` because it is transferred to another
 * thread (its buffer is detached after `postMessage(…, [frame.buffer])`).
 */
export class Framer {
  readonly frameSamples: number;
  private pending: Float32Array;
  private pendingLength = 0;

  constructor(frameSamples: number) {
    if (!Number.isInteger(frameSamples) || frameSamples <= 0) {
      throw new RangeError(`frameSamples must be a positive integer (got ${frameSamples})`);
    }
    this.frameSamples = frameSamples;
    this.pending = new Float32Array(frameSamples);
  }

  /** Adds samples; returns every frame completed by them, oldest first. */
  push(samples: Float32Array): Float32Array[] {
    const frames: Float32Array[] = [];
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(this.frameSamples - this.pendingLength, samples.length - offset);
      this.pending.set(samples.subarray(offset, offset + take), this.pendingLength);
      this.pendingLength += take;
      offset += take;
      if (this.pendingLength === this.frameSamples) {
        frames.push(this.pending);
        this.pending = new Float32Array(this.frameSamples);
        this.pendingLength = 0;
      }
    }
    return frames;
  }

  /** Samples waiting for the next frame. */
  get bufferedSamples(): number {
    return this.pendingLength;
  }

  reset(): void {
    this.pendingLength = 0;
  }
}

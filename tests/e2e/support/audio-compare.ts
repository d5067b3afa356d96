/**
 * Checks that captured audio is the same speech as a source recording: the best
 * normalized cross-correlation over a window of lags. Audio at the wrong rate, silence,
 * or another part of the recording scores low; the same speech through Chromium's
 * capture processing (AGC, noise suppression) scores high.
 */
export interface Match {
  /** Normalized correlation at the best lag (1 = identical up to gain). */
  readonly correlation: number;
  /** Where in `source` the captured audio starts, in samples. */
  readonly offset: number;
}

function decimate(x: Float32Array, factor: number): Float32Array {
  const out = new Float32Array(Math.floor(x.length / factor));
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (let k = 0; k < factor; k++) sum += x[i * factor + k]!;
    out[i] = sum / factor;
  }
  return out;
}

function correlationAt(a: Float32Array, b: Float32Array, lag: number): number {
  // a against b shifted by lag (a[i] ~ b[i + lag]); only the overlap counts.
  let dot = 0;
  let ea = 0;
  let eb = 0;
  const start = Math.max(0, -lag);
  const end = Math.min(a.length, b.length - lag);
  for (let i = start; i < end; i++) {
    const x = a[i]!;
    const y = b[i + lag]!;
    dot += x * y;
    ea += x * x;
    eb += y * y;
  }
  return ea > 0 && eb > 0 ? dot / Math.sqrt(ea * eb) : 0;
}

/** Finds `captured` inside `source` (both 16 kHz mono), searching lags in [minLag, maxLag]. */
export function locate(captured: Float32Array, source: Float32Array, minLag = 0, maxLag = source.length - 1): Match {
  const factor = 4;
  const a = decimate(captured, factor);
  const b = decimate(source, factor);
  let bestLag = 0;
  let best = -Infinity;
  for (let lag = Math.floor(minLag / factor); lag <= Math.ceil(maxLag / factor); lag++) {
    const c = correlationAt(a, b, lag);
    if (c > best) {
      best = c;
      bestLag = lag;
    }
  }
  let fineLag = bestLag * factor;
  best = -Infinity;
  for (let lag = bestLag * factor - factor * 2; lag <= bestLag * factor + factor * 2; lag++) {
    const c = correlationAt(captured, source, lag);
    if (c > best) {
      best = c;
      fineLag = lag;
    }
  }
  return { correlation: best, offset: fineLag };
}

export function rms(x: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]!;
  return Math.sqrt(sum / Math.max(1, x.length));
}

/**
 * Measurements on captured output audio: where sound is, where the silences are.
 * Sound/silence is decided per 5 ms window against a level below anything a voice says
 * (−55 dBFS RMS) but above the float noise of a silent graph.
 */
export const WINDOW_MS = 5;
export const SILENCE_DBFS = -55;

export interface Span {
  /** Sample offsets, [start, end). */
  readonly start: number;
  readonly end: number;
}

/** Samples per analysis window at this rate. */
function windowSize(sampleRateHz: number): number {
  return Math.max(1, Math.round((WINDOW_MS / 1000) * sampleRateHz));
}

/**
 * The analysis window's real length at this rate: 5 ms rounded to whole samples (at 44.1 kHz
 * 221 samples, 5.011 ms), the unit every silence here is measured in.
 */
export function analysisWindowMs(sampleRateHz: number): number {
  return (windowSize(sampleRateHz) / sampleRateHz) * 1000;
}

/** Per-window "is sound" flags. */
function soundWindows(samples: Float32Array, sampleRateHz: number): boolean[] {
  const size = windowSize(sampleRateHz);
  const threshold = 10 ** (SILENCE_DBFS / 20);
  const flags: boolean[] = [];
  for (let start = 0; start < samples.length; start += size) {
    let sum = 0;
    const end = Math.min(samples.length, start + size);
    for (let i = start; i < end; i++) sum += samples[i]! * samples[i]!;
    flags.push(Math.sqrt(sum / (end - start)) >= threshold);
  }
  return flags;
}

/** From the first to the last window with sound (null when all is silence). */
export function soundSpan(samples: Float32Array, sampleRateHz: number): Span | null {
  const flags = soundWindows(samples, sampleRateHz);
  const first = flags.indexOf(true);
  if (first === -1) return null;
  const last = flags.lastIndexOf(true);
  const size = windowSize(sampleRateHz);
  return { start: first * size, end: Math.min(samples.length, (last + 1) * size) };
}

/** The silent stretches strictly between sounds (leading and trailing silence excluded). */
export function silentRuns(samples: Float32Array, sampleRateHz: number): Span[] {
  const flags = soundWindows(samples, sampleRateHz);
  const size = windowSize(sampleRateHz);
  const runs: Span[] = [];
  const first = flags.indexOf(true);
  const last = flags.lastIndexOf(true);
  let runStart = -1;
  for (let w = first; w <= last && first !== -1; w++) {
    if (!flags[w] && runStart === -1) runStart = w;
    if (flags[w] && runStart !== -1) {
      runs.push({ start: runStart * size, end: w * size });
      runStart = -1;
    }
  }
  return runs;
}

/** The longest silent run between sounds, in ms (0 when there is none). */
export function longestSilenceMs(samples: Float32Array, sampleRateHz: number): number {
  return Math.max(0, ...silentRuns(samples, sampleRateHz).map((r) => ((r.end - r.start) / sampleRateHz) * 1000));
}

/**
 * Where the voice starts in a recording: the first 5 ms at 10× its noise floor (the 10th
 * percentile of its 5 ms levels: the quiet between words, in a clip that starts talking at
 * once), so room noise before the first word does not count. A breath may.
 */
export function voiceOnset(pcm: { readonly samples: Float32Array; readonly sampleRateHz: number }): number {
  const size = Math.round(0.005 * pcm.sampleRateHz);
  const levels: number[] = [];
  for (let start = 0; start + size <= pcm.samples.length; start += size) {
    let sum = 0;
    for (let i = start; i < start + size; i++) sum += pcm.samples[i]! ** 2;
    levels.push(Math.sqrt(sum / size));
  }
  const floor = [...levels].sort((a, b) => a - b)[Math.floor(levels.length * 0.1)]!;
  return levels.findIndex((level) => level >= 10 * floor) * size;
}

/**
 * Clips with a pause inserted inside a sentence, built from the shared recordings at test
 * time (written under test-results/, never committed): the material for end-of-turn tests
 * and `bench/end-of-turn.ts`.
 *
 * The cut goes at a word boundary: from the recording's `.words.tsv` when it has one
 * (`word`, `start_s`, `end_s`), else at the quietest 20 ms near the middle of its speech.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { concatPcm } from '../../../src/audio/pcm.ts';
import { AUDIO_DIR, SCRATCH_DIR, readWav, silence, writeWav, type Pcm } from './wav.ts';

export interface InsertedPauseClip {
  /** The WAV written for the fake microphone. */
  readonly path: string;
  readonly pcm: Pcm;
  /** Where the inserted silence lies in `pcm`, seconds. */
  readonly pause: { readonly startS: number; readonly endS: number };
  /** Where the speech ends in `pcm` (approximately: last sample above the speech floor), seconds. */
  readonly speechEndS: number;
  /** How the cut was placed: after which word, or at the quietest gap. */
  readonly cutAt: string;
}

interface Word {
  readonly word: string;
  readonly startS: number;
  readonly endS: number;
}

export function readWords(relativeWav: string): Word[] | null {
  const path = joinPath(AUDIO_DIR, relativeWav.replace(/\.wav$/, '.words.tsv'));
  if (!existsSync(path)) return null;
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [word, start, end] = line.split('\t');
      return { word: word!, startS: Number(start), endS: Number(end) };
    });
}

const WINDOW_S = 0.02;

function windowRms(samples: Float32Array, from: number, length: number): number {
  let sum = 0;
  for (let i = from; i < from + length; i++) sum += samples[i]! ** 2;
  return Math.sqrt(sum / length);
}

/** First and last sample of the speech: windows louder than a tenth of the loudest. */
export function speechSpan(samples: Float32Array, rate: number): [number, number] {
  const size = Math.round(WINDOW_S * rate);
  const levels: number[] = [];
  for (let i = 0; i + size <= samples.length; i += size) levels.push(windowRms(samples, i, size));
  const floor = Math.max(...levels) * 0.1;
  const first = levels.findIndex((l) => l >= floor);
  let last = levels.length - 1;
  while (last > 0 && levels[last]! < floor) last--;
  return [first * size, (last + 1) * size];
}

/** The centre (sample) of the quietest 20 ms between 35 % and 65 % of the speech span. */
export function quietestGap(samples: Float32Array, rate: number): number {
  const [from, to] = speechSpan(samples, rate);
  const size = Math.round(WINDOW_S * rate);
  const hop = Math.round(size / 2);
  let best = -1;
  let bestRms = Infinity;
  for (let i = Math.round(from + (to - from) * 0.35); i + size <= from + (to - from) * 0.65; i += hop) {
    const rms = windowRms(samples, i, size);
    if (rms < bestRms) {
      bestRms = rms;
      best = i + Math.round(size / 2);
    }
  }
  return best;
}

export interface InsertPauseOptions {
  /** Length of the inserted silence, seconds. */
  readonly pauseS: number;
  /** Insert after this word (its index in `.words.tsv`, 0-based); needs a words file. */
  readonly afterWord?: number;
  /** Silence added before and after the clip (fake-mic padding, TESTING.md). */
  readonly padS?: number;
  readonly tailS?: number;
}

/** Writes `relativeWav` with `pauseS` of silence inserted inside its sentence. */
export function insertedPauseClip(relativeWav: string, options: InsertPauseOptions): InsertedPauseClip {
  const source = readWav(joinPath(AUDIO_DIR, relativeWav));
  const rate = source.sampleRateHz;
  const padS = options.padS ?? 1;
  const tailS = options.tailS ?? 2;
  let cut: number;
  let cutAt: string;
  const words = readWords(relativeWav);
  if (options.afterWord !== undefined) {
    if (!words) throw new Error(`${relativeWav} has no .words.tsv to cut after word ${options.afterWord}`);
    const before = words[options.afterWord]!;
    const after = words[options.afterWord + 1];
    const at = after ? (before.endS + after.startS) / 2 : before.endS;
    cut = Math.round(at * rate);
    cutAt = `after "${words.slice(0, options.afterWord + 1).map((w) => w.word).join(' ')}"`;
  } else {
    cut = quietestGap(source.samples, rate);
    cutAt = `quietest gap at ${(cut / rate).toFixed(2)} s`;
  }
  const samples = concatPcm([
    silence(padS, rate),
    source.samples.subarray(0, cut),
    silence(options.pauseS, rate),
    source.samples.subarray(cut),
    silence(tailS, rate),
  ]);
  const pcm: Pcm = { sampleRateHz: rate, samples };
  const [, speechEnd] = speechSpan(samples, rate);
  const name = `${relativeWav.replace(/[\\/]/g, '__').replace(/\.wav$/, '')}.pause${options.pauseS}-at${cut}`;
  const path = writeWav(joinPath(SCRATCH_DIR, `${name}.wav`), pcm);
  const startS = padS + cut / rate;
  return { path, pcm, pause: { startS, endS: startS + options.pauseS }, speechEndS: speechEnd / rate, cutAt };
}

/**
 * WAV helpers for the fake microphone: Chromium plays a WAV file as the mic
 * (`--use-file-for-fake-audio-capture`), so tests write padded / joined copies of the
 * shared recordings into a scratch folder. The shared folder itself is never modified.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join as joinPath, resolve } from 'node:path';
import { concatPcm } from '../../../src/audio/pcm.ts';

export interface Pcm {
  readonly sampleRateHz: number;
  /** Mono samples in -1..1 (multi-channel files are averaged). */
  readonly samples: Float32Array;
}

export const SHARED_DIR = resolve(process.env.VOICE_AGENT_SHARED_DIR ?? joinPath(import.meta.dirname, '../../../../shared'));
export const AUDIO_DIR = joinPath(SHARED_DIR, 'audio');
export const MODELS_DIR = joinPath(SHARED_DIR, 'models');
/** The JFK clip (11 s, four phrases) that most end-to-end tests play, and what it says. */
export const JFK_CLIP = 'english-other/en_jfk_inaugural_1961.wav';
export const JFK_TEXT = 'And so, my fellow Americans, ask not what your country can do for you, ask what you can do for your country.';
export const SCRATCH_DIR = resolve(import.meta.dirname, '../../../test-results/fixtures');

export function readWav(path: string): Pcm {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new Error(
      `Test audio ${path} is missing. The tests need ../shared (audio and models) beside the repository: ${String(error)}`,
    );
  }
  if (bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error(`${path} is not a RIFF/WAVE file`);
  }
  let offset = 12;
  let channels = 1;
  let sampleRateHz = 16_000;
  let bits = 16;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      channels = bytes.readUInt16LE(body + 2);
      sampleRateHz = bytes.readUInt32LE(body + 4);
      bits = bytes.readUInt16LE(body + 14);
    } else if (id === 'data') {
      if (bits !== 16) throw new Error(`${path}: only 16-bit PCM is supported (got ${bits})`);
      const frames = Math.floor(size / 2 / channels);
      const samples = new Float32Array(frames);
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += bytes.readInt16LE(body + (i * channels + c) * 2);
        samples[i] = sum / channels / 32768;
      }
      return { sampleRateHz, samples };
    }
    offset = body + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

export function writeWav(path: string, pcm: Pcm): string {
  const { samples, sampleRateHz } = pcm;
  const data = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    data.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32767))), i * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRateHz, 24);
  header.writeUInt32LE(sampleRateHz * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, Buffer.concat([header, data]));
  return path;
}

export function silence(seconds: number, sampleRateHz: number): Float32Array {
  return new Float32Array(Math.round(seconds * sampleRateHz));
}

/** Joins clips (all at the same rate) with optional silence between them. */
export function joinClips(clips: readonly Pcm[], gapSeconds = 0): Pcm {
  const rate = clips[0]!.sampleRateHz;
  const parts: Float32Array[] = [];
  clips.forEach((clip, i) => {
    if (clip.sampleRateHz !== rate) throw new Error('join: sample rates differ');
    if (i > 0 && gapSeconds > 0) parts.push(silence(gapSeconds, rate));
    parts.push(clip.samples);
  });
  return { sampleRateHz: rate, samples: concatPcm(parts) };
}

/**
 * A shared clip padded with silence at both ends (TESTING.md: the first ~100 ms can be
 * missed, and without trailing silence `%noloop` repeats the last 10 ms as a buzz).
 */
export function paddedFixture(relativePath: string, padSeconds = 1, tailSeconds = padSeconds): { path: string; pcm: Pcm; source: Pcm } {
  const source = readWav(joinPath(AUDIO_DIR, relativePath));
  const pcm: Pcm = {
    sampleRateHz: source.sampleRateHz,
    samples: concatPcm([silence(padSeconds, source.sampleRateHz), source.samples, silence(tailSeconds, source.sampleRateHz)]),
  };
  const name = relativePath.replace(/[\\/]/g, '__').replace(/\.wav$/, '');
  const path = writeWav(joinPath(SCRATCH_DIR, `${name}.pad${padSeconds}-${tailSeconds}.wav`), pcm);
  return { path, pcm, source };
}

export function durationSeconds(pcm: Pcm): number {
  return pcm.samples.length / pcm.sampleRateHz;
}

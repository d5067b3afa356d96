import { describe, expect, it } from 'vitest';
import { MOONSHINE_MAX_CHUNK_SECONDS, moonshineChunks, moonshineMaxTokens } from './moonshine-chunks.ts';

const RATE = 16_000;

describe('moonshineMaxTokens', () => {
  it('allows six tokens per second of audio, and a few for a very short turn', () => {
    expect(moonshineMaxTokens(0.5)).toBeGreaterThanOrEqual(6);
    expect(moonshineMaxTokens(10)).toBe(66);
    expect(moonshineMaxTokens(-1)).toBe(6);
  });
});

describe('moonshineChunks', () => {
  it('keeps a short turn whole', () => {
    const audio = new Float32Array(RATE * 3).fill(0.1);
    const chunks = moonshineChunks(audio, RATE);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.length).toBe(audio.length);
  });

  it('cuts a long turn at its quietest moment before the limit, losing no sample', () => {
    const audio = new Float32Array(RATE * 60).fill(0.2);
    // Quiet stretches at 21 s and 43 s: the cuts should land in them.
    audio.fill(0, RATE * 21, RATE * 21.3);
    audio.fill(0, RATE * 43, RATE * 43.3);
    const chunks = moonshineChunks(audio, RATE);
    expect(chunks.reduce((sum, chunk) => sum + chunk.length, 0)).toBe(audio.length);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(MOONSHINE_MAX_CHUNK_SECONDS * RATE);
    expect(chunks[0]!.length / RATE).toBeGreaterThan(21);
    expect(chunks[0]!.length / RATE).toBeLessThan(21.3);
    expect((chunks[0]!.length + chunks[1]!.length) / RATE).toBeGreaterThan(43);
    expect((chunks[0]!.length + chunks[1]!.length) / RATE).toBeLessThan(43.3);
  });
});

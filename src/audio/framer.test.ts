import { describe, expect, it } from 'vitest';
import { Framer } from './framer.ts';

const ramp = (from: number, length: number) => Float32Array.from({ length }, (_, i) => from + i);

describe('Framer', () => {
  it('re-blocks 128-sample quanta into 512-sample frames without losing or reordering samples', () => {
    const framer = new Framer(512);
    const frames: Float32Array[] = [];
    for (let i = 0; i < 10; i++) frames.push(...framer.push(ramp(i * 128, 128)));
    expect(frames).toHaveLength(2);
    expect(framer.bufferedSamples).toBe(256);
    expect(Array.from(frames[0]!)).toEqual(Array.from(ramp(0, 512)));
    expect(Array.from(frames[1]!)).toEqual(Array.from(ramp(512, 512)));
  });

  it('emits several frames from one large chunk and keeps the remainder', () => {
    const framer = new Framer(512);
    const frames = framer.push(ramp(0, 1300));
    expect(frames.map((f) => f[0])).toEqual([0, 512]);
    expect(framer.bufferedSamples).toBe(276);
    expect(framer.push(ramp(1300, 236))[0]![0]).toBe(1024);
  });

  it('hands out independent buffers (each may be transferred)', () => {
    const framer = new Framer(4);
    const [a, b] = framer.push(ramp(0, 8));
    expect(a!.buffer).not.toBe(b!.buffer);
    const [c] = framer.push(ramp(8, 4));
    expect(c!.buffer).not.toBe(b!.buffer);
    expect(Array.from(a!)).toEqual([0, 1, 2, 3]);
  });

  it('drops the partial frame on reset', () => {
    const framer = new Framer(4);
    framer.push(ramp(0, 3));
    framer.reset();
    expect(Array.from(framer.push(ramp(10, 4))[0]!)).toEqual([10, 11, 12, 13]);
  });

  it('rejects a non-positive or fractional frame size', () => {
    expect(() => new Framer(0)).toThrow(RangeError);
    expect(() => new Framer(2.5)).toThrow(RangeError);
  });
});

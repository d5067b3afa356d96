import { describe, expect, it } from 'vitest';
import { LevelMeter, rmsToDbfs } from './level-meter.ts';

describe('LevelMeter', () => {
  it('reports the RMS once per interval', () => {
    const meter = new LevelMeter(16_000, 50); // 800 samples per report
    const loud = new Float32Array(128).fill(0.5);
    const reports: number[] = [];
    for (let i = 0; i < 25; i++) {
      const r = meter.push(loud);
      if (r !== undefined) reports.push(r);
    }
    expect(reports).toHaveLength(Math.floor((25 * 128) / 800));
    for (const r of reports) expect(r).toBeCloseTo(0.5, 6);
  });

  it('measures a sine at amplitude/√2', () => {
    const meter = new LevelMeter(16_000, 100);
    const sine = Float32Array.from({ length: 1600 }, (_, i) => 0.8 * Math.sin((2 * Math.PI * 400 * i) / 16_000));
    expect(meter.push(sine)).toBeCloseTo(0.8 / Math.SQRT2, 3);
  });
});

describe('rmsToDbfs', () => {
  it('maps full scale to 0 dB, half to -6 dB and silence to a finite floor', () => {
    expect(rmsToDbfs(1)).toBe(0);
    expect(rmsToDbfs(0.5)).toBeCloseTo(-6.02, 2);
    expect(rmsToDbfs(0)).toBe(-100);
  });
});

import { describe, expect, it } from 'vitest';
import { comparisonWindows, growthAfterWarmUp, growthOverSecondHalf, matchTurns, p50Between, pooledWer } from './soak-report.ts';

describe('soak report', () => {
  it('compares 5-minute windows in long runs and thirds in short ones', () => {
    expect(comparisonWindows(30 * 60_000)).toMatchObject({ earlyEndMs: 5 * 60_000, lateStartMs: 25 * 60_000 });
    expect(comparisonWindows(9 * 60_000)).toMatchObject({ earlyEndMs: 3 * 60_000, lateStartMs: 6 * 60_000 });
    expect(comparisonWindows(9 * 60_000).label).toContain('third');
  });

  it('matches each spoken turn with the transcripts and answers before the next one was said', () => {
    const turn = (saidAt: number, reference: string) => ({ clip: `${saidAt}.wav`, reference, saidAt, bargeIn: false });
    const outcomes = matchTurns(
      [turn(1000, 'go forward ten meters'), turn(5000, 'your power is sufficient'), turn(9000, 'a golden fortune')],
      [
        { wall: 2000, text: 'Go forward' },
        { wall: 2100, text: 'ten metres.' },
        { wall: 9500, text: 'A golden fortune.' },
      ],
      [3000, 9800],
    );
    expect(outcomes.map((o) => [o.heard, o.answered])).toEqual([
      ['Go forward ten metres.', true],
      ['', false],
      ['A golden fortune.', true],
    ]);
    expect(outcomes[1]!.wer).toEqual({ errors: 4, words: 4 });
    expect(pooledWer(outcomes)).toBeCloseTo(5 / 11);
  });

  it('counts an LLM error as the answer only to a turn whose LLM fault was scripted', () => {
    const spoken = [
      { clip: 'a.wav', reference: 'go forward', saidAt: 1000, bargeIn: false, fault: 'llm-500' },
      { clip: 'b.wav', reference: 'go forward', saidAt: 5000, bargeIn: false },
    ];
    const heard = [
      { wall: 2000, text: 'go forward' },
      { wall: 6000, text: 'go forward' },
    ];
    expect(matchTurns(spoken, heard, [], [3000, 7000]).map((o) => o.answered)).toEqual([true, false]);
  });

  it('takes the p50 of a window', () => {
    const points = [10, 20, 30, 40].map((value, i) => ({ at: i * 100, value }));
    expect(p50Between(points, 0, 250)).toBe(20);
    expect(p50Between(points, 1000, 2000)).toBeNaN();
  });

  it('measures growth from the medians after warm-up, ignoring warm-up', () => {
    const samples = [50, 100, 102, 98, 104, 106, 105].map((value, i) => ({ at: i * 10, value }));
    // Warm-up ends at 10; early window up to 40 → median of 100, 102, 98 = 100; late from 40 → 105.
    expect(growthAfterWarmUp(samples, 10, 40, 40)).toBeCloseTo(0.05);
  });

  it('measures growth over the second half: from the window starting half-way to the last', () => {
    // A 60-minute run sampled every minute: growing 1 % a minute for 30 minutes, then flat.
    const samples = Array.from({ length: 61 }, (_, minute) => ({ at: minute * 60_000, value: 100 + Math.min(minute, 30) }));
    expect(growthOverSecondHalf(samples, 60 * 60_000)).toBeCloseTo(0);
    // Still growing: minutes 30–34 (median 132) against 55–60 (median 157.5).
    const growing = samples.map((s) => ({ at: s.at, value: 100 + s.at / 60_000 }));
    expect(growthOverSecondHalf(growing, 60 * 60_000)).toBeCloseTo(157.5 / 132 - 1, 4);
  });
});

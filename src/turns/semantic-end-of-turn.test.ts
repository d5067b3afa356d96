import { describe, expect, it } from 'vitest';
import { DEFAULT_TURN_DETECTION } from '../platform/options.ts';
import type { EndOfTurnContext } from './end-of-turn.ts';
import { SemanticEndOfTurnPolicy, type EndOfTurnJudge, type EndOfTurnVerdict } from './semantic-end-of-turn.ts';
import { SpeechSegmenter, type SegmenterEvent } from './speech-segmenter.ts';

/**
 * FAKE judge (not Smart Turn): records every request and lets the test settle each one by
 * hand, so "pending", "complete", "incomplete" and "failed" are all scripted.
 */
class FakeJudge implements EndOfTurnJudge {
  readonly requests: { audio: Float32Array; resolve: (p: number) => void; reject: (e: unknown) => void }[] = [];
  /** When set, every request is answered at once with this probability. */
  constructor(private readonly immediate?: number) {}

  judge(audio: Float32Array): Promise<EndOfTurnVerdict> {
    if (this.immediate !== undefined) return Promise.resolve({ probability: this.immediate, featuresMs: 1, inferenceMs: 2 });
    return new Promise((resolve, reject) => {
      this.requests.push({ audio, resolve: (probability) => resolve({ probability, featuresMs: 1, inferenceMs: 2 }), reject });
    });
  }
}

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function context(silenceMs: number, turnMs = 2000 + silenceMs): EndOfTurnContext {
  return { silenceMs, speechMs: 1500, turnMs, probability: 0.05, audio: () => new Float32Array(turnMs * 16) };
}

function policy(judge: EndOfTurnJudge, extra: Partial<ConstructorParameters<typeof SemanticEndOfTurnPolicy>[1]> = {}) {
  return new SemanticEndOfTurnPolicy(judge, {
    silenceMs: 500,
    completeSilenceMs: 160,
    incompleteSilenceMs: 2000,
    ...extra,
  });
}

describe('SemanticEndOfTurnPolicy (with a fake judge)', () => {
  it('asks once at the first silent frame and answers false without waiting', async () => {
    const judge = new FakeJudge();
    const eot = policy(judge);
    expect(eot.shouldEndTurn(context(32))).toBe(false);
    expect(judge.requests).toHaveLength(1);
    expect(judge.requests[0]!.audio.length).toBe((2000 + 32) * 16);
    expect(eot.shouldEndTurn(context(64))).toBe(false);
    expect(eot.shouldEndTurn(context(96))).toBe(false);
    expect(judge.requests).toHaveLength(1); // one request per pause
  });

  it('complete verdict: ends at the short limit (or at once if the silence is already past it)', async () => {
    const judge = new FakeJudge();
    const eot = policy(judge);
    eot.shouldEndTurn(context(32));
    judge.requests[0]!.resolve(0.9);
    await settle();
    expect(eot.shouldEndTurn(context(64))).toBe(false);
    expect(eot.shouldEndTurn(context(128))).toBe(false);
    expect(eot.shouldEndTurn(context(160))).toBe(true);

    const late = new FakeJudge();
    const slow = policy(late);
    for (let ms = 32; ms <= 384; ms += 32) expect(slow.shouldEndTurn(context(ms))).toBe(false);
    late.requests[0]!.resolve(0.7);
    await settle();
    expect(slow.shouldEndTurn(context(416))).toBe(true);
  });

  it('incomplete verdict: keeps listening up to the long limit', async () => {
    const judge = new FakeJudge();
    const eot = policy(judge);
    eot.shouldEndTurn(context(32));
    judge.requests[0]!.resolve(0.2);
    await settle();
    for (let ms = 64; ms < 2000; ms += 32) expect(eot.shouldEndTurn(context(ms)), `${ms} ms`).toBe(false);
    expect(eot.shouldEndTurn(context(2016))).toBe(true);
  });

  it('a probability exactly at the threshold is not "complete"', async () => {
    const eot = policy(new FakeJudge(0.5));
    eot.shouldEndTurn(context(32));
    await settle();
    expect(eot.shouldEndTurn(context(480))).toBe(false);
  });

  it('pending verdict: waits up to the long limit, and a verdict arriving first decides', async () => {
    const judge = new FakeJudge();
    const eot = policy(judge);
    for (let ms = 32; ms < 2000; ms += 32) expect(eot.shouldEndTurn(context(ms))).toBe(false);
    expect(eot.shouldEndTurn(context(2016))).toBe(true);

    const judge2 = new FakeJudge();
    const eot2 = policy(judge2);
    for (let ms = 32; ms <= 640; ms += 32) expect(eot2.shouldEndTurn(context(ms))).toBe(false);
    judge2.requests[0]!.resolve(0.95);
    await settle();
    expect(eot2.shouldEndTurn(context(672))).toBe(true);
  });

  it('a failed call falls back to the plain silence-ms for that pause only', async () => {
    const failures: unknown[] = [];
    const judge = new FakeJudge();
    const eot = policy(judge, { onFailure: (error) => failures.push(error) });
    eot.shouldEndTurn(context(32));
    judge.requests[0]!.reject(new Error('model crashed'));
    await settle();
    expect(failures).toHaveLength(1);
    expect(eot.shouldEndTurn(context(448))).toBe(false);
    expect(eot.shouldEndTurn(context(512))).toBe(true);
    // The next turn asks again.
    expect(eot.shouldEndTurn(context(32, 500))).toBe(false);
    expect(judge.requests).toHaveLength(2);
  });

  it('a judge that throws synchronously counts as a failed call', async () => {
    const eot = policy({
      judge: () => {
        throw new Error('no port');
      },
    });
    expect(eot.shouldEndTurn(context(32))).toBe(false);
    await settle();
    expect(eot.shouldEndTurn(context(512))).toBe(true);
  });

  it('speech resuming discards the verdict: a late answer for the old pause is ignored, the new pause asks again', async () => {
    const verdicts: number[] = [];
    const judge = new FakeJudge();
    const eot = policy(judge, { onVerdict: (v) => verdicts.push(v.probability) });
    eot.shouldEndTurn(context(32, 2032));
    eot.shouldEndTurn(context(64, 2064));
    // Speech resumed (the segmenter stops calling), then a new pause begins: silence restarts.
    expect(eot.shouldEndTurn(context(32, 3032))).toBe(false);
    expect(judge.requests).toHaveLength(2);
    judge.requests[0]!.resolve(0.99); // the old pause's "complete" arrives late
    await settle();
    expect(verdicts).toEqual([]);
    expect(eot.shouldEndTurn(context(320, 3320))).toBe(false); // still pending for the new pause
    judge.requests[1]!.resolve(0.1);
    await settle();
    expect(verdicts).toEqual([0.1]);
    expect(eot.shouldEndTurn(context(1000, 4000))).toBe(false);
  });

  it('waits for askAfterMs of silence before asking', () => {
    const judge = new FakeJudge();
    const eot = policy(judge, { askAfterMs: 64 });
    eot.shouldEndTurn(context(32));
    expect(judge.requests).toHaveLength(0);
    eot.shouldEndTurn(context(64));
    expect(judge.requests).toHaveLength(1);
  });
});

describe('SpeechSegmenter with the semantic policy (fake judge, scripted probabilities)', () => {
  const FRAME = 512;
  async function feed(seg: SpeechSegmenter, probabilities: number[], judgeDelayFrames: { judge: FakeJudge; answers: number[] }) {
    const events: { at: number; event: SegmenterEvent }[] = [];
    let answered = 0;
    const askedAt: number[] = [];
    for (let i = 0; i < probabilities.length; i++) {
      for (const event of await seg.push(new Float32Array(FRAME), probabilities[i]!)) {
        if (event.type === 'speech-end' || event.type === 'speech-start') events.push({ at: i, event });
      }
      const { judge, answers } = judgeDelayFrames;
      while (askedAt.length < judge.requests.length) askedAt.push(i);
      // Each request is answered 10 frames (320 ms) after it was made, like a slow model.
      for (let r = answered; r < judge.requests.length; r++) {
        if (i - askedAt[r]! === 10) {
          judge.requests[r]!.resolve(answers[r] ?? 0.9);
          answered = r + 1;
          await settle();
        }
      }
    }
    return events;
  }

  const segmenter = (judge: FakeJudge) =>
    new SpeechSegmenter(
      { ...DEFAULT_TURN_DETECTION, frameSamples: FRAME, sampleRateHz: 16_000 },
      policy(judge, { silenceMs: 500 }),
    );

  it('an incomplete verdict bridges a 1 s pause that silence-ms 500 would cut; a complete one ends the turn soon after', async () => {
    const judge = new FakeJudge();
    const seg = segmenter(judge);
    const speech = (n: number) => Array<number>(n).fill(0.9);
    const silence = (n: number) => Array<number>(n).fill(0.02);
    // 1.6 s speech, 1 s pause (judged incomplete), 1.6 s speech, then silence (judged complete).
    const events = await feed(seg, [...speech(50), ...silence(31), ...speech(50), ...silence(40)], { judge, answers: [0.1, 0.9] });
    const ends = events.filter((e) => e.event.type === 'speech-end');
    expect(ends).toHaveLength(1);
    expect(judge.requests).toHaveLength(2);
    // Asked at frame 131 (first silent frame), answered after frame 141 was pushed: the
    // next silent frame reads the verdict and ends the turn (12 frames = 384 ms ≥ 160 ms).
    expect(ends[0]!.at).toBe(142);
  });
});

import { describe, expect, it } from 'vitest';
import { TranscriptPlanner, type PlannerOutput, type TranscriptJob } from './transcript-planner.ts';

const RATE = 1000; // 1 sample per ms keeps the arithmetic readable
const config = { sampleRateHz: RATE, partialEveryMs: 1000, pauseMs: 160, minCommitMs: 3000, maxJobMs: 15_000 };

/** Audio whose sample values are their own index, so a job's text can name its range. */
function ramp(from: number, length: number): Float32Array {
  return Float32Array.from({ length }, (_, i) => from + i);
}

/** A fake recognizer: "transcribes" a job as the range of samples it was given. */
function fakeText(job: TranscriptJob): string {
  return `[${job.audio[0]}-${job.audio[job.audio.length - 1]! + 1}]`;
}

/** Streams `ms` of audio in 100 ms chunks; `speechUntil` is where speech stops (ms). */
function stream(planner: TranscriptPlanner, fromMs: number, toMs: number, speechUntil = Infinity): PlannerOutput[] {
  const outputs: PlannerOutput[] = [];
  for (let t = fromMs; t < toMs; t += 100) {
    const end = t + 100;
    const trailing = end > speechUntil ? end - Math.max(speechUntil, fromMs) : 0;
    outputs.push(planner.append(ramp(t, 100), trailing));
  }
  return outputs;
}

describe('TranscriptPlanner', () => {
  it('asks for a partial after a second of new speech, and no more while one runs', () => {
    const planner = new TranscriptPlanner(config);
    const outputs = stream(planner, 0, 1500);
    const jobs = outputs.flatMap((o) => (o.job ? [o.job] : []));
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ kind: 'partial', fromSample: 0, toSample: 1000 });
    const done = planner.complete(jobs[0]!, 'hello');
    expect(done.partial).toBe('hello');
    // 500 ms of new speech since the partial: not yet worth another.
    expect(done.job).toBeUndefined();
  });

  it('starts a pause job when the visitor pauses, and that result becomes the final', () => {
    const planner = new TranscriptPlanner({ ...config, partialEveryMs: 10_000 });
    const outputs = stream(planner, 0, 2300, 2000);
    const pause = outputs.find((o) => o.job)?.job;
    expect(pause).toMatchObject({ kind: 'pause', fromSample: 0, toSample: 2200, trailingSilenceSamples: 200 });
    // The turn ends (VAD hangover) while the pause job is still running…
    expect(planner.endTurn(ramp(0, 2192), 2000)).toEqual({});
    // …and its result is the final transcript: no second call.
    const result = planner.complete(pause!, fakeText(pause!));
    expect(result.final).toBe('[0-2200]');
    expect(result.job).toBeUndefined();
    expect(planner.finished).toBe(true);
  });

  it('commits a long stretch before a pause, so the final call only covers the rest', () => {
    const planner = new TranscriptPlanner({ ...config, partialEveryMs: 10_000 });
    const first = stream(planner, 0, 3600, 3400).find((o) => o.job)!.job!;
    expect(first).toMatchObject({ kind: 'pause', toSample: 3600 });
    // Speech resumes before the pause job returns.
    stream(planner, 3600, 5000);
    const afterFirst = planner.complete(first, fakeText(first));
    expect(afterFirst.partial).toBe('[0-3600]');
    expect(planner.committedText).toBe('[0-3600]');
    // The turn ends; only the audio after the commit is transcribed.
    const end = planner.endTurn(ramp(0, 5200), 5000);
    const final = end.job ?? afterFirst.job;
    expect(final).toMatchObject({ kind: 'final', fromSample: 3600, toSample: 5200 });
    expect(planner.complete(final!, fakeText(final!)).final).toBe('[0-3600] [3600-5200]');
  });

  it('a pause job that came back before the turn ended is the final: no second call', () => {
    const planner = new TranscriptPlanner({ ...config, partialEveryMs: 10_000 });
    const outputs = stream(planner, 0, 2300, 2000);
    const pause = outputs.find((o) => o.job)!.job!;
    // A fast recognizer: the pause job is done while the end-of-turn silence is waited out.
    expect(planner.complete(pause, fakeText(pause)).partial).toBe('[0-2200]');
    planner.append(ramp(2300, 100), 400);
    const end = planner.endTurn(ramp(0, 2492), 2000);
    expect(end.final).toBe('[0-2200]');
    expect(end.job).toBeUndefined();
    expect(planner.finished).toBe(true);
  });

  it('a finished pause job that missed later words is not the final', () => {
    const planner = new TranscriptPlanner({ ...config, partialEveryMs: 10_000 });
    const pause = stream(planner, 0, 1400, 1200).find((o) => o.job)!.job!;
    planner.complete(pause, fakeText(pause));
    // One more short word after the pause job came back, then the turn ends.
    stream(planner, 1400, 1700, 1600);
    const end = planner.endTurn(ramp(0, 1792), 1600);
    expect(end.final).toBeUndefined();
    expect(end.job).toMatchObject({ kind: 'final', fromSample: 0, toSample: 1792 });
  });

  it('a finished pause job over different samples (the turn\'s start was trimmed) is not the final', () => {
    const planner = new TranscriptPlanner({ ...config, partialEveryMs: 10_000 });
    const pause = stream(planner, 0, 2300, 2000).find((o) => o.job)!.job!;
    planner.complete(pause, fakeText(pause));
    // The final audio has its first 300 ms silenced (a barge-in's echo trimmed).
    const trimmed = ramp(0, 2492);
    trimmed.fill(0, 0, 300);
    const end = planner.endTurn(trimmed, 2000);
    expect(end.final).toBeUndefined();
    expect(end.job).toMatchObject({ kind: 'final', fromSample: 0, toSample: 2492 });
    expect(end.job!.audio[0]).toBe(0);
  });

  it('does not commit a short stretch: Whisper gets the context', () => {
    const planner = new TranscriptPlanner({ ...config, partialEveryMs: 10_000 });
    const pause = stream(planner, 0, 1400, 1200).find((o) => o.job)!.job!;
    stream(planner, 1400, 2500);
    const result = planner.complete(pause, fakeText(pause));
    expect(planner.committedText).toBe('');
    expect(result.partial).toBe('[0-1400]');
    // Not covered: the final job starts from the beginning of the turn.
    const final = result.job ?? planner.endTurn(ramp(0, 2700), 2500).job;
    expect(final).toMatchObject({ kind: 'final', fromSample: 0, toSample: 2700 });
  });

  it('a job that missed the last words does not become the final', () => {
    const planner = new TranscriptPlanner({ ...config, partialEveryMs: 10_000 });
    const pause = stream(planner, 0, 1400, 1200).find((o) => o.job)!.job!;
    // The visitor says one more word, then the turn ends while the pause job runs.
    stream(planner, 1400, 1700, 1600);
    expect(planner.endTurn(ramp(0, 1792), 1600)).toEqual({});
    const result = planner.complete(pause, fakeText(pause));
    expect(result.final).toBeUndefined();
    expect(result.partial).toBeUndefined();
    expect(result.job).toMatchObject({ kind: 'final', fromSample: 0, toSample: 1792 });
    expect(planner.complete(result.job!, 'all of it').final).toBe('all of it');
  });

  it('a turn that ends with nothing streamed gets one final job over its audio', () => {
    const planner = new TranscriptPlanner(config);
    const out = planner.endTurn(ramp(0, 800), 600);
    expect(out.job).toMatchObject({ kind: 'final', fromSample: 0, toSample: 800, trailingSilenceSamples: 200 });
    expect(Array.from(out.job!.audio.slice(0, 3))).toEqual([0, 1, 2]);
    expect(planner.complete(out.job!, 'hi').final).toBe('hi');
  });

  it('a failed final reports what was committed, and ignores stale results', () => {
    const planner = new TranscriptPlanner(config);
    const job = planner.endTurn(ramp(0, 800), 600).job!;
    expect(planner.complete({ ...job, id: 999 }, 'stale')).toEqual({});
    expect(planner.fail(job).final).toBe('');
    expect(planner.complete(job, 'late')).toEqual({});
  });

  it('keeps partials coming on a long turn without a pause, one call at a time', () => {
    const planner = new TranscriptPlanner(config);
    let job: TranscriptJob | undefined;
    const partials: string[] = [];
    for (let t = 0; t < 6000; t += 100) {
      const out = planner.append(ramp(t, 100), 0);
      if (out.job) {
        expect(job).toBeUndefined();
        job = out.job;
      }
      // The fake recognizer takes 300 ms per call.
      if (job && t + 100 >= job.toSample + 300) {
        const done = planner.complete(job, fakeText(job));
        if (done.partial) partials.push(done.partial);
        job = done.job;
      }
    }
    expect(partials.length).toBeGreaterThanOrEqual(4);
    // Every partial starts at the turn's beginning (nothing committed without a pause).
    for (const partial of partials) expect(partial.startsWith('[0-')).toBe(true);
  });

  it('cuts a long turn at the visitor\'s pauses so no call takes more than maxJobMs', () => {
    const planner = new TranscriptPlanner({ ...config, partialEveryMs: 100_000, minCommitMs: 8000 });
    // 40 s of speech with 400 ms pauses ending at 6, 12, 19, 26 and 33 s; the recognizer is
    // busy with the first job the whole time (a slow device).
    const pauses = [6000, 12_000, 19_000, 26_000, 33_000];
    let first: TranscriptJob | undefined;
    for (let t = 0; t < 40_000; t += 100) {
      const pause = pauses.find((p) => t + 100 > p - 400 && t + 100 <= p);
      const trailing = pause ? t + 100 - (pause - 400) : 0;
      const out = planner.append(ramp(t, 100), trailing);
      first ??= out.job;
    }
    let out = planner.endTurn(ramp(0, 40_200), 40_000);
    expect(out).toEqual({});
    const ranges: [number, number][] = [];
    let job: TranscriptJob | undefined = first;
    while (job) {
      ranges.push([job.fromSample, job.toSample]);
      out = planner.complete(job, fakeText(job));
      job = out.job;
    }
    expect(out.final).toBeDefined();
    // After the first (early) call, every call stays under 15 s and starts where the last
    // commit ended; together they cover the turn.
    const later = ranges.slice(1);
    for (const [from, to] of later) expect(to - from).toBeLessThanOrEqual(15_000);
    expect(later[0]![0]).toBe(0);
    for (let i = 1; i < later.length; i++) expect(later[i]![0]).toBe(later[i - 1]![1]);
    expect(later.at(-1)![1]).toBe(40_200);
    expect(out.final).toBe(later.map(([a, b]) => `[${a}-${b}]`).join(' '));
  });

  it('holds partials back while the recognizer needs a rest, never a pause job', () => {
    let allow = false;
    const planner = new TranscriptPlanner({ ...config, allowPartial: () => allow });
    // 1.5 s of speech: a partial would be due, but the gate says no.
    expect(stream(planner, 0, 1500).some((o) => o.job)).toBe(false);
    // The visitor pauses: the pause job starts regardless of the gate.
    const pause = stream(planner, 1500, 1800, 1500).find((o) => o.job)?.job;
    expect(pause).toMatchObject({ kind: 'pause', fromSample: 0 });
    planner.complete(pause!, 'so far');
    // Speech resumes; once the gate opens, partials come again.
    expect(stream(planner, 1800, 3000).some((o) => o.job)).toBe(false);
    allow = true;
    expect(planner.append(ramp(3000, 100), 0).job).toMatchObject({ kind: 'partial' });
  });
});

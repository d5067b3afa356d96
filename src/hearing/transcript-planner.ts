/**
 * Transcribing a turn while the visitor is still talking.
 *
 * Whisper pads every input to a 30 s window, so each call costs a fixed encoder pass plus
 * one decoder step per token. Transcribing the whole turn after it ends therefore costs
 * the most exactly when the visitor waits. This planner uses the talking time instead:
 *
 * - **Partials**: whenever ≥ {@link PlannerConfig.partialEveryMs} of new speech has
 *   arrived and the recognizer is idle, transcribe the open part of the turn. Calls are
 *   serialized, so a slow device simply gets fewer partials — never a queue.
 * - **Pause jobs**: when the visitor pauses (≥ `pauseMs` after the last voiced frame),
 *   transcribe the open part at once. If the turn then ends, that result *is* the final
 *   transcript, ready while the end-of-turn silence is still being waited out.
 * - **Commits**: if speech resumes after a pause job that covered ≥ `minCommitMs`, its
 *   text is kept and its audio is never transcribed again; later calls start after it.
 *   So at the end of a long turn only the last stretch needs transcribing.
 *
 * Pure bookkeeping: the controller feeds audio and results in and runs the jobs it gets
 * back; unit-tested with a fake recognizer.
 */

export interface PlannerConfig {
  readonly sampleRateHz: number;
  /** New speech that warrants a partial. */
  readonly partialEveryMs: number;
  /** Silence after the last voiced frame that starts a pause job. */
  readonly pauseMs: number;
  /** A pause job shorter than this is not committed (Whisper does better with context). */
  readonly minCommitMs: number;
  /**
   * The most audio one call should take. Longer stretches are cut at a pause the visitor
   * made (the latest one that keeps the call under this): Whisper, given 20 s+ in one
   * window without timestamps, may skip whole sentences.
   */
  readonly maxJobMs: number;
  /**
   * Asked before each partial: may the recognizer take one now? The controller answers
   * from the recognizer's recent pace, so partials never crowd out the call that matters
   * (the one at the visitor's pause). Pause jobs and finals are never held back.
   */
  readonly allowPartial: () => boolean;
}

export const DEFAULT_PLANNER_CONFIG: PlannerConfig = {
  sampleRateHz: 16_000,
  partialEveryMs: 1000,
  // Longer than a stop consonant's closure, shorter than the 500 ms end-of-turn hangover,
  // so the final transcript is usually ready when the turn is declared over.
  pauseMs: 160,
  // Commits cut Whisper's context, so only long stretches are committed: short phrases
  // transcribe better together, and a call costs about the same for 2 s as for 8 s.
  minCommitMs: 8000,
  maxJobMs: 15_000,
  allowPartial: () => true,
};

export interface TranscriptJob {
  readonly id: number;
  /** Audio to transcribe (a copy: the controller may transfer it). */
  readonly audio: Float32Array;
  /** Range within the turn's audio, in samples. */
  readonly fromSample: number;
  readonly toSample: number;
  /** Samples at the end of the range after the last voiced frame. */
  readonly trailingSilenceSamples: number;
  /** `final` jobs cover the turn's end; others may become final or a commit. */
  readonly kind: 'partial' | 'pause' | 'final';
}

/** What the controller should do after feeding the planner. */
export interface PlannerOutput {
  /** A job to start now (the recognizer is idle). */
  readonly job?: TranscriptJob;
  /** A partial transcript to report. */
  readonly partial?: string;
  /** The final transcript of the turn (once). */
  readonly final?: string;
}

export class TranscriptPlanner {
  private readonly config: PlannerConfig;
  private audio = new Float32Array(16_000 * 8);
  private length = 0;
  /** Samples after the last voiced frame at the end of `audio`. */
  private trailingSilence = 0;
  private committedSamples = 0;
  private readonly committedTexts: string[] = [];
  /** End of speech (in samples) covered by the latest job started since the last commit. */
  private coveredSpeech = 0;
  private inFlight: TranscriptJob | null = null;
  /** The latest job that came back, with its text: the final transcript if it heard the whole turn. */
  private heard: { job: TranscriptJob; text: string } | null = null;
  private nextId = 1;
  /** Ends of streamed chunks that lay in a pause of ≥ pauseMs: where a long turn may be cut. */
  private readonly pausePoints: { sample: number; trailing: number }[] = [];
  /** Set by endTurn: the turn's authoritative end and last voiced sample. */
  private ending: { length: number; lastSpeechSample: number } | null = null;
  private done = false;

  constructor(config: Partial<PlannerConfig> = {}) {
    this.config = { ...DEFAULT_PLANNER_CONFIG, ...config };
  }

  get finished(): boolean {
    return this.done;
  }

  /** Text committed so far (for tests and debugging). */
  get committedText(): string {
    return joinTexts(this.committedTexts);
  }

  /**
   * More of the open turn's audio. `trailingSilenceSamples` counts the samples after the
   * last voiced frame at the end of everything appended so far.
   */
  append(chunk: Float32Array, trailingSilenceSamples: number): PlannerOutput {
    if (this.ending || this.done) return {};
    this.ensureCapacity(this.length + chunk.length);
    this.audio.set(chunk, this.length);
    this.length += chunk.length;
    this.trailingSilence = Math.min(this.length, Math.max(0, trailingSilenceSamples));
    if (this.trailingSilence >= this.samples(this.config.pauseMs)) {
      // One point per pause: a later chunk of the same pause replaces the earlier one.
      const last = this.pausePoints.at(-1);
      const speechEnd = this.length - this.trailingSilence;
      if (last && last.sample - last.trailing === speechEnd) this.pausePoints.pop();
      this.pausePoints.push({ sample: this.length, trailing: this.trailingSilence });
    }
    return this.schedule();
  }

  /**
   * The turn is over. `audio` is the turn's final audio (it begins with what was
   * appended; it may be shorter, without the trailing silence); `lastSpeechSample` is
   * where its last voiced frame ends.
   */
  endTurn(audio: Float32Array, lastSpeechSample: number): PlannerOutput {
    if (this.done) return {};
    // The final audio is authoritative: it may hold more than was streamed.
    this.ensureCapacity(audio.length);
    this.audio.set(audio, 0);
    this.length = audio.length;
    this.ending = { length: audio.length, lastSpeechSample: Math.min(lastSpeechSample, audio.length) };
    if (this.committedSamples >= this.ending.lastSpeechSample) return this.finish('');
    // A pause job that already came back may have heard everything: with a recognizer
    // faster than the end-of-turn wait it usually has, and a second call would only add
    // its own time to the visitor's wait.
    if (!this.inFlight && this.heard && this.heardWholeTurn(this.heard.job)) return this.finish(this.heard.text);
    return this.schedule();
  }

  /** The recognizer finished `job` with `text`. */
  complete(job: TranscriptJob, text: string): PlannerOutput {
    if (this.inFlight?.id !== job.id) return {};
    this.inFlight = null;
    if (this.done) return {};
    if (this.heardWholeTurn(job)) return this.finish(text);
    this.heard = { job, text };
    const pausedLongEnough = job.trailingSilenceSamples >= this.samples(this.config.pauseMs);
    const longEnough = job.toSample - job.fromSample >= this.samples(this.config.minCommitMs);
    if (job.kind !== 'final' && pausedLongEnough && longEnough && this.length > job.toSample) {
      // Speech went on after a real pause: keep this stretch's text for good.
      this.committedTexts.push(text);
      this.committedSamples = job.toSample;
    }
    const partial = joinTexts([...this.committedTexts, ...(this.committedSamples === job.toSample ? [] : [text])]);
    const next = this.schedule();
    // Once the turn has ended, only the final transcript is news.
    return this.ending ? next : { ...next, partial };
  }

  /** The recognizer failed on `job`: the turn is finished with what was committed. */
  fail(job: TranscriptJob): PlannerOutput {
    if (this.inFlight?.id !== job.id) return {};
    this.inFlight = null;
    return this.done ? {} : this.finish(null);
  }

  private schedule(): PlannerOutput {
    if (this.inFlight || this.done) return {};
    const ending = this.ending;
    const end = ending ? ending.length : this.length;
    if (end - this.committedSamples > this.samples(this.config.maxJobMs)) {
      // Too long for one call: take the stretch up to the latest usable pause; it commits.
      const cut = this.cutPoint();
      if (cut) return { job: this.start('pause', cut.sample, cut.trailing) };
    }
    if (ending) {
      return { job: this.start('final', ending.length, Math.max(0, ending.length - ending.lastSpeechSample)) };
    }
    const speechEnd = this.length - this.trailingSilence;
    if (speechEnd <= this.coveredSpeech) return {};
    if (this.trailingSilence >= this.samples(this.config.pauseMs)) {
      return { job: this.start('pause', this.length, this.trailingSilence) };
    }
    if (speechEnd - this.coveredSpeech >= this.samples(this.config.partialEveryMs) && this.config.allowPartial()) {
      return { job: this.start('partial', this.length, this.trailingSilence) };
    }
    return {};
  }

  /**
   * Did `job` hear everything the visitor said in the ended turn? It must start where the
   * uncommitted audio starts, reach past the last voiced sample, and have heard the same
   * samples as the final audio (a barge-in's echo trim may have changed the turn's start).
   */
  private heardWholeTurn(job: TranscriptJob): boolean {
    const ending = this.ending;
    if (!ending || job.fromSample !== this.committedSamples) return false;
    if (job.toSample - job.trailingSilenceSamples < ending.lastSpeechSample) return false;
    const compared = Math.min(job.toSample, ending.length) - job.fromSample;
    for (let i = 0; i < compared; i++) {
      if (job.audio[i] !== this.audio[job.fromSample + i]) return false;
    }
    return true;
  }

  /** The latest pause that leaves a committable stretch no longer than maxJobMs. */
  private cutPoint(): { sample: number; trailing: number } | undefined {
    const from = this.committedSamples + this.samples(this.config.minCommitMs);
    const to = this.committedSamples + this.samples(this.config.maxJobMs);
    const points = this.pausePoints.filter((p) => p.sample <= this.length);
    return points.filter((p) => p.sample >= from && p.sample <= to).at(-1) ?? points.find((p) => p.sample > to);
  }

  private start(kind: TranscriptJob['kind'], toSample: number, trailingSilenceSamples: number): TranscriptJob {
    const fromSample = this.committedSamples;
    const job: TranscriptJob = {
      id: this.nextId++,
      audio: this.audio.slice(fromSample, toSample),
      fromSample,
      toSample,
      trailingSilenceSamples,
      kind,
    };
    this.inFlight = job;
    this.coveredSpeech = Math.max(this.coveredSpeech, toSample - trailingSilenceSamples);
    return job;
  }

  /** `tail` null: the last job failed; report what was committed. */
  private finish(tail: string | null): PlannerOutput {
    this.done = true;
    return { final: joinTexts(tail === null ? this.committedTexts : [...this.committedTexts, tail]) };
  }

  private samples(ms: number): number {
    return Math.round((ms / 1000) * this.config.sampleRateHz);
  }

  private ensureCapacity(samples: number): void {
    if (samples <= this.audio.length) return;
    const grown = new Float32Array(Math.max(samples, this.audio.length * 2));
    grown.set(this.audio.subarray(0, this.length));
    this.audio = grown;
  }
}

function joinTexts(texts: readonly string[]): string {
  return texts
    .map((text) => text.trim())
    .filter(Boolean)
    .join(' ');
}

import * as Comlink from 'comlink';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import {
  isMoonshineModel,
  planAsr,
  wasmFallbackPlan,
  type AsrPlan,
  type AsrPreferences,
  type AsrTask,
  type MeasuredCapabilities,
} from './asr-plan.ts';
import { wallClockMs } from '../platform/clock.ts';
import { VoiceAgentError } from '../platform/errors.ts';
import type { AsrResult, AsrWorkerApi, FileProgress } from '../platform/protocol.ts';
import { acceptTranscript, rmsOf, stripAnnotations } from './transcript-filter.ts';
import { CONTEXT_GAP_MS, stripContext, withContext } from './phrase-context.ts';
import { TranscriptPlanner, type PlannerOutput, type TranscriptJob } from './transcript-planner.ts';
import type { VoiceDebugDetail } from '../events/debug.ts';
import { DEFAULT_SUPERVISION, ModelLifecycle } from '../platform/model-lifecycle.ts';
import { loadTransformersPlan } from '../platform/model-runtime.ts';
import { WorkerHandle } from '../platform/worker-handle.ts';
import type { RecognizerPort } from '../session/ports.ts';

export interface AsrSettings extends AsrPreferences {
  /** False with `asr-model="none"`: no recognizer at all. */
  readonly enabled: boolean;
  readonly task: AsrTask;
  readonly modelBaseUrl?: string;
  /** `local-only`: no file from outside the page's origin. */
  readonly localOnly?: boolean;
}

/** What `capabilities` reports: what was measured, what was chosen, and why. */
export interface AsrCapabilities {
  readonly measured: MeasuredCapabilities;
  readonly model: string;
  readonly device: AsrPlan['device'];
  readonly dtype: AsrPlan['dtype'];
  readonly reason: string;
  /** Set once WebGPU failed and WASM took over. */
  readonly fallback?: string;
}

export interface TranscriptUpdate {
  readonly turnId: number;
  /** '' on a final means "no words in this turn" (noise, silence, or a failure). */
  readonly text: string;
  readonly final: boolean;
  readonly language: string;
}

export interface AsrControllerCallbacks {
  onProgress(progress: FileProgress): void;
  onTranscript(update: TranscriptUpdate): void;
  /** Failures that leave the element working: fallbacks, a failed turn, a failed load. */
  onError(error: VoiceAgentError): void;
  /** Diagnostics (the element forwards them as `voice-debug` when `debug` is set). */
  onDebug(detail: VoiceDebugDetail): void;
}

/** Rest after a call, as a multiple of its duration, before a partial may run. */
const PARTIAL_REST_RATIO = 2;
/**
 * A recognizer whose cost follows the audio (Moonshine: ~0.25 s for a 3.5 s turn on one
 * thread) can afford a partial every half second of new speech and a shorter rest;
 * Whisper's fixed 30 s window keeps the planner's defaults (a partial per second at most).
 */
const CHEAP_PARTIAL_EVERY_MS = 500;
const CHEAP_PARTIAL_REST_RATIO = 1;
const SAMPLE_RATE_HZ = 16_000;

interface TurnRecord {
  readonly planner: TranscriptPlanner;
  lastPartial: string;
  language: string;
  evidence: { speechMs: number; rms: number } | null;
  /** The phrase just before, when this turn began right after it (see phrase-context.ts). */
  readonly context: SpokenPhrase | null;
  /** Set when the turn ends: its audio and when (page clock). */
  ended: SpokenPhrase | null;
}

/** A turn's audio and the words reported for it. */
interface SpokenPhrase {
  readonly audio: Float32Array;
  readonly text: string;
  readonly endedAt: number;
}

/**
 * Owns the recognizer worker (Moonshine or Whisper) and the turns being transcribed.
 *
 * It measures the browser (WebGPU adapter, `shader-f16`), picks the model and device
 * (`planAsr`), loads it with progress, and drives one {@link TranscriptPlanner} per turn:
 * partial transcripts while the visitor talks, the final one as soon as the turn ends.
 * Jobs run one at a time, in order. If WebGPU fails (at load or on a turn) the worker is
 * replaced by a WASM one, once, and the same job runs again there.
 */
export class AsrController implements ReactiveController, RecognizerPort {
  private readonly callbacks: AsrControllerCallbacks;
  /** Measure, plan, load, fall back to WASM once, dispose: the worker's life. */
  private readonly model: ModelLifecycle<AsrSettings, AsrPlan, Comlink.Remote<AsrWorkerApi>>;
  private readonly turns = new Map<number, TurnRecord>();
  /**
   * Jobs waiting for the recognizer. One runs at a time, the oldest turn's first, so
   * finals come out in turn order and an ended turn never waits behind a newer one.
   */
  private readonly pending: { turnId: number; turn: TurnRecord; job: TranscriptJob }[] = [];
  private running = false;
  /** The recognizer's pace: how long its last call took and when it ended (page clock). */
  private lastCallMs = 0;
  private lastCallEndedAt = 0;
  /** Bumped by reset(): results of older work are dropped. */
  private generation = 0;
  /** The last turn with words: the context for a turn that begins right after it. */
  private lastPhrase: SpokenPhrase | null = null;

  constructor(host: ReactiveControllerHost, callbacks: AsrControllerCallbacks) {
    this.callbacks = callbacks;
    host.addController(this);
    this.model = new ModelLifecycle<AsrSettings, AsrPlan, Comlink.Remote<AsrWorkerApi>>({
      what: 'speech recognizer',
      plan: planAsr,
      fallbackPlan: wasmFallbackPlan,
      spawn: (onCrash) =>
        new WorkerHandle<AsrWorkerApi>(
          () => new Worker(new URL('../../workers/asr.worker.ts', import.meta.url), { type: 'module', name: 'voice-agent-asr' }),
          onCrash,
        ),
      // Whisper's fixed 30 s encoder pass dominates every call, so it gets all cores (up to
      // 4): the VAD needs < 1 ms per 32 ms frame.
      load: (api, plan, settings, onProgress) => loadTransformersPlan(api, plan, settings.modelBaseUrl, 4, onProgress, settings.localOnly),
      gpuFallbackMessage: (cause) => `Speech recognition on the GPU failed (${cause}); using the CPU instead.`,
      onProgress: (progress) => this.callbacks.onProgress(progress),
      onError: (error) => {
        if (error.code === 'worker-failed') this.reset(); // the lifecycle disposed itself
        this.callbacks.onError(error);
      },
      onLoadFailed: (error) => this.callbacks.onError(error),
      // A lost worker is restarted and the turn's call retried once, so no turn goes
      // unheard because the recognizer died once.
      supervise: DEFAULT_SUPERVISION,
      onRestarted: (cause) => this.callbacks.onDebug({ kind: 'worker-restarted', what: 'speech recognizer', cause }),
      // Reported for a load that worked on its first plan (a fallback reports gpu-fallback).
      onReady: (_plan, { loadMs, fellBack }) => {
        if (!fellBack) this.callbacks.onDebug({ kind: 'asr-ready', loadMs });
      },
    });
  }

  hostDisconnected(): void {
    this.dispose();
  }

  get enabled(): boolean {
    return this.model.settings?.enabled ?? false;
  }

  /** Enabled and not known to have failed: turns will get transcripts. */
  get available(): boolean {
    return this.enabled && !this.model.failed;
  }

  get capabilities(): AsrCapabilities | null {
    const { plan, measured, fallback } = this.model;
    if (!plan || !measured) return null;
    return { measured, ...plan, fallback };
  }

  /** New settings apply from the next load (a changed model means a new worker). */
  configure(settings: AsrSettings): void {
    if (this.model.configure(settings)) this.reset();
  }

  /**
   * Measures, plans and loads (once). Resolves true when a recognizer is ready, false when
   * it is disabled or failed to load (reported through onError; voice turns still work,
   * just without text).
   */
  load(): Promise<boolean> {
    if (!this.enabled) return Promise.resolve(false);
    // A failure is reported once (onLoadFailed); a later start() may try again.
    return this.model.load().then(
      () => true,
      () => false,
    );
  }

  // ── turns ────────────────────────────────────────────────────────────────────────

  beginTurn(turnId: number): void {
    if (!this.available) return;
    // The VAD has one turn open at a time, so an older turn that never ended (lost with a
    // replaced VAD worker or a dropped microphone) never will: its audio would be kept forever.
    for (const [id, record] of this.turns) if (id < turnId && !record.ended) this.turns.delete(id);
    const cheap = this.costFollowsAudio;
    const planner = new TranscriptPlanner({
      allowPartial: () => this.mayRunPartial(),
      ...(cheap ? { partialEveryMs: CHEAP_PARTIAL_EVERY_MS } : {}),
    });
    this.turns.set(turnId, { planner, lastPartial: '', language: '', evidence: null, context: this.contextForNewTurn(), ended: null });
  }

  appendAudio(turnId: number, audio: Float32Array, trailingSilenceSamples: number): void {
    const turn = this.turns.get(turnId);
    if (turn) this.handle(turnId, turn, turn.planner.append(audio, trailingSilenceSamples));
  }

  /** The turn is over: `audio` is all of it; `speechMs` is what the VAD counted as speech. */
  endTurn(turnId: number, audio: Float32Array, lastSpeechSample: number, speechMs: number): void {
    const turn = this.turns.get(turnId);
    if (!turn) return;
    turn.evidence = { speechMs, rms: rmsOf(audio) };
    turn.ended = { audio, text: '', endedAt: performance.now() };
    this.handle(turnId, turn, turn.planner.endTurn(audio, lastSpeechSample));
  }

  /** Drops every open turn (stop, teardown): nothing more is reported for them. */
  reset(): void {
    this.generation++;
    this.turns.clear();
    this.pending.length = 0;
    this.lastPhrase = null;
  }

  /** Terminates the worker; the next load() starts afresh. */
  dispose(): void {
    this.reset();
    this.model.dispose();
  }

  // ── internals ───────────────────────────────────────────────────────────────────────

  /**
   * Partials keep the recognizer busy at most a third of the time: after a call of N ms,
   * the next partial waits 2N ms. On a fast device that still means one per second of
   * speech; on a slow one, fewer — and the call at the visitor's pause, the one that
   * becomes the final transcript, usually finds the recognizer free.
   */
  private mayRunPartial(): boolean {
    if (this.running || this.pending.length > 0) return false;
    const rest = this.costFollowsAudio ? CHEAP_PARTIAL_REST_RATIO : PARTIAL_REST_RATIO;
    return performance.now() - this.lastCallEndedAt >= rest * this.lastCallMs;
  }

  /** Whether the planned recognizer's cost follows the audio's length (Moonshine) rather than a fixed window. */
  private get costFollowsAudio(): boolean {
    const model = this.model.plan?.model;
    return model !== undefined && isMoonshineModel(model);
  }

  private handle(turnId: number, turn: TurnRecord, output: PlannerOutput): void {
    if (output.partial !== undefined) {
      const text = stripAnnotations(output.partial);
      if (text && text !== turn.lastPartial) {
        turn.lastPartial = text;
        this.callbacks.onTranscript({ turnId, text, final: false, language: turn.language });
      }
    }
    if (output.final !== undefined) {
      this.turns.delete(turnId);
      const evidence = turn.evidence ?? { speechMs: 0, rms: 0 };
      const text = acceptTranscript(output.final, evidence);
      this.lastPhrase = text && turn.ended ? { ...turn.ended, text } : null;
      this.callbacks.onTranscript({ turnId, text, final: true, language: turn.language || 'und' });
    }
    if (output.job) this.run(turnId, turn, output.job);
  }

  private run(turnId: number, turn: TurnRecord, job: TranscriptJob): void {
    this.pending.push({ turnId, turn, job });
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.pending.length > 0) {
        this.pending.sort((a, b) => a.turnId - b.turnId);
        const { turnId, turn, job } = this.pending.shift()!;
        // The turn may have finished while this job waited (a partial queued behind its final).
        if (this.turns.get(turnId) !== turn) continue;
        const generation = this.generation;
        let result: AsrResult | null = null;
        const started = performance.now();
        try {
          result = await this.transcribe(job, turn.context);
          this.lastCallMs = performance.now() - started;
          this.lastCallEndedAt = performance.now();
        } catch (error) {
          if (generation !== this.generation) continue;
          this.callbacks.onError(VoiceAgentError.from(error, 'transcription-failed'));
        }
        if (generation !== this.generation) continue;
        if (result) {
          turn.language = result.language;
          this.callbacks.onDebug({
            kind: 'asr-job',
            turnId,
            job: job.kind,
            audioSeconds: job.audio.length / SAMPLE_RATE_HZ,
            inferenceMs: result.inferenceMs,
            finishedAt: wallClockMs(),
            text: result.text,
          });
        }
        this.handle(turnId, turn, result ? turn.planner.complete(job, result.text) : turn.planner.fail(job));
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * Runs one job, falling back from WebGPU to WASM once if the GPU path fails. With a
   * context phrase, the job's audio is heard after it and the context's words are taken
   * off the result; if they cannot be (the context misled the recognizer), the job runs
   * again alone.
   */
  private async transcribe(job: TranscriptJob, context: SpokenPhrase | null): Promise<AsrResult> {
    if (!(await this.load())) throw new VoiceAgentError('transcription-failed', 'The speech recognizer is not available.');
    if (context) {
      const joined = await this.call(withContext(context.audio, job.audio, SAMPLE_RATE_HZ));
      const text = stripContext(context.text, joined.text);
      if (text !== undefined) return { ...joined, text };
    }
    return this.call(job.audio); // copied per try: the planner may still need the original
  }

  /** One recognizer call on `audio` (a copy is transferred each try: a call may be retried). */
  private call(audio: Float32Array): Promise<AsrResult> {
    return this.model.callWithFallback((api) => {
      const copy = audio.slice();
      return api.transcribe(
        Comlink.transfer({ audio: copy, language: this.languageCode(), task: this.model.settings?.task ?? 'transcribe' }, [copy.buffer]),
      );
    });
  }

  /**
   * The previous phrase, when a recognizer whose cost follows the audio can afford to hear
   * it again and this turn begins soon enough after it to be the same sentence going on.
   */
  private contextForNewTurn(): SpokenPhrase | null {
    const last = this.lastPhrase;
    if (!last || !this.costFollowsAudio) return null;
    return performance.now() - last.endedAt < CONTEXT_GAP_MS ? last : null;
  }

  private languageCode(): string | undefined {
    const language = this.model.settings?.language ?? 'auto';
    return language === 'auto' ? undefined : language;
  }
}

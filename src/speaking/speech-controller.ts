import * as Comlink from 'comlink';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import phonemizerWorkerUrl from 'piper-tts-web/dist/worker/PhonemizeWebWorker.js?url';
import phonemizerWasmUrl from 'piper-tts-web/dist/piper/piper_phonemize.wasm?url';
import phonemizerDataUrl from 'piper-tts-web/dist/piper/piper_phonemize.data?url';
import { wallClockMs } from '../platform/clock.ts';
import { VoiceAgentError } from '../platform/errors.ts';
import { voiceUrls } from './piper-voice.ts';
import { assertLocalOnly } from '../platform/local-only.ts';
import { ModelLifecycle, ModelUnloadedError, type ModelPlan, type Supervision } from '../platform/model-lifecycle.ts';
import type { FileProgress, SynthesisResult, TtsAssets, TtsChunkRecord, TtsWorkerApi, VoiceSource } from '../platform/protocol.ts';
import { splitClauses, type Clause } from './speakable-text.ts';
import { admitToSpeechQueue, MAX_QUEUED_SPEECH_CHARS } from './speech-queue.ts';
import { SpeechTimeline, startDelayMs } from './speech-timeline.ts';
import type { VoiceResponseDetail } from '../events/response.ts';
import type { VoiceResponseEndDetail } from '../events/response-end.ts';
import { PlaybackController, PlaybackStream } from './playback-controller.ts';
import { WorkerHandle, absoluteUrl } from '../platform/worker-handle.ts';
import type { SpeakerPort } from '../session/ports.ts';

/** How often the played position is read to advance `voice-response` (ms). */
const PROGRESS_INTERVAL_MS = 50;

/**
 * How synthesis calls watch the voice's worker. The heartbeat is the recognizer's (a
 * killed or hung worker is noticed within ~20 s); the deadline is long because every
 * clause of a reply is requested at once and the worker runs them one by one: the last
 * clause of a four-minute reply (the speech queue's cap) on a slow device can be waiting
 * more than a minute for its turn without anything being wrong.
 */
export const SPEECH_SUPERVISION: Supervision = { heartbeatMs: 3000, unansweredMs: 20_000, deadlineMs: 600_000 };

/** The voice's one plan: Piper on WASM, with what its worker loads. */
interface VoicePlan extends ModelPlan {
  readonly assets: TtsAssets;
  readonly source: VoiceSource;
}

export interface SpeechSettings {
  /** Piper voice id (validated when it is loaded). */
  readonly voiceId: string;
  /** `model-base-url` (no trailing slash), or undefined for the public hub. */
  readonly modelBaseUrl: string | undefined;
  /** 1 = the voice's own pace. */
  readonly speakingRate: number;
  /** `local-only`: the voice and its runtime only from the page's origin. */
  readonly localOnly?: boolean;
}

export interface SpeechCallbacks {
  /** Audio of a reply started playing (true) / nothing is playing or queued any more (false). */
  onSpeakingChange(speaking: boolean): void;
  onResponse(detail: VoiceResponseDetail): void;
  onResponseEnd(detail: VoiceResponseEndDetail): void;
  onProgress(progress: FileProgress): void;
  /** Failures, and the output being blocked (`audio-blocked`: replies wait, they are not dropped). */
  onError(error: VoiceAgentError): void;
  /** The output plays again after `audio-blocked`. */
  onOutputResumed?(): void;
  /** Per-clause costs and timings (the element's debug mode). */
  onChunk?(record: TtsChunkRecord): void;
  /** The voice's worker was lost during synthesis and a new one loaded to retry: why. */
  onRestarted?(cause: string): void;
}

/** Where one reply's progress goes instead of the element-wide callbacks (an agent answer spoken clause by clause). */
export interface ReplyHooks {
  onResponse(detail: VoiceResponseDetail): void;
  onResponseEnd(detail: VoiceResponseEndDetail): void;
}

/** One `say()` call on its way through synthesis and playback. */
interface Reply {
  readonly hooks: ReplyHooks | undefined;
  readonly id: number;
  /** The part of the given text that is spoken (all of it unless the speech queue was full). */
  readonly text: string;
  /** The text as given to `say()`. */
  readonly givenText: string;
  readonly saidAt: number;
  readonly timeline: SpeechTimeline;
  readonly stream: PlaybackStream;
  /** Every clause has been scheduled (or the reply stopped early). */
  allQueued: boolean;
  /** Synthesis or output failed part-way; what was queued still plays. */
  failed: boolean;
  /** Heard prefix already reported through `voice-response`. */
  reportedOffset: number;
  done: boolean;
  resolve(): void;
}

/**
 * Speaks text: clause splitting and cleaning (core/speakable-text), Piper synthesis in the
 * TTS worker, gap-free playback (PlaybackController), and the bookkeeping that turns the
 * played position into `voice-response` / `voice-response-end`.
 *
 * Replies play in the order `say()` was called; each resolves when it has been spoken to
 * the end or stopped. All clauses of a reply are requested at once — the worker runs them
 * one by one, first clauses first — and scheduled in order as they arrive.
 *
 * @example
 * const speech = new SpeechController(host, callbacks);
 * speech.settings = { voiceId: 'en_US-joe-medium', modelBaseUrl: '/models', speakingRate: 1 };
 * await speech.say('Hello there, how can I help?');
 */
export class SpeechController implements ReactiveController, SpeakerPort {
  private current: SpeechSettings = { voiceId: '', modelBaseUrl: undefined, speakingRate: 1 };

  private readonly callbacks: SpeechCallbacks;
  /**
   * The voice's worker. Supervised: a worker that dies or stops answering during a reply is
   * replaced (the voice loaded again, from Cache Storage) and each clause it owed retried
   * once; lost again, `worker-failed` is reported and the reply ends where it was.
   */
  private readonly voice: ModelLifecycle<SpeechSettings, VoicePlan, Comlink.Remote<TtsWorkerApi>>;
  private readonly playback: PlaybackController;
  private replies: Reply[] = [];
  private nextReplyId = 1;
  /** Replies are synthesized and scheduled one after another; this is the tail. */
  private chain: Promise<void> = Promise.resolve();
  private ticker: ReturnType<typeof setInterval> | null = null;
  private speaking = false;
  /** Bumped by stop(): work from before it is dropped. */
  private generation = 0;
  /** `speech-queue-full` was reported and the queue has not emptied since. */
  private queueFullReported = false;

  constructor(host: ReactiveControllerHost, callbacks: SpeechCallbacks) {
    this.callbacks = callbacks;
    this.playback = new PlaybackController(host, {
      onBlocked: (error) => this.callbacks.onError(error),
      onResumed: () => this.callbacks.onOutputResumed?.(),
    });
    this.voice = new ModelLifecycle<SpeechSettings, VoicePlan, Comlink.Remote<TtsWorkerApi>>({
      what: 'speech synthesizer',
      plan: voicePlan,
      fallbackPlan: (failed) => failed,
      // WASM only: no WebGPU probe (it can take seconds) is needed to plan it.
      probe: async () => ({ webgpu: false, shaderF16: false, crossOriginIsolated, cores: navigator.hardwareConcurrency || 1 }),
      // The speaking rate is per clause: only the voice and where it comes from need a new worker.
      identity: (settings) => settings && [settings.voiceId, settings.modelBaseUrl ?? null, settings.localOnly === true],
      spawn: (onCrash) =>
        new WorkerHandle<TtsWorkerApi>(
          () => new Worker(new URL('../../workers/tts.worker.ts', import.meta.url), { type: 'module', name: 'voice-agent-tts' }),
          onCrash,
        ),
      load: (api, plan, _settings, onProgress) => api.loadVoice(plan.assets, plan.source, Comlink.proxy(onProgress)).then(() => {}),
      onProgress: (progress) => this.callbacks.onProgress(progress),
      onError: (error) => {
        this.callbacks.onError(error);
        if (error.code === 'worker-failed') this.interrupt(true);
      },
      supervise: SPEECH_SUPERVISION,
      onRestarted: (cause) => this.callbacks.onRestarted?.(cause),
    });
    host.addController(this);
  }

  /** The voice, where it comes from, and the pace; a new voice or source loads a new worker on the next reply. */
  get settings(): SpeechSettings {
    return this.current;
  }

  set settings(settings: SpeechSettings) {
    this.current = settings;
    this.voice.configure(settings);
  }

  hostDisconnected(): void {
    this.stop();
  }

  /** Downloads and warms the current voice. Failures are reported and rethrown. */
  async preload(): Promise<void> {
    try {
      await this.loadVoice();
    } catch (error) {
      const voiceError = VoiceAgentError.from(error, 'model-load-failed');
      // Let go while loading (stop(), a new voice): the caller stops waiting, nothing failed.
      if (!(voiceError instanceof ModelUnloadedError)) this.callbacks.onError(voiceError);
      throw voiceError;
    }
  }

  /**
   * Speaks `text`; resolves when it has been spoken, interrupted, or has failed (reported).
   * With `hooks`, this reply's `voice-response(-end)` details go there instead.
   */
  say(raw: string, hooks?: ReplyHooks): Promise<void> {
    const givenText = String(raw ?? '').trim();
    if (!givenText) return Promise.resolve();
    const { text, dropped } = admitToSpeechQueue(givenText, this.queuedChars());
    if (dropped > 0) this.reportQueueFull();
    if (!text) {
      (hooks ?? this.callbacks).onResponseEnd({ text: givenText, heardText: '', interrupted: true });
      return Promise.resolve();
    }
    let resolve!: () => void;
    const finished = new Promise<void>((r) => (resolve = r));
    const reply: Reply = {
      hooks,
      id: this.nextReplyId++,
      text,
      givenText,
      saidAt: performance.now(),
      timeline: new SpeechTimeline(text),
      stream: new PlaybackStream(),
      allQueued: false,
      failed: false,
      reportedOffset: 0,
      done: false,
      resolve,
    };
    this.replies.push(reply);
    const generation = this.generation;
    this.chain = this.chain.then(() => (generation === this.generation && !reply.done ? this.speak(reply) : undefined));
    return finished;
  }

  /**
   * Stops speaking now: a short fade, every queued clause dropped, every pending `say()`
   * resolved (`voice-response-end` with `interrupted: true` and what was heard).
   */
  interrupt(failed = false): void {
    const audible = this.playback.audibleFrame();
    const replies = this.replies;
    this.replies = [];
    // Also with nothing queued: a hold made before the answer had any audio ends here too,
    // or the next answer would open held and never be heard.
    this.playback.interrupt();
    if (replies.length === 0) return;
    for (const reply of replies) {
      void this.voice.api?.cancel(reply.id).catch(() => {});
      reply.failed ||= failed;
      this.finish(reply, reply.stream.startFrame === undefined ? 0 : reply.stream.playedFrames(audible), true);
    }
    this.afterFinish();
  }

  /** Audio of a reply is playing or queued (held audio included). */
  get isSpeaking(): boolean {
    return this.speaking;
  }

  /**
   * Pauses the voice where it is (the visitor may be interrupting): everything queued
   * waits, and the heard position stands still. `resume()` plays on; `interrupt()` drops it.
   */
  hold(): void {
    this.playback.hold();
  }

  resume(): void {
    this.playback.resume();
  }

  /**
   * The level of the agent's own voice at the speakers between two wall-clock times
   * (`wallClockMs()`; its loudest 50 ms), for the echo gate. 0 when nothing played.
   */
  outputLevelBetween(fromWallMs: number, toWallMs: number): number {
    const rate = this.playback.sampleRateHz;
    if (!rate || !this.speaking) return 0;
    const now = wallClockMs();
    const audible = this.playback.audibleFrame();
    const frameAt = (wallMs: number) => Math.round(audible - ((now - wallMs) / 1000) * rate);
    return this.playback.outputLevel(frameAt(fromWallMs), frameAt(toWallMs));
  }

  /** Interrupts, then releases the worker (and its voices) and the output context. */
  stop(): void {
    this.generation++;
    this.interrupt();
    this.chain = Promise.resolve();
    this.voice.dispose(); // terminates the worker: its sessions and the phonemizer go with it
    void this.playback.close();
  }

  // ── one reply ───────────────────────────────────────────────────────────────────────

  private async speak(reply: Reply): Promise<void> {
    const generation = this.generation;
    const stale = () => generation !== this.generation || reply.done;
    let outputRateHz: number;
    try {
      [, outputRateHz] = await Promise.all([this.loadVoice(), this.playback.open()]);
    } catch (error) {
      if (stale()) return;
      this.callbacks.onError(VoiceAgentError.from(error, 'model-load-failed'));
      reply.failed = true;
      reply.allQueued = true;
      this.finish(reply, 0, true);
      this.afterFinish();
      return;
    }
    if (stale()) return;
    const clauses = splitClauses(reply.text);
    const { voiceId, speakingRate } = this.settings;
    // All at once: the worker serializes them, so clause k+1 is made while k plays. Each is
    // a supervised call: on a worker lost mid-reply, each clause still owed is retried once
    // on a new one (the clauses already scheduled play on, from the main thread).
    const pending = clauses.map((clause, index) =>
      clause.speech
        ? this.voice
            .call((api) => api.synthesize({ voiceId, replyId: reply.id, first: index === 0, text: clause.speech, speakingRate, outputRateHz }))
            .then((result) => ({ result, readyAt: performance.now() }))
        : Promise.resolve({ result: emptyResult(), readyAt: performance.now() }),
    );
    // Rejections are handled in order below; keep them from being reported as unhandled.
    for (const promise of pending) promise.catch(() => {});
    for (const [index, clause] of clauses.entries()) {
      let outcome: { result: SynthesisResult | null; readyAt: number };
      try {
        outcome = await pending[index]!;
      } catch (error) {
        if (stale()) return;
        // A lost worker was reported by the lifecycle (worker-failed), which ended the reply.
        if (!(error instanceof VoiceAgentError && error.code === 'worker-failed')) {
          this.callbacks.onError(VoiceAgentError.from(error, 'speech-failed'));
        }
        reply.failed = true;
        void this.voice.api?.cancel(reply.id).catch(() => {});
        break;
      }
      if (stale() || !outcome.result) return;
      const delayMs = reply.stream.queuedFrames === 0 ? startDelayMs(clauses, index, outcome.result) : 0;
      this.schedule(reply, clause, outcome.result, outcome.readyAt, outputRateHz, delayMs);
    }
    reply.allQueued = true;
    this.tick();
  }

  private schedule(
    reply: Reply,
    clause: Clause,
    synthesized: SynthesisResult,
    readyAt: number,
    rate: number,
    delayMs: number,
  ): void {
    const result = reply.stream.queuedFrames === 0 ? trimLeadingSilence(synthesized, rate) : synthesized;
    reply.timeline.add({
      start: clause.start,
      end: clause.end,
      frames: result.pcm.length,
      voicedStartFrame: result.voicedStartFrame,
      voicedEndFrame: result.voicedEndFrame,
    });
    const { startsAt, underrunMs } = this.playback.enqueue(reply.stream, result.pcm, delayMs);
    if (result.pcm.length > 0 && !this.speaking) {
      this.speaking = true;
      this.callbacks.onSpeakingChange(true);
    }
    this.startTicker();
    this.callbacks.onChunk?.({
      replyId: reply.id,
      index: clause.index,
      text: clause.text,
      speech: clause.speech,
      frames: result.pcm.length,
      sampleRateHz: rate,
      voicedStartFrame: result.voicedStartFrame,
      voicedEndFrame: result.voicedEndFrame,
      phonemizeMs: result.phonemizeMs,
      inferenceMs: result.inferenceMs,
      audioMs: result.audioMs,
      queuedMs: result.queuedMs,
      saidAt: reply.saidAt,
      readyAt,
      startsAt,
      underrunMs,
      dropped: result.dropped,
      pcm: result.pcm,
    });
  }

  // ── progress ────────────────────────────────────────────────────────────────────────

  private startTicker(): void {
    this.ticker ??= setInterval(() => this.tick(), PROGRESS_INTERVAL_MS);
  }

  /** Advances the head reply's heard text; finishes it once all of it has played. */
  private tick(): void {
    const audible = this.playback.audibleFrame();
    while (this.replies.length > 0) {
      const reply = this.replies[0]!;
      if (reply.stream.startFrame === undefined) {
        if (reply.allQueued) {
          // Nothing audible at all (only code blocks, or failed before any audio).
          this.replies.shift();
          this.finish(reply, 0, reply.failed);
          continue;
        }
        break;
      }
      const played = reply.stream.playedFrames(audible);
      this.report(reply, reply.timeline.heardOffset(played));
      if (!reply.allQueued || audible < reply.stream.endFrame) break;
      this.replies.shift();
      this.finish(reply, played, reply.failed);
    }
    this.afterFinish();
  }

  private report(reply: Reply, offset: number): void {
    if (offset <= reply.reportedOffset) return;
    const delta = reply.text.slice(reply.reportedOffset, offset);
    reply.reportedOffset = offset;
    (reply.hooks ?? this.callbacks).onResponse({ delta, text: reply.text.slice(0, offset) });
  }

  private finish(reply: Reply, playedFrames: number, interrupted: boolean): void {
    if (reply.done) return;
    this.replies = this.replies.filter((other) => other !== reply);
    // Spoken to the end: all of it was heard, including any trailing unspeakable part.
    const offset = interrupted ? reply.timeline.heardOffset(playedFrames) : reply.text.length;
    this.report(reply, offset);
    reply.done = true;
    (reply.hooks ?? this.callbacks).onResponseEnd({
      text: reply.givenText,
      heardText: reply.text.slice(0, reply.reportedOffset),
      // Cut short by the speech queue's cap: not all of it was said.
      interrupted: interrupted || reply.text !== reply.givenText,
    });
    reply.resolve();
  }

  /** Characters of the replies under way not yet heard: the speech queue. */
  private queuedChars(): number {
    let queued = 0;
    for (const reply of this.replies) queued += reply.text.length - reply.reportedOffset;
    return queued;
  }

  /** Once until the queue empties again: not per dropped clause of a runaway reply. */
  private reportQueueFull(): void {
    if (this.queueFullReported) return;
    this.queueFullReported = true;
    this.callbacks.onError(
      new VoiceAgentError(
        'speech-queue-full',
        `The reply is too long to speak in full (more than ${MAX_QUEUED_SPEECH_CHARS} characters waiting); the rest is shown as text only.`,
      ),
    );
  }

  private afterFinish(): void {
    if (this.replies.length > 0) return;
    this.queueFullReported = false;
    if (this.ticker) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
    if (this.speaking) {
      this.speaking = false;
      this.callbacks.onSpeakingChange(false);
    }
  }

  // ── the voice ───────────────────────────────────────────────────────────────────────

  /** Loads the voice (once; a failed load is tried again by the next reply). */
  private async loadVoice(): Promise<void> {
    const { voiceId, localOnly } = this.settings;
    const { assets, source } = voicePlan(this.settings); // throws voice-invalid
    const what = `the voice ${voiceId}`;
    const runtime = "the element's script URL";
    assertLocalOnly(localOnly, [
      { attribute: 'model-base-url', url: source.modelUrl, what },
      { attribute: 'model-base-url', url: source.configUrl, what },
      ...Object.values(assets).map((url) => ({ attribute: runtime, url, what: 'the speech runtime' })),
    ]);
    try {
      await this.voice.load();
    } catch (error) {
      throw VoiceAgentError.from(error, 'model-load-failed');
    }
  }
}

/** What the voice's worker loads for `settings` (throws `voice-invalid` for a malformed voice id). */
function voicePlan({ voiceId, modelBaseUrl, localOnly }: SpeechSettings): VoicePlan {
  const urls = voiceUrls(voiceId, modelBaseUrl);
  return {
    model: voiceId,
    device: 'wasm',
    dtype: 'fp32',
    reason: 'Piper runs on WASM',
    assets: {
      ortWasmUrl: absoluteUrl(ortWasmUrl),
      phonemizerWorkerUrl: absoluteUrl(phonemizerWorkerUrl),
      phonemizerWasmUrl: absoluteUrl(phonemizerWasmUrl),
      phonemizerDataUrl: absoluteUrl(phonemizerDataUrl),
    },
    source: { id: voiceId, ...urls, manifestFolder: modelBaseUrl ? absoluteUrl(modelBaseUrl) : undefined, localOnly: localOnly === true },
  };
}

/** Silence kept before the first sound of a reply, ms (enough not to clip a soft onset). */
const LEADING_SILENCE_KEPT_MS = 40;

/**
 * A reply's first clause starts with the voice's own lead-in silence (~0.1 s for Piper);
 * between clauses that silence is part of the rhythm, but before the first word it is
 * only delay, so most of it is cut.
 */
function trimLeadingSilence(result: SynthesisResult, rate: number): SynthesisResult {
  const cut = Math.max(0, result.voicedStartFrame - Math.round((LEADING_SILENCE_KEPT_MS / 1000) * rate));
  if (cut === 0 || result.pcm.length === 0) return result;
  return {
    ...result,
    pcm: result.pcm.subarray(cut),
    voicedStartFrame: result.voicedStartFrame - cut,
    voicedEndFrame: result.voicedEndFrame - cut,
  };
}

function emptyResult(): SynthesisResult {
  return {
    pcm: new Float32Array(0),
    voicedStartFrame: 0,
    voicedEndFrame: 0,
    dropped: [],
    phonemizeMs: 0,
    inferenceMs: 0,
    audioMs: 0,
    queuedMs: 0,
  };
}

/**
 * The life of one model-backed worker, written once for every port that runs a model:
 * measure the browser (WebGPU adapter, `shader-f16`, memory; bounded in time), plan
 * model/device/dtype with a reason (an injected planner), load with progress, fall back
 * from WebGPU to WASM once (reported as `gpu-fallback`), replace the worker when the
 * settings change, and dispose. A generation counter makes every load, fallback and
 * progress report that outlived a dispose or a reconfigure a no-op.
 *
 * DOM-light: workers come from an injected `spawn` (a {@link WorkerHandle} in the page, a
 * fake in unit tests) and the probe takes its `navigator`.
 *
 * How a new model-backed port (a recognizer, a TTS engine, an end-of-turn model) uses it:
 * 1. Write a pure planner `(settings, measured) => plan` and `(failed, settings, cause) =>
 *    wasm plan`, plans being {@link ModelPlan}s (model, device, dtype, reason).
 * 2. `new ModelLifecycle({ what, plan, fallbackPlan, spawn, load, onProgress, onError })`,
 *    with `spawn` wrapping a `WorkerHandle` and `load` calling the worker's `load(config, proxy(onProgress))`.
 * 3. In the controller: `configure(settings)` → `lifecycle.configure`, `load()` →
 *    `lifecycle.load()`, calls → `lifecycle.call(api => …)` (or `callWithFallback` to retry
 *    a failed WebGPU call on WASM), `dispose()` → `lifecycle.dispose()`.
 */
import { VoiceAgentError, describeCause } from './errors.ts';
import { startHeartbeat } from './heartbeat.ts';
import type { FileProgress } from './protocol.ts';

/** What the browser offers, as measured (not guessed from the user agent). */
export interface MeasuredCapabilities {
  /** `navigator.gpu.requestAdapter()` returned an adapter (in time). */
  readonly webgpu: boolean;
  /** The adapter has the `shader-f16` feature (needed by fp16 weights). */
  readonly shaderF16: boolean;
  /** `crossOriginIsolated`: wasm may use threads. */
  readonly crossOriginIsolated: boolean;
  /** `navigator.hardwareConcurrency`. */
  readonly cores: number;
  /** `navigator.deviceMemory` in GB (rounded, capped by the browser), where the browser says. */
  readonly memoryGb?: number;
}

/** How long {@link measureCapabilities} waits for a WebGPU adapter (`requestAdapter()` can hang). */
export const ADAPTER_TIMEOUT_MS = 3000;

interface GpuLike {
  requestAdapter(): Promise<{ features: ReadonlySet<string> } | null>;
}

/** The parts of `navigator` (and the global scope) the probe reads. */
export interface ProbeEnvironment {
  readonly navigator: { readonly gpu?: GpuLike; readonly hardwareConcurrency?: number; readonly deviceMemory?: number };
  readonly crossOriginIsolated?: boolean;
}

/**
 * What this browser offers, measured: a WebGPU adapter (given `timeoutMs` to appear; a
 * hung request counts as none), its `shader-f16` feature, cores and memory.
 */
export async function measureCapabilities(
  environment: ProbeEnvironment = globalThis as unknown as ProbeEnvironment,
  timeoutMs = ADAPTER_TIMEOUT_MS,
): Promise<MeasuredCapabilities> {
  const { navigator: nav } = environment;
  let webgpu = false;
  let shaderF16 = false;
  if (nav.gpu) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), timeoutMs);
      });
      const adapter = await Promise.race([nav.gpu.requestAdapter(), timeout]);
      webgpu = adapter !== null;
      shaderF16 = adapter?.features.has('shader-f16') ?? false;
    } catch {
      // No adapter: WASM.
    } finally {
      clearTimeout(timer);
    }
  }
  return {
    webgpu,
    shaderF16,
    crossOriginIsolated: environment.crossOriginIsolated === true,
    cores: nav.hardwareConcurrency || 1,
    ...(typeof nav.deviceMemory === 'number' ? { memoryGb: nav.deviceMemory } : {}),
  };
}

/** What a planner decides: which model, where, with which weights, and why. */
export interface ModelPlan {
  readonly model: string;
  readonly device: 'webgpu' | 'wasm';
  readonly dtype: unknown;
  /** Why this plan, in words (reported in capabilities and debug records). */
  readonly reason: string;
}

/** A started worker: its API and a way to end it (a `WorkerHandle`, or a fake). */
export interface ModelWorker<Api> {
  readonly api: Api;
  terminate(): void;
  /** A cheap round trip to the worker (resolves when it answers); used by supervised calls. */
  ping?(): Promise<unknown>;
}

/**
 * How supervised calls watch their worker. A worker can die without an `error` event
 * (killed by the browser, terminated from outside) or hang: either way a call would wait
 * forever. While a call is outstanding the worker is pinged every `heartbeatMs`; one
 * that leaves a ping unanswered for `unansweredMs`, or a call that outlives `deadlineMs`,
 * counts as a lost worker. The heartbeat allows for the worker's event loop being busy
 * inside one model run (WASM inference blocks it), hence the long `unansweredMs`.
 *
 * `deadlineMs` is a floor: a call may also take {@link DEADLINE_LOAD_MULTIPLE} times as
 * long as the worker's load did. The load ends with a warm-up call (for Whisper, a whole
 * 30 s window), so it measures the device: on a software WebGPU adapter a single call
 * takes about 95 s, and a fixed 90 s deadline killed every one of them.
 */
export interface Supervision {
  readonly heartbeatMs: number;
  readonly unansweredMs: number;
  readonly deadlineMs: number;
}

/** Generous: a recognizer call on a slow 2-core machine can take many seconds. */
export const DEFAULT_SUPERVISION: Supervision = { heartbeatMs: 3000, unansweredMs: 20_000, deadlineMs: 90_000 };

/** A call may take this many times the worker's load (download, session, warm-up call). */
export const DEADLINE_LOAD_MULTIPLE = 3;

export interface ModelLifecycleOptions<Settings, Plan extends ModelPlan, Api> {
  /** Names the model in messages: "speech recognizer", "language model". */
  readonly what: string;
  /** Decides the plan from the settings and the measured browser (pure). */
  readonly plan: (settings: Settings, measured: MeasuredCapabilities) => Plan;
  /** The WASM plan to use once WebGPU failed (pure). */
  readonly fallbackPlan: (failed: Plan, settings: Settings, cause: string) => Plan;
  /** Starts a worker; `onCrash` when it dies on its own (not when terminated). */
  readonly spawn: (onCrash: (error: unknown) => void) => ModelWorker<Api>;
  /** Loads `plan` into a freshly spawned worker, reporting byte progress. */
  readonly load: (api: Api, plan: Plan, settings: Settings, onProgress: (progress: FileProgress) => void) => Promise<void>;
  /** Measures the browser (once per lifecycle). Default: {@link measureCapabilities}. */
  readonly probe?: () => Promise<MeasuredCapabilities>;
  /** What identifies a worker's model: a change means a new worker. Default: all the settings. */
  readonly identity?: (settings: Settings | null) => unknown;
  /** The `gpu-fallback` message. Default: "The {what} failed on the GPU (cause); using the CPU instead." */
  readonly gpuFallbackMessage?: (cause: string) => string;
  readonly onProgress: (progress: FileProgress) => void;
  /** `gpu-fallback` notices and `worker-failed` crashes (after which the lifecycle is disposed). */
  readonly onError: (error: VoiceAgentError) => void;
  /** A load (current, not stale) failed for good: once per failed `load()`. */
  readonly onLoadFailed?: (error: VoiceAgentError) => void;
  /**
   * Supervise calls: a worker lost during a call (crash, unanswered heartbeat, deadline)
   * is restarted with the same plan and the call retried once; a second loss ends in
   * `worker-failed` (reported through `onError`, the lifecycle disposed). Requests must
   * then be repeatable (copy transferred buffers inside the request).
   */
  readonly supervise?: Supervision;
  /** A supervised call lost its worker and a new one was loaded to retry it: why. */
  readonly onRestarted?: (cause: string) => void;
  /** A load finished: the plan it ended with, how long it took, and whether it fell back. */
  readonly onReady?: (plan: Plan, detail: { readonly loadMs: number; readonly fellBack: boolean }) => void;
}

/** One worker, and its loss signal: a call on it never waits forever on a worker that crashed or was dropped. */
interface Held<Api> {
  readonly worker: ModelWorker<Api>;
  /** It crashed (an `error` event). */
  dead?: boolean;
  /** How long its load took (ms), once loaded: scales the call deadline. */
  loadMs?: number;
  /** Rejects the calls under way when the worker crashes or is dropped. */
  readonly loss: LossSignal;
}

/**
 * A worker's loss, told to the calls waiting on it. Not a promise that every call races:
 * each `Promise.race` against a promise that stays pending leaves a reaction on it — and,
 * through it, the call's settled result — for as long as the worker lives (the soak's heap
 * snapshots showed one pair per call, ~400 after 12 minutes). Here a call's listener is
 * removed as soon as the call settles.
 */
export class LossSignal {
  private failure: VoiceAgentError | null = null;
  private readonly listeners = new Set<(error: VoiceAgentError) => void>();

  /** Calls waiting on it now. */
  get waiting(): number {
    return this.listeners.size;
  }

  /** The worker is lost: every call waiting rejects with `error`, and every later one at once. */
  lose(error: VoiceAgentError): void {
    if (this.failure) return;
    this.failure = error;
    for (const listener of this.listeners) listener(error);
    this.listeners.clear();
  }

  /** Settles as `work` does, or rejects as soon as the worker is lost, whichever is first. */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.failure) {
      work.catch(() => {});
      return Promise.reject(this.failure);
    }
    return new Promise<T>((resolve, reject) => {
      this.listeners.add(reject);
      void work.then(resolve, reject).finally(() => this.listeners.delete(reject));
    });
  }
}

/**
 * What a load or call rejects with when the worker was let go on purpose (`stop()`, the
 * element removed, new settings) before it finished: `worker-failed` to a caller that must
 * stop waiting, but nothing failed, so nothing is reported to the visitor.
 */
export class ModelUnloadedError extends VoiceAgentError {}

/** A supervised call's worker stopped answering (unanswered heartbeat or deadline passed). */
class WorkerLostError extends VoiceAgentError {}

/** Watches one call's worker (see {@link startHeartbeat}): `loss` is told when it stops answering. */
function watchWorker<Api>(held: Held<Api>, supervision: Supervision, what: string): { loss: LossSignal; stop: () => void } {
  const loss = new LossSignal();
  const ping = held.worker.ping ? () => held.worker.ping!() : undefined;
  const stop = startHeartbeat(ping, supervision, what, (why) => loss.lose(new WorkerLostError('worker-failed', why)));
  return { loss, stop };
}

/** The shared model lifecycle: see the module comment. */
export class ModelLifecycle<Settings, Plan extends ModelPlan, Api> {
  private current: Settings | null = null;
  private measuredCapabilities: MeasuredCapabilities | null = null;
  private currentPlan: Plan | null = null;
  private fallbackCause: string | undefined;
  private held: Held<Api> | null = null;
  private loading: Promise<Plan> | null = null;
  private fallingBack: Promise<void> | null = null;
  private loadFailed = false;
  /** Supervised calls under way (a crash while one is lets the call restart the worker). */
  private outstandingCalls = 0;
  /** A restart in progress, shared by the calls that lost the same worker. */
  private restarting: Promise<void> | null = null;
  /** Bumped by dispose(): work started before it is stale. */
  private generation = 0;

  constructor(private readonly options: ModelLifecycleOptions<Settings, Plan, Api>) {}

  get settings(): Settings | null {
    return this.current;
  }

  /** The measured browser (kept across disposes: the browser does not change). */
  get measured(): MeasuredCapabilities | null {
    return this.measuredCapabilities;
  }

  /** The plan being loaded or in use (the WASM one after a fallback); null before a load and after dispose. */
  get plan(): Plan | null {
    return this.currentPlan;
  }

  /** Why WebGPU was given up, once it was. */
  get fallback(): string | undefined {
    return this.fallbackCause;
  }

  /** The last load failed (cleared by a successful load and by dispose). */
  get failed(): boolean {
    return this.loadFailed;
  }

  /** The current worker's API, loaded or loading; null when there is none. */
  get api(): Api | null {
    return this.held?.worker.api ?? null;
  }

  /** New settings; a changed identity disposes the worker (the next load starts a new one). Returns whether it did. */
  configure(settings: Settings | null): boolean {
    const identity = this.options.identity ?? ((s: Settings | null) => s);
    const changed = JSON.stringify(identity(this.current)) !== JSON.stringify(identity(settings));
    this.current = settings;
    if (changed) this.dispose();
    return changed;
  }

  /**
   * Measures (once), plans and loads (once: concurrent calls share it; a failed load is
   * retried by the next call). Falls back to WASM once if the WebGPU load fails. Resolves
   * with the plan in use; rejects with `model-load-failed` (or, when a dispose overtook
   * it, with the `worker-failed` "unloaded" error and nothing reported).
   */
  load(): Promise<Plan> {
    if (this.current === null) {
      return Promise.reject(new VoiceAgentError('model-load-failed', `No ${this.options.what} is configured.`));
    }
    const loading = (this.loading ??= this.loadOnce(this.current, this.generation));
    loading.catch(() => {
      if (this.loading === loading) this.loading = null;
    });
    return loading;
  }

  /**
   * Calls the worker, rejecting if it crashes or is disposed meanwhile (never left waiting).
   * Supervised (see `supervise`): a lost worker is restarted and the call retried once.
   */
  call<T>(request: (api: Api) => Promise<T>): Promise<T> {
    const held = this.held;
    if (!held) return Promise.reject(new VoiceAgentError('model-load-failed', `The ${this.options.what} is not loaded.`));
    if (!this.options.supervise) return held.loss.race(request(held.worker.api));
    return this.supervisedCall(request, held, this.options.supervise, true);
  }

  /** {@link call}, but a failure on WebGPU replaces the worker with a WASM one (once) and retries there. */
  async callWithFallback<T>(request: (api: Api) => Promise<T>): Promise<T> {
    const generation = this.generation;
    try {
      return await this.call(request);
    } catch (error) {
      if (generation !== this.generation || this.currentPlan?.device !== 'webgpu') throw error;
      this.fallingBack ??= this.fallBack(describeCause(error), generation).finally(() => {
        this.fallingBack = null;
      });
      await this.fallingBack;
      return this.call(request);
    }
  }

  /** Terminates the worker (calls under way reject); stale loads are ignored; the next load() starts afresh. */
  dispose(): void {
    this.generation++;
    this.drop();
    this.loading = null;
    this.fallingBack = null;
    this.loadFailed = false;
    this.currentPlan = null;
    this.fallbackCause = undefined;
  }

  // ── internals ───────────────────────────────────────────────────────────────────────

  private async supervisedCall<T>(request: (api: Api) => Promise<T>, held: Held<Api>, supervision: Supervision, mayRetry: boolean): Promise<T> {
    const generation = this.generation;
    this.outstandingCalls++;
    const deadlineMs = Math.max(supervision.deadlineMs, DEADLINE_LOAD_MULTIPLE * (held.loadMs ?? 0));
    const watch = watchWorker(held, { ...supervision, deadlineMs }, this.options.what);
    try {
      return await held.loss.race(watch.loss.race(request(held.worker.api)));
    } catch (error) {
      // A dispose or reconfigure overtook the call (the generation moved on): nothing was lost.
      if (generation !== this.generation) throw error;
      // Otherwise a dead worker's rejection (its own, or the "unloaded" of a restart replacing it) is a loss.
      const lost = error instanceof WorkerLostError || held.dead;
      if (!lost) throw error;
      const failure = error instanceof WorkerLostError ? error : VoiceAgentError.from(error, 'worker-failed');
      if (!mayRetry) {
        this.giveUp(held, failure);
        throw failure;
      }
      await this.restart(held, failure, generation);
      return this.supervisedCall(request, this.held!, supervision, false);
    } finally {
      watch.stop();
      this.outstandingCalls--;
    }
  }

  /** Replaces a lost worker with a new one loaded with the same plan (calls that lost the same worker share it). */
  private async restart(lost: Held<Api>, cause: VoiceAgentError, generation: number): Promise<void> {
    lost.dead = true; // the other calls on it restart too, rather than fail as "unloaded"
    if (this.held === lost || this.held === null) {
      this.restarting ??= (async () => {
        try {
          await this.loadPlan(this.currentPlan!, this.current!, generation);
          this.options.onRestarted?.(cause.message);
        } catch (error) {
          if (generation === this.generation) this.giveUp(null, cause);
          throw cause;
        } finally {
          this.restarting = null;
        }
      })();
    }
    if (this.restarting) await this.restarting;
    this.checkCurrent(generation);
    if (!this.held) throw cause;
  }

  /** A worker lost twice in one call (or that could not be restarted): report it once and start afresh next time. */
  private giveUp(held: Held<Api> | null, failure: VoiceAgentError): void {
    if (held && this.held !== held) return; // already replaced or disposed
    this.dispose();
    this.options.onError(failure.code === 'worker-failed' ? failure : VoiceAgentError.workerFailed(this.options.what, failure));
  }

  private async loadOnce(settings: Settings, generation: number): Promise<Plan> {
    this.measuredCapabilities ??= await (this.options.probe ?? measureCapabilities)();
    this.checkCurrent(generation);
    const plan = this.options.plan(settings, this.measuredCapabilities);
    this.currentPlan = plan;
    const started = performance.now();
    let fellBack = false;
    try {
      try {
        await this.loadPlan(plan, settings, generation);
      } catch (error) {
        if (generation !== this.generation || plan.device !== 'webgpu') throw error;
        fellBack = true;
        await this.fallBack(describeCause(error), generation);
      }
    } catch (error) {
      if (generation !== this.generation) throw this.unloaded();
      this.drop();
      this.loadFailed = true;
      const failure = VoiceAgentError.from(error, 'model-load-failed');
      this.options.onLoadFailed?.(failure);
      throw failure;
    }
    this.loadFailed = false;
    const ready = this.currentPlan;
    this.options.onReady?.(ready, { loadMs: performance.now() - started, fellBack });
    return ready;
  }

  /** Reports `gpu-fallback` and loads the WASM plan in a new worker. */
  private async fallBack(cause: string, generation: number): Promise<void> {
    const settings = this.current!;
    const failed = this.currentPlan!;
    this.currentPlan = this.options.fallbackPlan(failed, settings, cause);
    this.fallbackCause = cause;
    const message =
      this.options.gpuFallbackMessage?.(cause) ?? `The ${this.options.what} failed on the GPU (${cause}); using the CPU instead.`;
    this.options.onError(new VoiceAgentError('gpu-fallback', message));
    try {
      await this.loadPlan(this.currentPlan, settings, generation);
    } catch (error) {
      if (generation === this.generation) {
        this.drop(); // a WASM worker that failed to load is no use to the calls after this one
        this.loadFailed = true;
        this.loading = null;
      }
      throw error;
    }
  }

  /** Replaces the worker with a new one and loads `plan` into it. */
  private async loadPlan(plan: Plan, settings: Settings, generation: number): Promise<void> {
    this.drop();
    const loss = new LossSignal();
    const worker = this.options.spawn((error) => {
      const failure = VoiceAgentError.workerFailed(this.options.what, error);
      held.dead = true;
      loss.lose(failure);
      if (this.held?.worker !== worker) return;
      if (this.options.supervise && this.outstandingCalls > 0) return; // the call restarts it
      this.dispose();
      this.options.onError(failure);
    });
    const held: Held<Api> = { worker, loss };
    this.held = held;
    const onProgress = (progress: FileProgress) => {
      if (generation === this.generation) this.options.onProgress(progress);
    };
    const started = performance.now();
    try {
      await loss.race(this.options.load(worker.api, plan, settings, onProgress));
      held.loadMs = performance.now() - started;
    } catch (error) {
      if (this.held === held) this.drop();
      this.checkCurrent(generation);
      throw error;
    }
    this.checkCurrent(generation);
  }

  private checkCurrent(generation: number): void {
    if (generation !== this.generation) throw this.unloaded();
  }

  private unloaded(): VoiceAgentError {
    return new ModelUnloadedError('worker-failed', `The ${this.options.what} was unloaded.`);
  }

  private drop(): void {
    const held = this.held;
    this.held = null;
    held?.loss.lose(this.unloaded());
    held?.worker.terminate();
  }
}

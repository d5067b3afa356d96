import * as Comlink from 'comlink';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { MeasuredCapabilities } from '../hearing/asr-plan.ts';
import { VoiceAgentError, describeCause } from '../platform/errors.ts';
import {
  DEFAULT_MAX_NEW_TOKENS,
  planLocalLlm,
  wasmFallbackLlmPlan,
  type LlmPlan,
  type LlmPreferences,
} from './llm-plan.ts';
import { LocalLlmResponder, type LocalLlmBackend, type TextArrival } from './local-llm-responder.ts';
import type { FileProgress, LlmGenerateResult, LlmWorkerApi } from '../platform/protocol.ts';
import type { Responder } from './responder.ts';
import type { VoiceDebugDetail } from '../events/debug.ts';
import { measureCapabilities } from '../hearing/asr-controller.ts';
import { modelRuntime } from '../platform/model-runtime.ts';
import { WorkerHandle } from '../platform/worker-handle.ts';

export interface LocalLlmSettings extends LlmPreferences {
  readonly maxNewTokens: number;
  readonly modelBaseUrl?: string;
}

export interface LocalLlmCallbacks {
  onProgress(progress: FileProgress): void;
  /** Failures outside a turn: a GPU → CPU fallback, a crashed worker. */
  onError(error: VoiceAgentError): void;
  /** Diagnostics (the element forwards them as `voice-debug` when `debug` is set). */
  onDebug(detail: VoiceDebugDetail): void;
}

/** One worker and the promise that rejects if it crashes or is terminated (so no call waits forever). */
interface Session {
  readonly worker: WorkerHandle<LlmWorkerApi>;
  readonly lost: Promise<never>;
  readonly lose: (error: VoiceAgentError) => void;
}

/**
 * Owns the local LLM worker (`local-llm`): plans device and dtype from the measured
 * browser (`planLocalLlm`), loads the model with progress (falling back from WebGPU to
 * WASM once if the GPU load fails), and serves turns through {@link responder}. The worker
 * lives until the element is disconnected or the settings change; a failed load is
 * retried by the next turn.
 */
export class LocalLlmController implements ReactiveController {
  /** The responder for the conversation loop (stable; uses the current settings). */
  readonly responder: Responder;
  private readonly callbacks: LocalLlmCallbacks;
  private settings: LocalLlmSettings | null = null;
  private session: Session | null = null;
  private loading: Promise<void> | null = null;
  private measured: MeasuredCapabilities | null = null;

  constructor(host: ReactiveControllerHost, callbacks: LocalLlmCallbacks) {
    this.callbacks = callbacks;
    host.addController(this);
    const backend: LocalLlmBackend = {
      load: () => this.load(),
      generate: (request, onText) => {
        const session = this.session;
        if (!session) return Promise.reject(new VoiceAgentError('model-load-failed', 'The language model is not loaded.'));
        return Promise.race([session.worker.api.generate(request, Comlink.proxy(onText)), session.lost]);
      },
      stop: async (id) => {
        await this.session?.worker.api.stop(id);
      },
    };
    this.responder = new LocalLlmResponder(backend, {
      maxNewTokens: () => this.settings?.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS,
      onGeneration: (turnId, result, arrival) => this.report(turnId, result, arrival),
    });
  }

  hostDisconnected(): void {
    this.dispose();
  }

  /** True when `local-llm` names a model. */
  get enabled(): boolean {
    return !!this.settings?.model;
  }

  /** New settings: a changed model, device or dtype means a new worker (loaded on next use). */
  configure(settings: LocalLlmSettings | null): void {
    const before = this.settings;
    this.settings = settings;
    const { maxNewTokens: _a, ...was } = before ?? { maxNewTokens: 0 };
    const { maxNewTokens: _b, ...now } = settings ?? { maxNewTokens: 0 };
    if (JSON.stringify(was) !== JSON.stringify(now)) this.dispose();
  }

  /** Loads the model (once; a failed load is retried by the next call). Rejects with `model-load-failed`. */
  load(): Promise<void> {
    if (!this.settings?.model) {
      return Promise.reject(new VoiceAgentError('model-load-failed', 'No local language model is set (local-llm).'));
    }
    this.loading ??= this.loadOnce(this.settings).catch((error: unknown) => {
      this.loading = null;
      throw VoiceAgentError.from(error, 'model-load-failed');
    });
    return this.loading;
  }

  /** Terminates the worker (generations under way reject); the next load() starts afresh. */
  dispose(): void {
    this.loading = null;
    this.dropSession();
  }

  private dropSession(): void {
    const session = this.session;
    this.session = null;
    session?.lose(new VoiceAgentError('worker-failed', 'The language model was unloaded.'));
    session?.worker.terminate();
  }

  private async loadOnce(settings: LocalLlmSettings): Promise<void> {
    this.measured ??= await measureCapabilities();
    let plan = planLocalLlm(settings, this.measured);
    const started = performance.now();
    try {
      await this.loadPlan(settings, plan);
    } catch (error) {
      if (plan.device !== 'webgpu' || this.settings !== settings) throw error;
      const cause = describeCause(error);
      plan = wasmFallbackLlmPlan(plan, settings, cause);
      this.callbacks.onError(
        new VoiceAgentError('gpu-fallback', `The language model failed on the GPU (${cause}); using the CPU instead.`),
      );
      await this.loadPlan(settings, plan);
    }
    this.callbacks.onDebug({
      kind: 'llm-ready',
      model: plan.model,
      device: plan.device,
      dtype: plan.dtype,
      reason: plan.reason,
      loadMs: performance.now() - started,
    });
  }

  private async loadPlan(settings: LocalLlmSettings, plan: LlmPlan): Promise<void> {
    this.dropSession();
    let lose: (error: VoiceAgentError) => void = () => {};
    const lost = new Promise<never>((_, reject) => {
      lose = reject;
    });
    lost.catch(() => {});
    const worker = new WorkerHandle<LlmWorkerApi>(
      () => new Worker(new URL('../../workers/llm.worker.ts', import.meta.url), { type: 'module', name: 'voice-agent-llm' }),
      (error) => {
        const failure = VoiceAgentError.workerFailed('language model', error);
        lose(failure);
        if (this.session?.worker === worker) this.dispose();
        this.callbacks.onError(failure);
      },
    );
    const session: Session = { worker, lost, lose };
    this.session = session;
    try {
      await Promise.race([
        worker.api.load(
          { model: plan.model, device: plan.device, dtype: plan.dtype, ...modelRuntime(settings.modelBaseUrl, 4) },
          Comlink.proxy((progress: FileProgress) => this.callbacks.onProgress(progress)),
        ),
        lost,
      ]);
    } catch (error) {
      if (this.session === session) this.dropSession();
      throw error;
    }
  }

  private report(turnId: number, result: LlmGenerateResult, arrival: TextArrival): void {
    const maxNewTokens = this.settings?.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
    this.callbacks.onDebug({ kind: 'llm-generation', turnId, maxNewTokens, ...arrival, ...result });
  }
}

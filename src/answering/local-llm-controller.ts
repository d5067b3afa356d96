import * as Comlink from 'comlink';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { VoiceAgentError } from '../platform/errors.ts';
import { DEFAULT_MAX_NEW_TOKENS, planLocalLlm, wasmFallbackLlmPlan, type LlmPlan, type LlmPreferences } from './llm-plan.ts';
import { LocalLlmResponder, type LocalLlmBackend, type TextArrival } from './local-llm-responder.ts';
import type { FileProgress, LlmGenerateResult, LlmWorkerApi } from '../platform/protocol.ts';
import type { Responder } from './responder.ts';
import type { VoiceDebugDetail } from '../events/debug.ts';
import { ModelLifecycle, type Supervision } from '../platform/model-lifecycle.ts';
import { loadTransformersPlan } from '../platform/model-runtime.ts';
import { WorkerHandle } from '../platform/worker-handle.ts';

export interface LocalLlmSettings extends LlmPreferences {
  readonly maxNewTokens: number;
  readonly modelBaseUrl?: string;
  /** `local-only`: no file from outside the page's origin. */
  readonly localOnly?: boolean;
}

export interface LocalLlmCallbacks {
  onProgress(progress: FileProgress): void;
  /** Failures outside a turn: a GPU → CPU fallback, a crashed worker. */
  onError(error: VoiceAgentError): void;
  /** Diagnostics (the element forwards them as `voice-debug` when `debug` is set). */
  onDebug(detail: VoiceDebugDetail): void;
}

/**
 * How a generation's worker is watched. The worker answers pings between tokens (it yields
 * to its message queue after each), so a ping left unanswered for 20 s means it died or
 * hangs. The deadline is only a backstop (the token limit ends every generation): a long
 * reply on a slow CPU takes minutes.
 */
export const LLM_SUPERVISION: Supervision = { heartbeatMs: 3000, unansweredMs: 20_000, deadlineMs: 300_000 };

/**
 * Owns the local LLM worker (`local-llm`): plans device and dtype from the measured
 * browser (`planLocalLlm`), loads the model with progress (falling back from WebGPU to
 * WASM once if the GPU load fails), and serves turns through {@link responder}. The worker
 * lives until the element is disconnected or the settings change; a failed load is
 * retried by the next turn.
 *
 * A worker lost during a generation (crashed, terminated, hung) is replaced and the
 * generation run again once ({@link LLM_SUPERVISION}); lost again: `worker-failed`.
 * Decoding is greedy, so the rerun repeats the words already passed on: those are
 * skipped, and the reply goes on from where it was cut ({@link skipRepeatedText}).
 */
export class LocalLlmController implements ReactiveController {
  /** The responder for the conversation loop (stable; uses the current settings). */
  readonly responder: Responder;
  private readonly callbacks: LocalLlmCallbacks;
  /** Measure, plan, load, fall back to WASM once, dispose: the worker's life. */
  private readonly model: ModelLifecycle<LocalLlmSettings, LlmPlan, Comlink.Remote<LlmWorkerApi>>;

  constructor(host: ReactiveControllerHost, callbacks: LocalLlmCallbacks) {
    this.callbacks = callbacks;
    host.addController(this);
    this.model = new ModelLifecycle<LocalLlmSettings, LlmPlan, Comlink.Remote<LlmWorkerApi>>({
      what: 'language model',
      plan: planLocalLlm,
      fallbackPlan: wasmFallbackLlmPlan,
      // maxNewTokens applies per turn: changing it keeps the worker.
      identity: (settings) => {
        const { maxNewTokens: _, ...identity } = settings ?? { maxNewTokens: 0 };
        return identity;
      },
      spawn: (onCrash) =>
        new WorkerHandle<LlmWorkerApi>(
          () => new Worker(new URL('../../workers/llm.worker.ts', import.meta.url), { type: 'module', name: 'voice-agent-llm' }),
          onCrash,
        ),
      load: (api, plan, settings, onProgress) => loadTransformersPlan(api, plan, settings.modelBaseUrl, 4, onProgress, settings.localOnly),
      onProgress: (progress) => this.callbacks.onProgress(progress),
      onError: (error) => this.callbacks.onError(error),
      supervise: LLM_SUPERVISION,
      onRestarted: (cause) => this.callbacks.onDebug({ kind: 'worker-restarted', what: 'language model', cause }),
      onReady: (plan, { loadMs }) =>
        this.callbacks.onDebug({ kind: 'llm-ready', model: plan.model, device: plan.device, dtype: plan.dtype, reason: plan.reason, loadMs }),
    });
    const backend: LocalLlmBackend = {
      load: () => this.load(),
      generate: (request, onText) => {
        // Shared by the attempts: on the first nothing was said yet, so every piece is new.
        const delivered = { text: '' };
        return this.model.call(async (api) => {
          const onAttemptText = skipRepeatedText(delivered, onText);
          const result = await api.generate(request, Comlink.proxy(onAttemptText));
          if (onAttemptText.diverged) {
            throw new VoiceAgentError(
              'worker-failed',
              'The language model stopped mid-reply and its restarted worker said something else; the reply ends where it was cut.',
            );
          }
          return result;
        });
      },
      stop: async (id) => {
        await this.model.api?.stop(id);
      },
    };
    this.responder = new LocalLlmResponder(backend, {
      maxNewTokens: () => this.model.settings?.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS,
      onGeneration: (turnId, result, arrival) => this.report(turnId, result, arrival),
    });
  }

  hostDisconnected(): void {
    this.dispose();
  }

  /** True when `local-llm` names a model. */
  get enabled(): boolean {
    return !!this.model.settings?.model;
  }

  /** New settings: a changed model, device or dtype means a new worker (loaded on next use). */
  configure(settings: LocalLlmSettings | null): void {
    this.model.configure(settings);
  }

  /** Loads the model (once; a failed load is retried by the next call). Rejects with `model-load-failed`. */
  async load(): Promise<void> {
    if (!this.enabled) throw new VoiceAgentError('model-load-failed', 'No local language model is set (local-llm).');
    await this.model.load();
  }

  /** Terminates the worker (generations under way reject); the next load() starts afresh. */
  dispose(): void {
    this.model.dispose();
  }

  private report(turnId: number, result: LlmGenerateResult, arrival: TextArrival): void {
    const maxNewTokens = this.model.settings?.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
    this.callbacks.onDebug({ kind: 'llm-generation', turnId, maxNewTokens, ...arrival, ...result });
  }
}

/** A generation's text callback that also tells whether a rerun strayed from the words already passed on. */
type AttemptTextCallback = ((text: string) => void) & { diverged?: boolean };

/**
 * One attempt at a generation. After a lost worker, greedy decoding repeats the text
 * already passed on (`delivered`), which is skipped; what comes after it is passed on. A rerun that says something else (it
 * should not: same weights, same plan) is marked `diverged` and passes nothing more on.
 */
export function skipRepeatedText(delivered: { text: string }, onText: (text: string) => void): AttemptTextCallback {
  let replayed = '';
  const callback: AttemptTextCallback = (text) => {
    if (callback.diverged) return;
    replayed += text;
    const said = delivered.text;
    if (replayed.length <= said.length) {
      if (!said.startsWith(replayed)) callback.diverged = true;
      return;
    }
    if (!replayed.startsWith(said)) {
      callback.diverged = true;
      return;
    }
    const fresh = replayed.slice(said.length);
    delivered.text = replayed;
    onText(fresh);
  };
  return callback;
}

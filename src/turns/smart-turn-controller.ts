import * as Comlink from 'comlink';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import type { VoiceAgentError } from '../platform/errors.ts';
import { assertLocalOnly } from '../platform/local-only.ts';
import type { FileProgress } from '../platform/protocol.ts';
import { ModelLifecycle, type ModelPlan } from '../platform/model-lifecycle.ts';
import { WorkerHandle, absoluteUrl } from '../platform/worker-handle.ts';
import type { EndOfTurnVerdict } from './semantic-end-of-turn.ts';
import { smartTurnModelUrl, type SmartTurnWorkerApi } from './smart-turn-protocol.ts';

/**
 * wasm threads for Smart Turn by default. Measured with bench/smart-turn-verdicts.ts on a
 * shared 2-core machine (page cross-origin isolated): model p50 290 ms with 1 thread,
 * 617 ms with 2 (they compete with Silero, the page and everything else on the machine).
 */
export const SMART_TURN_THREADS = 1;

export interface SmartTurnControllerCallbacks {
  onProgress(progress: FileProgress): void;
  /** The worker died; turn detection goes on with silence alone. */
  onCrash(error: VoiceAgentError): void;
}

/** Smart Turn's one plan: WASM (the model is small; a GPU would not pay for its start-up here). */
interface SmartTurnPlan extends ModelPlan {
  readonly modelUrl: string;
  readonly manifestFolder: string | undefined;
  readonly localOnly: boolean;
}

/** Where the model comes from: `model-base-url` (undefined: the hub), and whether `local-only` holds. */
interface SmartTurnSource {
  readonly modelBaseUrl: string | undefined;
  readonly localOnly: boolean;
}

/**
 * Owns the Smart Turn worker (Smart Turn v3.2, the semantic end-of-turn model) through the
 * shared {@link ModelLifecycle}: load with progress, a `model-load-failed` naming the file,
 * a new worker when `model-base-url` changes, dispose. Not a Lit controller of its own:
 * the VadController that uses it loads, connects and disposes it.
 *
 * @example
 * const smartTurn = new SmartTurnController({ onProgress, onCrash });
 * await smartTurn.load(modelBaseUrl);          // model-load-failed names the file
 * const port = smartTurn.connect();            // hand to the VAD worker
 */
export class SmartTurnController {
  private readonly model: ModelLifecycle<SmartTurnSource, SmartTurnPlan, Comlink.Remote<SmartTurnWorkerApi>>;
  /** The worker that finished loading (a crash or dispose replaces it). */
  private loadedApi: Comlink.Remote<SmartTurnWorkerApi> | null = null;

  constructor(callbacks: SmartTurnControllerCallbacks, threads = SMART_TURN_THREADS) {
    // More than one wasm thread only when the page is cross-origin isolated.
    const usableThreads = crossOriginIsolated ? Math.max(1, Math.min(threads, navigator.hardwareConcurrency || 1)) : 1;
    const plan = ({ modelBaseUrl, localOnly }: SmartTurnSource): SmartTurnPlan => ({
      model: 'pipecat-ai/smart-turn-v3',
      modelUrl: absoluteUrl(smartTurnModelUrl(modelBaseUrl)),
      manifestFolder: modelBaseUrl ? absoluteUrl(modelBaseUrl) : undefined,
      localOnly,
      device: 'wasm',
      dtype: 'fp32',
      reason: 'Smart Turn runs on WASM',
    });
    this.model = new ModelLifecycle({
      what: 'end-of-turn model (Smart Turn)',
      plan,
      fallbackPlan: (failed) => failed,
      // WASM only: no WebGPU probe (it can take seconds) is needed to plan it.
      probe: async () => ({ webgpu: false, shaderF16: false, crossOriginIsolated, cores: navigator.hardwareConcurrency || 1 }),
      spawn: (onCrash) =>
        new WorkerHandle<SmartTurnWorkerApi>(
          () => new Worker(new URL('../../workers/smart-turn.worker.ts', import.meta.url), { type: 'module', name: 'voice-agent-smart-turn' }),
          onCrash,
        ),
      load: (api, { modelUrl, manifestFolder, localOnly }, _settings, onProgress) =>
        api.load({ modelUrl, manifestFolder, localOnly, ortWasmUrl: absoluteUrl(ortWasmUrl), threads: usableThreads }, Comlink.proxy(onProgress)),
      onProgress: (progress) => callbacks.onProgress(progress),
      onError: (error) => {
        if (error.code === 'worker-failed') callbacks.onCrash(error);
      },
    });
  }

  /** Whether the model is loaded and its worker alive. */
  get ready(): boolean {
    return this.loadedApi !== null && this.model.api === this.loadedApi;
  }

  /** Downloads and warms Smart Turn from `model-base-url` (or the hub); once per URL. `localOnly`: an off-origin URL throws `local-only-violation` first. */
  async load(modelBaseUrl: string | undefined, localOnly = false): Promise<void> {
    assertLocalOnly(localOnly, [
      { attribute: 'model-base-url', url: smartTurnModelUrl(modelBaseUrl), what: 'the end-of-turn model (Smart Turn)' },
      { attribute: "the element's script URL", url: absoluteUrl(ortWasmUrl), what: 'the onnxruntime runtime' },
    ]);
    this.model.configure({ modelBaseUrl, localOnly });
    await this.model.load();
    this.loadedApi = this.model.api;
  }

  /** A new port on which the worker answers SmartTurnPortApi (transfer it to the VAD worker). */
  async connect(): Promise<MessagePort> {
    const channel = new MessageChannel();
    await this.model.call((api) => api.connect(Comlink.transfer(channel.port1, [channel.port1])));
    return channel.port2;
  }

  /** One verdict, through the main thread (diagnostics and benchmarks; turns use the port). */
  judge(audio: Float32Array): Promise<EndOfTurnVerdict> {
    return this.model.call((api) => api.judge(Comlink.transfer(audio, [audio.buffer])));
  }

  dispose(): void {
    this.loadedApi = null;
    this.model.dispose();
  }
}

import * as Comlink from 'comlink';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { VoiceAgentError } from '../platform/errors.ts';
import type { FileProgress } from '../platform/protocol.ts';
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

/**
 * Owns the Smart Turn worker (Smart Turn v3.2, the semantic end-of-turn model). Not a Lit
 * controller of its own: the VadController that uses it loads, connects and disposes it.
 *
 * @example
 * const smartTurn = new SmartTurnController({ onProgress, onCrash });
 * await smartTurn.load(modelBaseUrl);          // model-load-failed names the file
 * const port = smartTurn.connect();            // hand to the VAD worker
 */
export class SmartTurnController {
  private readonly worker: WorkerHandle<SmartTurnWorkerApi>;
  private readonly callbacks: SmartTurnControllerCallbacks;
  private loadedFrom: string | null = null;
  private loading: Promise<void> | null = null;

  /** wasm threads for the model (more than 1 only when the page is cross-origin isolated). */
  private readonly threads: number;

  constructor(callbacks: SmartTurnControllerCallbacks, threads = SMART_TURN_THREADS) {
    this.callbacks = callbacks;
    this.threads = crossOriginIsolated ? Math.max(1, Math.min(threads, navigator.hardwareConcurrency || 1)) : 1;
    this.worker = new WorkerHandle<SmartTurnWorkerApi>(
      () =>
        new Worker(new URL('../../workers/smart-turn.worker.ts', import.meta.url), {
          type: 'module',
          name: 'voice-agent-smart-turn',
        }),
      (error) => {
        this.loadedFrom = null;
        this.loading = null;
        callbacks.onCrash(VoiceAgentError.workerFailed('end-of-turn model (Smart Turn)', error));
      },
    );
  }

  /** Whether the model is loaded and its worker alive. */
  get ready(): boolean {
    return this.loadedFrom !== null && this.worker.running;
  }

  /** Downloads and warms Smart Turn from `model-base-url` (or the hub); once per URL. */
  load(modelBaseUrl: string | undefined): Promise<void> {
    const modelUrl = absoluteUrl(smartTurnModelUrl(modelBaseUrl));
    if (this.loadedFrom === modelUrl && this.worker.running) return Promise.resolve();
    if (this.loadedFrom !== null && this.loadedFrom !== modelUrl) this.dispose();
    this.loading ??= (async () => {
      try {
        await this.worker.api.load(
          {
            modelUrl,
            ortWasmUrl: absoluteUrl(ortWasmUrl),
            threads: this.threads,
          },
          Comlink.proxy((progress: FileProgress) => this.callbacks.onProgress(progress)),
        );
        this.loadedFrom = modelUrl;
      } catch (error) {
        this.worker.terminate();
        throw VoiceAgentError.from(error, 'model-load-failed');
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  /** A new port on which the worker answers SmartTurnPortApi (transfer it to the VAD worker). */
  async connect(): Promise<MessagePort> {
    const channel = new MessageChannel();
    await this.worker.api.connect(Comlink.transfer(channel.port1, [channel.port1]));
    return channel.port2;
  }

  /** One verdict, through the main thread (diagnostics and benchmarks; turns use the port). */
  judge(audio: Float32Array): Promise<EndOfTurnVerdict> {
    return this.worker.api.judge(Comlink.transfer(audio, [audio.buffer]));
  }

  dispose(): void {
    this.loadedFrom = null;
    this.loading = null;
    this.worker.terminate();
  }
}

import * as Comlink from 'comlink';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import sileroModelUrl from '@ricky0123/vad-web/dist/silero_vad_v5.onnx?url';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { VoiceAgentError } from '../platform/errors.ts';
import { startHeartbeat } from '../platform/heartbeat.ts';
import { assertLocalOnly } from '../platform/local-only.ts';
import type { EndOfTurnMode, TurnDetectionOptions } from '../platform/options.ts';
import type { FileProgress, VadEvent, VadWorkerApi } from '../platform/protocol.ts';
import { WorkerHandle, absoluteUrl } from '../platform/worker-handle.ts';
import type { TurnDetectorPort } from '../session/ports.ts';
import { SmartTurnController } from './smart-turn-controller.ts';

/**
 * How the detector's worker is watched while it segments frames. Its event loop is never
 * busy for long (one Silero frame takes about a millisecond), so a ping left unanswered
 * this long means the worker died without an `error` event (terminated, out of memory) or
 * hangs: frames are no longer heard.
 */
export const VAD_HEARTBEAT_MS = 2000;
export const VAD_UNANSWERED_MS = 8000;

export interface VadControllerCallbacks {
  onEvent(event: VadEvent): void;
  onProgress(progress: FileProgress): void;
  onCrash(error: VoiceAgentError): void;
  /**
   * A recoverable failure that leaves turn detection working: the end-of-turn model
   * (Smart Turn) could not be loaded or stopped, so turns end on silence alone.
   */
  onError?(error: VoiceAgentError): void;
}

/**
 * Owns the VAD worker (Silero v5 + the speech segmenter). The model file and the
 * onnxruntime wasm ship inside npm packages; Vite copies them next to our build, so
 * they are always fetched from our own origin, never from a CDN.
 *
 * @example
 * const vad = new VadController(host, { onEvent, onProgress, onCrash });
 * await vad.load();
 * await vad.start(framePortFromMic, options);   // events arrive at onEvent
 */
export class VadController implements ReactiveController, TurnDetectorPort {
  private readonly callbacks: VadControllerCallbacks;
  private readonly worker: WorkerHandle<VadWorkerApi>;
  /** The semantic end-of-turn model, loaded when `end-of-turn="smart-turn"`. */
  private readonly smartTurn: SmartTurnController;
  private endOfTurn: { mode: EndOfTurnMode; modelBaseUrl: string | undefined; localOnly: boolean } = {
    mode: 'silence',
    modelBaseUrl: undefined,
    localOnly: false,
  };
  /** The `model-base-url` Smart Turn last failed to load from (not retried until dispose()). */
  private smartTurnFailedFrom: string | null = null;
  /** Stops the heartbeat that runs while frames are segmented (see {@link VAD_UNANSWERED_MS}). */
  private stopWatching: () => void = () => {};

  constructor(host: ReactiveControllerHost, callbacks: VadControllerCallbacks) {
    this.callbacks = callbacks;
    this.smartTurn = new SmartTurnController({
      onProgress: (progress) => callbacks.onProgress(progress),
      onCrash: (error) => callbacks.onError?.(error),
    });
    this.worker = new WorkerHandle<VadWorkerApi>(
      () => new Worker(new URL('../../workers/vad.worker.ts', import.meta.url), { type: 'module', name: 'voice-agent-vad' }),
      (error) => {
        this.stopWatching();
        callbacks.onCrash(VoiceAgentError.workerFailed('voice activity detector', error));
      },
    );
    host.addController(this);
  }

  hostDisconnected(): void {
    this.dispose();
  }

  /**
   * Which end-of-turn policy the next load()/start() prepares (`end-of-turn`), and where
   * Smart Turn's file is (`model-base-url`). A running session keeps its model until the
   * next start(). `localOnly`: every file only from the page's origin.
   */
  setEndOfTurn(mode: EndOfTurnMode, modelBaseUrl: string | undefined, localOnly = false): void {
    this.endOfTurn = { mode, modelBaseUrl, localOnly };
  }

  /**
   * Downloads and warms Silero (once per worker), and Smart Turn alongside when the
   * end-of-turn policy is `smart-turn`. Smart Turn failing to load does not fail this:
   * it is reported through `onError` (model-load-failed, naming the file) and turns end
   * on silence alone.
   */
  async load(): Promise<void> {
    const smartTurn = this.endOfTurn.mode === 'smart-turn' ? this.loadSmartTurn() : Promise.resolve();
    try {
      // Silero and its runtime ship next to the element's script: off-origin only when that is.
      assertLocalOnly(this.endOfTurn.localOnly, [
        { attribute: "the element's script URL", url: absoluteUrl(sileroModelUrl), what: 'the voice activity detector' },
        { attribute: "the element's script URL", url: absoluteUrl(ortWasmUrl), what: 'the onnxruntime runtime' },
      ]);
      await this.worker.api.load(
        { modelUrl: absoluteUrl(sileroModelUrl), ortWasmUrl: absoluteUrl(ortWasmUrl) },
        Comlink.proxy((progress: FileProgress) => this.callbacks.onProgress(progress)),
      );
    } catch (error) {
      throw VoiceAgentError.from(error, 'model-load-failed');
    } finally {
      await smartTurn;
    }
  }

  private async loadSmartTurn(): Promise<void> {
    const from = `${this.endOfTurn.modelBaseUrl ?? ''} ${this.endOfTurn.localOnly}`;
    // Reported once: preload() then start() does not say it twice. dispose() (stop) clears it.
    if (this.smartTurnFailedFrom === from) return;
    try {
      await this.smartTurn.load(this.endOfTurn.modelBaseUrl, this.endOfTurn.localOnly);
    } catch (error) {
      this.smartTurnFailedFrom = from;
      const cause = VoiceAgentError.from(error, 'model-load-failed');
      if (cause.code === 'local-only-violation') {
        this.callbacks.onError?.(new VoiceAgentError(cause.code, `${cause.message} Turns will end on silence alone.`, { cause: error }));
        return;
      }
      this.callbacks.onError?.(
        new VoiceAgentError('model-load-failed', `${cause.message} (turns will end on silence alone)`, { cause: error }),
      );
    }
  }

  /** Segments the frames arriving on `frames`; `reportFrames` adds per-frame debug records. */
  async start(frames: MessagePort, options: TurnDetectionOptions, reportFrames = false): Promise<void> {
    const endOfTurn = options.endOfTurn === 'smart-turn' && this.smartTurn.ready ? await this.smartTurn.connect() : undefined;
    // Watched from the start call on: a worker lost during it would otherwise leave start() waiting for ever.
    this.watch();
    try {
      await this.worker.api.start(
        Comlink.transfer(frames, [frames]),
        options,
        Comlink.proxy((event: VadEvent) => this.callbacks.onEvent(event)),
        reportFrames,
        endOfTurn ? Comlink.transfer(endOfTurn, [endOfTurn]) : undefined,
      );
    } catch (error) {
      this.stopWatching();
      throw error;
    }
  }

  /** Pings the worker every VAD_HEARTBEAT_MS; one silent for VAD_UNANSWERED_MS is terminated and reported lost. */
  private watch(): void {
    this.stopWatching();
    this.stopWatching = startHeartbeat(
      () => this.worker.ping(),
      { heartbeatMs: VAD_HEARTBEAT_MS, unansweredMs: VAD_UNANSWERED_MS },
      'voice activity detector',
      (why) => {
        this.stopWatching = () => {};
        this.worker.terminate();
        this.callbacks.onCrash(new VoiceAgentError('worker-failed', why));
      },
    );
  }

  async configure(options: TurnDetectionOptions): Promise<void> {
    if (this.worker.running) await this.worker.api.configure(options);
  }

  async beginManualTurn(): Promise<void> {
    if (this.worker.running) await this.worker.api.beginManualTurn();
  }

  async endManualTurn(): Promise<void> {
    if (this.worker.running) await this.worker.api.endManualTurn();
  }

  /** Forgets the open turn (the agent's own echo); see VadWorkerApi.dropTurn. */
  async dropTurn(onsetMs?: number): Promise<void> {
    if (this.worker.running) await this.worker.api.dropTurn(onsetMs);
  }

  /** Cuts the agent's echo off the start of the open turn; see VadWorkerApi.trimTurn. */
  async trimTurn(onsetMs: number, keepMs: number): Promise<void> {
    if (this.worker.running) await this.worker.api.trimTurn(onsetMs, keepMs);
  }

  /** Terminates the workers; a later load() starts fresh ones. */
  dispose(): void {
    this.stopWatching();
    this.worker.terminate();
    this.smartTurn.dispose();
    this.smartTurnFailedFrom = null;
  }
}

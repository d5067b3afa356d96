import * as Comlink from 'comlink';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import sileroModelUrl from '@ricky0123/vad-web/dist/silero_vad_v5.onnx?url';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { VoiceAgentError } from '../platform/errors.ts';
import type { TurnDetectionOptions } from '../platform/options.ts';
import type { FileProgress, VadEvent, VadWorkerApi } from '../platform/protocol.ts';
import { WorkerHandle, absoluteUrl } from '../platform/worker-handle.ts';
import type { TurnDetectorPort } from '../session/ports.ts';

export interface VadControllerCallbacks {
  onEvent(event: VadEvent): void;
  onProgress(progress: FileProgress): void;
  onCrash(error: VoiceAgentError): void;
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

  constructor(host: ReactiveControllerHost, callbacks: VadControllerCallbacks) {
    this.callbacks = callbacks;
    this.worker = new WorkerHandle<VadWorkerApi>(
      () => new Worker(new URL('../../workers/vad.worker.ts', import.meta.url), { type: 'module', name: 'voice-agent-vad' }),
      (error) => callbacks.onCrash(VoiceAgentError.workerFailed('voice activity detector', error)),
    );
    host.addController(this);
  }

  hostDisconnected(): void {
    this.dispose();
  }

  /** Downloads and warms Silero (once per worker). */
  async load(): Promise<void> {
    try {
      await this.worker.api.load(
        { modelUrl: absoluteUrl(sileroModelUrl), ortWasmUrl: absoluteUrl(ortWasmUrl) },
        Comlink.proxy((progress: FileProgress) => this.callbacks.onProgress(progress)),
      );
    } catch (error) {
      throw VoiceAgentError.from(error, 'model-load-failed');
    }
  }

  /** Segments the frames arriving on `frames`; `reportFrames` adds per-frame debug records. */
  async start(frames: MessagePort, options: TurnDetectionOptions, reportFrames = false): Promise<void> {
    await this.worker.api.start(
      Comlink.transfer(frames, [frames]),
      options,
      Comlink.proxy((event: VadEvent) => this.callbacks.onEvent(event)),
      reportFrames,
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

  /** Terminates the worker; a later load() starts a fresh one. */
  dispose(): void {
    this.worker.terminate();
  }
}

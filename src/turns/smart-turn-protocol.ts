/**
 * Messages between the Smart Turn worker, its controller and the VAD worker.
 *
 * The VAD worker asks for verdicts directly over a MessagePort (comlink-wrapped there,
 * comlink-exposed in the Smart Turn worker): verdicts never hop through the main thread.
 */
import type { FileProgress } from '../platform/protocol.ts';
import type { EndOfTurnVerdict } from './semantic-end-of-turn.ts';

/** Model id and file, in the `${modelBaseUrl}/${modelId}/${file}` layout of the hub. */
export const SMART_TURN_MODEL_ID = 'pipecat-ai/smart-turn-v3';
export const SMART_TURN_MODEL_FILE = 'smart-turn-v3.2-cpu.onnx';
/** Where the file lives when no `model-base-url` is set. */
export const SMART_TURN_HUB_URL = `https://huggingface.co/${SMART_TURN_MODEL_ID}/resolve/main/${SMART_TURN_MODEL_FILE}`;

/** The model's URL for a `model-base-url` (no trailing slash), or the hub's. */
export function smartTurnModelUrl(modelBaseUrl: string | undefined): string {
  return modelBaseUrl ? `${modelBaseUrl}/${SMART_TURN_MODEL_ID}/${SMART_TURN_MODEL_FILE}` : SMART_TURN_HUB_URL;
}

export interface SmartTurnAssets {
  readonly modelUrl: string;
  /** `model-base-url` (absolute), whose `voice-agent-models.json`, if any, the model is checked against; undefined: the hub. */
  readonly manifestFolder?: string;
  /** `local-only`: a model URL that answers with a redirect fails (`local-only-violation`) instead of being followed. */
  readonly localOnly?: boolean;
  /** onnxruntime-web's WASM binary, from our own origin. */
  readonly ortWasmUrl: string;
  /** wasm threads (more than 1 needs cross-origin isolation). */
  readonly threads: number;
}

/** What the VAD worker sees on its end of the port. */
export interface SmartTurnPortApi {
  /**
   * Probability that the turn whose 16 kHz audio this is has ended. Calls run one at a
   * time; a call still queued when a newer one arrives is rejected as `superseded`.
   */
  judge(audio: Float32Array): Promise<EndOfTurnVerdict>;
}

export interface SmartTurnWorkerApi extends SmartTurnPortApi {
  /** Downloads the model and runs a warm-up call (once per worker). */
  load(assets: SmartTurnAssets, onProgress: (progress: FileProgress) => void): Promise<void>;
  /** Serves {@link SmartTurnPortApi} on `port` (one per VAD session). */
  connect(port: MessagePort): Promise<void>;
  dispose(): Promise<void>;
}

/** The error name of a request dropped because a newer one replaced it. */
export const SUPERSEDED = 'superseded';

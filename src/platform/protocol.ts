/**
 * Every message that crosses a thread boundary, in one place.
 *
 * Receivers treat `event.data` as `unknown` and narrow with the guards below, because a
 * MessagePort will deliver whatever anyone posts to it.
 */
import type { TurnDetectionOptions } from './options.ts';
import type { ChatMessage } from '../answering/responder.ts';
import type { SegmenterEvent } from '../turns/speech-segmenter.ts';

/** Whisper and Silero both want 16 kHz mono. */
export const TARGET_SAMPLE_RATE_HZ = 16_000;
/** Silero v5's frame: 512 samples = 32 ms at 16 kHz. */
export const FRAME_SAMPLES = 512;
/** How often the capture worklet reports the input level (20 Hz is smooth enough for a meter). */
export const LEVEL_INTERVAL_MS = 50;
/** The name the capture processor registers under; shared by the worklet and its node. */
export const CAPTURE_PROCESSOR_NAME = 'voice-agent-capture';

// ── capture worklet ─────────────────────────────────────────────────────────────────

/** `processorOptions` of the capture AudioWorkletNode. */
export interface CaptureProcessorOptions {
  readonly targetSampleRateHz: number;
  readonly frameSamples: number;
  readonly levelIntervalMs: number;
}

/** Main thread → capture worklet (over `node.port`). */
export type CaptureControlMessage =
  /** Where to post frames (the VAD worker holds the other end). */
  | { readonly type: 'connect'; readonly frames: MessagePort }
  /** Stop posting; the processor returns false and is collected. */
  | { readonly type: 'stop' };

/** Capture worklet → main thread (over `node.port`). */
export type CaptureStatusMessage = { readonly type: 'level'; readonly rms: number };

/** Capture worklet → VAD worker (over the connected port). `pcm`'s buffer is transferred. */
export interface CaptureFrameMessage {
  readonly type: 'frame';
  /** Running frame number since capture started (gaps mean dropped frames). */
  readonly index: number;
  readonly pcm: Float32Array;
}

export function isCaptureFrameMessage(data: unknown): data is CaptureFrameMessage {
  return (
    typeof data === 'object' &&
    data !== null &&
    (data as { type?: unknown }).type === 'frame' &&
    (data as { pcm?: unknown }).pcm instanceof Float32Array &&
    typeof (data as { index?: unknown }).index === 'number'
  );
}

export function isCaptureStatusMessage(data: unknown): data is CaptureStatusMessage {
  return (
    typeof data === 'object' &&
    data !== null &&
    (data as { type?: unknown }).type === 'level' &&
    typeof (data as { rms?: unknown }).rms === 'number'
  );
}

export function isCaptureControlMessage(data: unknown): data is CaptureControlMessage {
  if (typeof data !== 'object' || data === null) return false;
  const type = (data as { type?: unknown }).type;
  if (type === 'stop') return true;
  return type === 'connect' && (data as { frames?: unknown }).frames instanceof MessagePort;
}

// ── VAD worker ──────────────────────────────────────────────────────────────────────

/** Where the VAD worker finds its files (all served from our own origin). */
export interface VadAssets {
  /** Silero v5 ONNX model. */
  readonly modelUrl: string;
  /** onnxruntime-web's WASM binary. */
  readonly ortWasmUrl: string;
}

/**
 * A segmenter event as delivered by the VAD worker, stamped with wall-clock times
 * (`performance.timeOrigin + performance.now()`, comparable across threads).
 */
export type VadEvent =
  | (SegmenterEvent & {
      /** When the worker emitted the event. */
      readonly emittedAt: number;
      /** speech-end only: when the last voiced frame's probability was known. */
      readonly lastSpeechAt?: number;
      /** speech-end only: median Silero inference time per frame over recent frames. */
      readonly vadMsPerFrame?: number;
    })
  /** Inference failed; the worker stops processing frames until restarted. */
  | { readonly type: 'failure'; readonly message: string; readonly emittedAt: number }
  /** Debug only (`reportFrames`): per-frame probabilities and costs, in batches. */
  | { readonly type: 'frames'; readonly records: readonly VadFrameRecord[]; readonly emittedAt: number };

/** One VAD frame as seen by the worker (debug reports). */
export interface VadFrameRecord {
  /** Frame number since capture started (32 ms each). */
  readonly index: number;
  /** Silero speech probability. */
  readonly probability: number;
  /** Silero inference time for this frame, ms. */
  readonly inferenceMs: number;
  /** Wall-clock time when the probability was known. */
  readonly at: number;
  /**
   * An end-of-turn verdict (Smart Turn) that arrived since the previous record, with its
   * cost: features + model, ms, measured in the Smart Turn worker; `roundTripMs` is from
   * the request to the answer as the VAD worker saw it.
   */
  readonly endOfTurn?: {
    readonly probability: number;
    readonly complete: boolean;
    readonly featuresMs: number;
    readonly inferenceMs: number;
    readonly roundTripMs: number;
  };
}

/** Bytes of one file downloaded so far (total 0 when unknown). */
export interface FileProgress {
  readonly file: string;
  readonly loaded: number;
  readonly total: number;
  /**
   * Set once the file has loaded but Cache Storage refused to keep it (storage quota): it
   * works for this visit and will be downloaded again on the next.
   */
  readonly cacheFull?: boolean;
}

export interface VadWorkerApi {
  /** Loads Silero (once); resolves when a warm-up inference has run. */
  load(assets: VadAssets, onProgress: (progress: FileProgress) => void): Promise<void>;
  /**
   * Starts segmenting frames arriving on `frames`; events go to `onEvent`. With
   * `reportFrames`, per-frame records are sent too (debugging and benchmarks).
   * `endOfTurn`: a port to the Smart Turn worker (see SmartTurnPortApi), used when
   * `options.endOfTurn` is `smart-turn`; without it turns end on silence alone.
   */
  start(
    frames: MessagePort,
    options: TurnDetectionOptions,
    onEvent: (event: VadEvent) => void,
    reportFrames: boolean,
    endOfTurn?: MessagePort,
  ): Promise<void>;
  /** Changes turn-detection options for the next turn. */
  configure(options: TurnDetectionOptions): Promise<void>;
  beginManualTurn(): Promise<void>;
  endManualTurn(): Promise<void>;
  /**
   * Drops the open turn (only if its onset was at `onsetMs`, stream time, when given),
   * with no event: it was the agent's own voice. Its latest frames become the next turn's
   * pre-speech pad.
   */
  dropTurn(onsetMs?: number): Promise<void>;
  /** Keeps only the last `keepMs` of the open turn with onset `onsetMs` (see SpeechSegmenter.trimTurn). */
  trimTurn(onsetMs: number, keepMs: number): Promise<void>;
  /** Stops listening to the frame port and drops any open turn. */
  stop(): Promise<void>;
  /** Releases the ONNX session. */
  dispose(): Promise<void>;
}

// ── ASR worker ──────────────────────────────────────────────────────────────────────

/** Where a transformers.js worker gets its files and how it runs them (ASR, local LLM). */
export interface ModelRuntimeConfig {
  /** `${modelBaseUrl}/${model}/${file}`; undefined: the public hub. */
  readonly modelBaseUrl?: string;
  /** onnxruntime-web's wasm runtime, served from our own origin (never a CDN). */
  readonly ortWasm: { readonly mjs: string; readonly wasm: string };
  /** wasm threads (needs cross-origin isolation). */
  readonly threads: number;
  /** `local-only`: files only from the page's origin (`model-base-url`), never the hub. */
  readonly localOnly?: boolean;
}

/** What the ASR worker needs to load a Whisper model. */
export interface AsrLoadConfig extends ModelRuntimeConfig {
  /** Model id in the Hugging Face layout (`Xenova/whisper-tiny.en`). */
  readonly model: string;
  readonly device: 'webgpu' | 'wasm';
  /** A dtype or a per-file map (`{ encoder_model: 'fp32', decoder_model_merged: 'q4' }`). */
  readonly dtype: string | Readonly<Record<string, string>>;
}

export interface AsrRequest {
  /** 16 kHz mono; its buffer is transferred. */
  readonly audio: Float32Array;
  /** A language code, or undefined to let a multilingual model detect it (English-only: ignored). */
  readonly language?: string;
  readonly task: 'transcribe' | 'translate';
}

export interface AsrResult {
  readonly text: string;
  /** The language of `text`: as asked, as detected, or `en` for an English-only model. */
  readonly language: string;
  /** Time spent in the model, ms. */
  readonly inferenceMs: number;
}

export interface AsrWorkerApi {
  /** Downloads (or reads from Cache Storage) and warms the model. Once per worker. */
  load(config: AsrLoadConfig, onProgress: (progress: FileProgress) => void): Promise<void>;
  /** Transcribes one stretch of speech. Calls are answered in order, one at a time. */
  transcribe(request: AsrRequest): Promise<AsrResult>;
  /** Releases the model's sessions. */
  dispose(): Promise<void>;
}

// ── local LLM worker ────────────────────────────────────────────────────────────────

/** What the LLM worker needs to load a `text-generation` model. */
export interface LlmLoadConfig extends ModelRuntimeConfig {
  /** Model id in the Hugging Face layout (`HuggingFaceTB/SmolLM2-360M-Instruct`). */
  readonly model: string;
  readonly device: 'webgpu' | 'wasm';
  /** transformers.js dtype (`q4f16`, `q4`, `q8`, `fp32`, …). */
  readonly dtype: string;
}

/** One reply to generate. */
export interface LlmGenerateRequest {
  /** Names this generation for `stop(id)` (unique per worker). */
  readonly id: number;
  /** The chat so far (system first, ending with the visitor's message); the chat template is applied in the worker. */
  readonly messages: readonly ChatMessage[];
  readonly maxNewTokens: number;
}

/** How a generation ended, and what it cost. */
export interface LlmGenerateResult {
  /** The exact prompt the model saw (chat template applied, generation prompt added). */
  readonly prompt: string;
  readonly promptTokens: number;
  /** Messages left out (oldest first) so the prompt and reply fit the model's context. */
  readonly droppedMessages: number;
  /** New tokens generated. */
  readonly tokens: number;
  /** `eos`: the model finished; `max-tokens`: cut at `maxNewTokens`; `stopped`: `stop(id)` (or never started). */
  readonly stoppedBy: 'eos' | 'max-tokens' | 'stopped';
  /** Time in `generate`, ms, and wall-clock time when it ended (comparable across threads). */
  readonly generateMs: number;
  readonly finishedAt: number;
}

export interface LlmWorkerApi {
  /** Downloads (or reads from Cache Storage) and warms the model. Once per worker. */
  load(config: LlmLoadConfig, onProgress: (progress: FileProgress) => void): Promise<void>;
  /**
   * Generates one reply, streaming text to `onText` as whole words form. Generations run
   * one at a time, in call order.
   */
  generate(request: LlmGenerateRequest, onText: (text: string) => void): Promise<LlmGenerateResult>;
  /** Stops generation `id` after its current token (or drops it if it has not started). */
  stop(id: number): Promise<void>;
  /** Releases the model's sessions. */
  dispose(): Promise<void>;
}

// ── TTS worker ──────────────────────────────────────────────────────────────────────

/** Where the TTS worker finds its runtime files (all served from our own origin). */
export interface TtsAssets {
  /** onnxruntime-web's WASM binary. */
  readonly ortWasmUrl: string;
  /** piper-tts-web's espeak-ng phonemizer: its worker script, `.wasm` and `.data`. */
  readonly phonemizerWorkerUrl: string;
  readonly phonemizerWasmUrl: string;
  readonly phonemizerDataUrl: string;
}

/** A Piper voice and where its two files are. */
export interface VoiceSource {
  readonly id: string;
  readonly modelUrl: string;
  readonly configUrl: string;
  /** `model-base-url` (absolute), whose `voice-agent-models.json`, if any, the files are checked against; undefined: the hub. */
  readonly manifestFolder?: string;
  /** `local-only`: a file that answers with a redirect fails (`local-only-violation`) instead of being followed. */
  readonly localOnly?: boolean;
}

/** What the main thread needs to know about a loaded voice. */
export interface VoiceInfo {
  readonly id: string;
  readonly sampleRateHz: number;
  /** Time to create the ONNX session and run a warm-up, ms. */
  readonly loadMs: number;
}

/** One clause to synthesize. */
export interface SynthesisRequest {
  readonly voiceId: string;
  /** The reply this clause belongs to: `cancel(replyId)` drops its queued clauses. */
  readonly replyId: number;
  /** The first clause of a reply is synthesized before queued later clauses of any reply. */
  readonly first: boolean;
  /** Speakable text (already cleaned). */
  readonly text: string;
  /** 1 = the voice's own pace; divides the voice's length scale. */
  readonly speakingRate: number;
  /** The rate to deliver PCM at (the playback AudioContext's), Hz. */
  readonly outputRateHz: number;
}

/** A synthesized clause. `pcm`'s buffer is transferred. */
export interface SynthesisResult {
  /** Mono PCM at `outputRateHz`. */
  readonly pcm: Float32Array;
  /** Where speech starts and ends inside `pcm` (the voice's own silence is outside). */
  readonly voicedStartFrame: number;
  readonly voicedEndFrame: number;
  /** Phoneme symbols the voice had no id for (left out). */
  readonly dropped: readonly string[];
  /** Costs, ms: phonemization, model run, and the audio made. */
  readonly phonemizeMs: number;
  readonly inferenceMs: number;
  readonly audioMs: number;
  /** Time the request waited in the queue, ms. */
  readonly queuedMs: number;
}

export interface TtsWorkerApi {
  /**
   * Loads a voice (cached per voice id; a failed load is retried by the next call) and the
   * phonemizer, and runs a warm-up synthesis.
   */
  loadVoice(assets: TtsAssets, voice: VoiceSource, onProgress: (progress: FileProgress) => void): Promise<VoiceInfo>;
  /** Synthesizes one clause; resolves `null` if the clause's reply was cancelled first. */
  synthesize(request: SynthesisRequest): Promise<SynthesisResult | null>;
  /** Drops the reply's clauses that have not started (they resolve `null`). */
  cancel(replyId: number): Promise<void>;
  /** Releases the sessions and the phonemizer. */
  dispose(): Promise<void>;
}

/** Debug record of one synthesized clause (the element's `debug` mode, benchmarks, tests). */
export interface TtsChunkRecord {
  readonly replyId: number;
  /** Clause number within the reply. */
  readonly index: number;
  /** Raw clause text and what was sent to the voice. */
  readonly text: string;
  readonly speech: string;
  /** Output PCM length and rate (the playback context's). */
  readonly frames: number;
  readonly sampleRateHz: number;
  readonly voicedStartFrame: number;
  readonly voicedEndFrame: number;
  readonly phonemizeMs: number;
  readonly inferenceMs: number;
  readonly audioMs: number;
  readonly queuedMs: number;
  /** Page time (`performance.now()`) when `say()` was called for this reply. */
  readonly saidAt: number;
  /** Page time when the clause's PCM reached the main thread. */
  readonly readyAt: number;
  /** Page time at which its first sample is scheduled to play (graph time, before output latency). */
  readonly startsAt: number;
  /** Silence inserted before it because it arrived after the audio in front had run out, ms. */
  readonly underrunMs: number;
  /** Phoneme symbols the voice could not say (left out). */
  readonly dropped: readonly string[];
  /** The clause's audio as scheduled (at `sampleRateHz`). */
  readonly pcm: Float32Array;
}

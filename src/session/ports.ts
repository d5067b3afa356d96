/**
 * The voice session's ports: the small interfaces through which it drives the browser
 * and the models, and the sinks through which they report back.
 *
 * Each stage of the pipeline is one port. The browser implementations are the Lit
 * controllers (wired in `browser-ports.ts`); the session's unit tests use fakes. A new
 * recognizer, voice, end-of-turn policy or responder is one new implementation of its
 * port plus one line in `createBrowserPorts` — the session does not change.
 *
 *   microphone ─frames→ turns (VAD + end-of-turn) ─turn audio→ recognizer ─text→ responder ─clauses→ speaker
 */
import type { ConversationEntry } from '../answering/conversation.ts';
import type { VoiceDebugDetail } from '../events/debug.ts';
import type { RecoveredCode } from '../events/recovered.ts';
import type { VoiceResponseDetail } from '../events/response.ts';
import type { VoiceResponseEndDetail } from '../events/response-end.ts';
import type { VoiceTurnEvent } from '../events/turn.ts';
import type { TranscriptUpdate } from '../hearing/asr-controller.ts';
import type { VoiceAgentError } from '../platform/errors.ts';
import type { TurnDetectionOptions, VoiceAgentMode } from '../platform/options.ts';
import type { FileProgress, VadEvent } from '../platform/protocol.ts';

/**
 * Captures the visitor's microphone as 16 kHz frames. Reports levels, a microphone that
 * went away (`micLost`: its track ended, or another element took it), one that is back
 * (`micAvailable`) and a capture the system suspended (`micInterrupted`, then `recovered`)
 * to the sinks.
 */
export interface MicrophonePort {
  /** Asks for the microphone; resolves with the port the frames arrive on. */
  open(): Promise<MessagePort>;
  /**
   * A new port for the frames of the capture already running (the detector that had the
   * last one is gone); null when nothing is being captured.
   */
  reconnect(): MessagePort | null;
  close(): Promise<void>;
}

/** Turn detection: voice activity on every frame, and the end-of-turn policy. Events go to `turnEvent`. */
export interface TurnDetectorPort {
  load(): Promise<void>;
  start(frames: MessagePort, options: TurnDetectionOptions, reportFrames: boolean): Promise<void>;
  /** New options, applied from the next turn. */
  configure(options: TurnDetectionOptions): Promise<void>;
  beginManualTurn(): Promise<void>;
  endManualTurn(): Promise<void>;
  /** Forgets the open turn (it was the agent's own voice). */
  dropTurn(): Promise<void>;
  /** Keeps only the last `keepMs` of the open turn with onset `onsetMs` (echo before it). */
  trimTurn(onsetMs: number, keepMs: number): Promise<void>;
  dispose(): void;
}

/** Speech to text, turn by turn. Transcripts go to `transcript`. */
export interface RecognizerPort {
  /** Turns will get transcripts (enabled, and not known to have failed). */
  readonly available: boolean;
  load(): Promise<unknown>;
  beginTurn(turnId: number): void;
  appendAudio(turnId: number, audio: Float32Array, trailingSilenceSamples: number): void;
  endTurn(turnId: number, audio: Float32Array, lastSpeechSample: number, speechMs: number): void;
  dispose(): void;
}

/** Synthesis and playback of the agent's voice. Progress goes to `speakingChange` / `response` / `responseEnd`. */
export interface SpeakerPort {
  /** Audio of a reply is playing or queued (held audio included). */
  readonly isSpeaking: boolean;
  preload(): Promise<void>;
  say(text: string): Promise<void>;
  /** Pauses the voice where it is; `resume()` plays on; `interrupt()` drops it. */
  hold(): void;
  resume(): void;
  interrupt(): void;
  /** Interrupts and releases the voice and the output. */
  stop(): void;
  /** The loudest output level between two wall-clock times (for the echo gate). */
  outputLevelBetween(fromWallMs: number, toWallMs: number): number;
}

/** The conversation loop: history and the responder of each turn (page code, `llm-url`, `local-llm`). */
export interface ResponderPort {
  readonly history: readonly ConversationEntry[];
  /** An answer is being prepared or spoken. */
  readonly busy: boolean;
  /** Loads what answering needs ahead of time (the `local-llm` model, if any). */
  preload(): Promise<void>;
  runTurn(text: string, source: 'speech' | 'text'): Promise<void>;
  /** Abandons the answer under way (records what was heard). */
  cancel(): void;
  reset(): void;
}

export interface SessionPorts {
  readonly microphone: MicrophonePort;
  readonly turns: TurnDetectorPort;
  readonly recognizer: RecognizerPort;
  readonly speaker: SpeakerPort;
  readonly responder: ResponderPort;
}

/** What the ports report back to the session. */
export interface SessionSinks {
  /** Microphone level (RMS 0..1), about 20 times a second. */
  level(rms: number): void;
  /** The turn detector stopped working mid-session. */
  audioLost(error: VoiceAgentError): void;
  /** The microphone went away (`mic-ended`, `mic-taken-over`); capture is closed already. */
  micLost(error: VoiceAgentError): void;
  /** After `mic-ended`: an audio input is there again (the devices changed). */
  micAvailable(): void;
  /** The system suspended the capture (`mic-interrupted`); it is still open, and `recovered` follows when it runs again. */
  micInterrupted(error: VoiceAgentError): void;
  /** A condition reported as a recoverable error is over (the capture or the output runs again). */
  recovered(code: RecoveredCode): void;
  turnEvent(event: VadEvent): void;
  transcript(update: TranscriptUpdate): void;
  /** The agent's voice started (true) / nothing plays or waits any more (false). */
  speakingChange(speaking: boolean): void;
  response(detail: VoiceResponseDetail): void;
  responseEnd(detail: VoiceResponseEndDetail): void;
  /** A visitor turn is about to be answered: page code may answer it (`voice-turn`). */
  turn(event: VoiceTurnEvent): void;
  /** An answer to turn `turnId` (spoken or typed, as `source` says) is under way. */
  replyStart(turnId: number, source: 'speech' | 'text'): void;
  firstDelta(): void;
  /** The whole answer text, once known. */
  replyText(text: string): void;
  replyEnd(): void;
  progress(model: string, progress: FileProgress): void;
  /** A failure that leaves the session working. */
  error(error: VoiceAgentError): void;
  debug(detail: VoiceDebugDetail): void;
}

/** Builds the ports around the session's sinks. */
export type PortFactory = (sinks: SessionSinks) => SessionPorts;

/** The element's resolved options that the session acts on. */
export interface SessionSettings {
  readonly mode: VoiceAgentMode;
  readonly turnDetection: TurnDetectionOptions;
  /** Speech over an answer interrupts it. */
  readonly interruptions: boolean;
  /** Dispatch `voice-debug` records. */
  readonly debug: boolean;
}

/** What the session hands its owner (the element). */
export interface SessionOutputs {
  /** A typed event, to be dispatched from the element as it is. */
  dispatch(event: Event): void;
  /** `state`, `captions`, `error` or `downloadFraction` changed. */
  changed(): void;
  /** The input level (RMS), for a level meter: frequent, so apart from `changed`. */
  level(rms: number): void;
}

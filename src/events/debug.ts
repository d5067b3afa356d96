import type { TextArrival } from '../answering/local-llm-responder.ts';
import type { LlmGenerateResult, TtsChunkRecord, VadFrameRecord } from '../platform/protocol.ts';

export type VoiceDebugDetail =
  | {
      /** Per-frame VAD results, in batches of a few frames. */
      readonly kind: 'vad-frames';
      /** Frame number, Silero speech probability, inference cost (ms) and wall-clock time of each frame. */
      readonly frames: readonly VadFrameRecord[];
    }
  | {
      /** One speech-recognizer call. */
      readonly kind: 'asr-job';
      readonly turnId: number;
      /** `partial` (while talking), `pause` (at a pause; may become the final), `final`. */
      readonly job: 'partial' | 'pause' | 'final';
      /** Seconds of audio transcribed. */
      readonly audioSeconds: number;
      /** Time in the model, and wall-clock time when it finished. */
      readonly inferenceMs: number;
      readonly finishedAt: number;
      readonly text: string;
    }
  | {
      /**
       * A model worker was lost during a call (crashed, stopped answering its heartbeat, or
       * passed the call deadline) and a new one was loaded to retry the call.
       */
      readonly kind: 'worker-restarted';
      readonly what: string;
      readonly cause: string;
    }
  | {
      /** The speech recognizer is loaded and warm. */
      readonly kind: 'asr-ready';
      readonly loadMs: number;
    }
  | {
      /**
       * Speech over the agent's answer and what became of it: `echo` (the echo gate put it
       * down to the agent's own voice), `hold` (the answer paused), `resume` (the turn had
       * no words) or `drop` (the answer was abandoned for the visitor's turn).
       */
      readonly kind: 'barge-in';
      readonly outcome: 'echo' | 'hold' | 'resume' | 'drop';
      /** Wall-clock time of the decision. */
      readonly decidedAt: number;
      /** echo / hold: wall-clock time of the speech's onset (its first speech frame). */
      readonly onsetAt?: number;
      /**
       * echo / hold: the microphone level of the speech, the loudest output of the echo tail
       * before it, and the echo the gate expected from that.
       */
      readonly micRms?: number;
      readonly outputRms?: number;
      readonly expectedEchoRms?: number;
      /** echo: a transcript found to be the agent's own words (the gate's second line). */
      readonly transcript?: string;
    }
  | {
      /** The local LLM (`local-llm`) is loaded and warm: where it runs and why. */
      readonly kind: 'llm-ready';
      readonly model: string;
      readonly device: 'webgpu' | 'wasm';
      readonly dtype: string;
      readonly reason: string;
      readonly loadMs: number;
    }
  | (LlmGenerateResult &
      TextArrival & {
        /**
         * One local LLM reply ended: the exact prompt (chat template applied), tokens
         * generated and why it stopped, and how many text pieces reached the page, when
         * the first did (wall clock, comparable with `finishedAt`) and their text joined.
         */
        readonly kind: 'llm-generation';
        readonly turnId: number;
        readonly maxNewTokens: number;
      })
  | {
      /** One synthesized clause of a spoken reply: its text, costs and place in the output. */
      readonly kind: 'tts-chunk';
      readonly chunk: TtsChunkRecord;
    };

/**
 * Diagnostics for tuning and benchmarks, only while the `debug` attribute is set. Not a
 * stable API: its details may change between versions.
 */
export class VoiceDebugEvent extends Event {
  static readonly eventName = 'voice-debug';
  readonly detail: VoiceDebugDetail;

  constructor(detail: VoiceDebugDetail) {
    super(VoiceDebugEvent.eventName, { bubbles: true, composed: true });
    this.detail = detail;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'voice-debug': VoiceDebugEvent;
  }
}

import type { TtsChunkRecord, VadFrameRecord } from '../core/protocol.ts';

export type VoiceDebugDetail =
  | {
      /** What is reported: per-frame VAD results, in batches of a few frames. */
      readonly kind: 'vad-frames';
      /** Frame number, Silero speech probability, inference cost (ms) and wall-clock time of each frame. */
      readonly frames: readonly VadFrameRecord[];
    }
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

import type { VadFrameRecord } from '../core/protocol.ts';

export interface VoiceDebugDetail {
  /** What is reported: per-frame VAD results, in batches of a few frames. */
  readonly kind: 'vad-frames';
  /** Frame number, Silero speech probability, inference cost (ms) and wall-clock time of each frame. */
  readonly frames: readonly VadFrameRecord[];
}

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

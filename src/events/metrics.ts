export interface VoiceMetricsDetail {
  /** The conversation turn (as in `history`). */
  readonly turnId: number;
  readonly source: 'speech' | 'text';
  /** Last voiced frame (spoken turn) or `send()` (typed) → final transcript, ms. 0 for typed turns. */
  readonly transcriptMs: number;
  /** → the responder's first text, ms; null if it produced none. */
  readonly firstTokenMs: number | null;
  /** → the answer's first audio starting to play, ms; null if nothing was spoken. */
  readonly firstAudioMs: number | null;
  /** The whole voice-to-voice time: the visitor's last voiced frame → the agent's first audio. Same as `firstAudioMs`. */
  readonly voiceToVoiceMs: number | null;
}

/** Latency of one answered turn, measured on the wall clock from the end of the visitor's speech. */
export class VoiceMetricsEvent extends Event {
  static readonly eventName = 'voice-metrics';
  readonly detail: VoiceMetricsDetail;

  constructor(detail: VoiceMetricsDetail) {
    super(VoiceMetricsEvent.eventName, { bubbles: true, composed: true });
    this.detail = detail;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'voice-metrics': VoiceMetricsEvent;
  }
}

export interface VoiceSpeechEndDetail {
  /** The turn's audio: 16 kHz mono, from just before the onset to just after the last voiced frame. */
  readonly audio: Float32Array;
  /** Length of `audio` in ms. */
  readonly durationMs: number;
  /** Where the turn began and ended, in ms since the microphone opened. */
  readonly startMs: number;
  readonly endMs: number;
  /** Time from the last voiced frame to this event (the end-of-turn delay), in ms. */
  readonly endOfTurnDelayMs: number;
  /** Median Silero inference time per 32 ms frame during the turn, in ms. */
  readonly vadMsPerFrame: number;
}

/** Fired when the visitor's turn ends (end-of-turn policy, push-to-talk release, or max length). */
export class VoiceSpeechEndEvent extends Event {
  static readonly eventName = 'voice-speech-end';
  readonly detail: VoiceSpeechEndDetail;

  constructor(detail: VoiceSpeechEndDetail) {
    super(VoiceSpeechEndEvent.eventName, { bubbles: true, composed: true });
    this.detail = detail;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'voice-speech-end': VoiceSpeechEndEvent;
  }
}

export interface VoiceSpeechStartDetail {
  /** Where the speech began, in ms since the microphone opened. */
  readonly startMs: number;
}

/**
 * Fired when the VAD is confident the visitor is talking (`min-speech-ms` of speech
 * seen). Every `voice-speech-start` is followed by one `voice-speech-end`, unless
 * `stop()` drops the turn.
 */
export class VoiceSpeechStartEvent extends Event {
  static readonly eventName = 'voice-speech-start';
  readonly detail: VoiceSpeechStartDetail;

  constructor(detail: VoiceSpeechStartDetail) {
    super(VoiceSpeechStartEvent.eventName, { bubbles: true, composed: true });
    this.detail = detail;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'voice-speech-start': VoiceSpeechStartEvent;
  }
}

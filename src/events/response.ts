export interface VoiceResponseDetail {
  /** The words heard since the previous `voice-response` of this reply. */
  readonly delta: string;
  /** Everything of this reply heard so far (a prefix of the text given to `say()`). */
  readonly text: string;
}

/**
 * The agent's spoken reply is being heard: dispatched as playback passes words (at most
 * ~20 times a second), so captions can follow the voice.
 */
export class VoiceResponseEvent extends Event {
  static readonly eventName = 'voice-response';
  readonly detail: VoiceResponseDetail;

  constructor(detail: VoiceResponseDetail) {
    super(VoiceResponseEvent.eventName, { bubbles: true, composed: true });
    this.detail = detail;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'voice-response': VoiceResponseEvent;
  }
}

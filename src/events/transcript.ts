export interface VoiceTranscriptDetail {
  /** What the visitor said (or typed). */
  readonly text: string;
  /** False for a partial transcript that may still change; true once per turn. */
  readonly final: boolean;
  /** Language code of the text (`en`, …). */
  readonly language: string;
  /** `speech` for a spoken turn, `text` for one typed into the element or passed to `send()`. */
  readonly source: 'speech' | 'text';
}

/** What the visitor said or typed. */
export class VoiceTranscriptEvent extends Event {
  static readonly eventName = 'voice-transcript';
  readonly detail: VoiceTranscriptDetail;

  constructor(detail: VoiceTranscriptDetail) {
    super(VoiceTranscriptEvent.eventName, { bubbles: true, composed: true });
    this.detail = detail;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'voice-transcript': VoiceTranscriptEvent;
  }
}

export interface VoiceResponseEndDetail {
  /** The whole reply, as given to `say()` (trimmed). */
  readonly text: string;
  /**
   * What the visitor heard: all of `text` when it was spoken to the end, else the prefix
   * up to the last whole word played before it stopped.
   */
  readonly heardText: string;
  /**
   * True when speech stopped before the end: `interrupt()`, `stop()`, removal, or a
   * failure (a `voice-error` says which).
   */
  readonly interrupted: boolean;
}

/** A reply given to `say()` has finished: spoken to the end, interrupted, or failed. */
export class VoiceResponseEndEvent extends Event {
  static readonly eventName = 'voice-response-end';
  readonly detail: VoiceResponseEndDetail;

  constructor(detail: VoiceResponseEndDetail) {
    super(VoiceResponseEndEvent.eventName, { bubbles: true, composed: true });
    this.detail = detail;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'voice-response-end': VoiceResponseEndEvent;
  }
}

export interface VoiceModelProgressDetail {
  /** Which model: `vad`, later `asr`, `tts`, `llm`. */
  readonly model: string;
  /** The file being fetched. */
  readonly file: string;
  /** Bytes received so far for this file. */
  readonly loaded: number;
  /** Total bytes of this file (0 when the server did not say). */
  readonly total: number;
}

/** Download progress of a model file. */
export class VoiceModelProgressEvent extends Event {
  static readonly eventName = 'voice-model-progress';
  readonly detail: VoiceModelProgressDetail;

  constructor(detail: VoiceModelProgressDetail) {
    super(VoiceModelProgressEvent.eventName, { bubbles: true, composed: true });
    this.detail = detail;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'voice-model-progress': VoiceModelProgressEvent;
  }
}

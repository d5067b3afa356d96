export interface VoiceLevelDetail {
  /** Which signal was measured. */
  readonly source: 'input';
  /** Root-mean-square amplitude, 0..1. */
  readonly rms: number;
  /** The same in dBFS (-100 for silence). */
  readonly dbfs: number;
}

/** Input loudness, at most 20 times a second while listening (for meters and animations). */
export class VoiceLevelEvent extends Event {
  static readonly eventName = 'voice-level';
  readonly detail: VoiceLevelDetail;

  constructor(detail: VoiceLevelDetail) {
    super(VoiceLevelEvent.eventName, { bubbles: true, composed: true });
    this.detail = detail;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'voice-level': VoiceLevelEvent;
  }
}

import type { VoiceErrorCode } from '../platform/errors.ts';

/** The conditions the element recovers from by itself, each first reported as a `voice-error` with this code. */
export type RecoveredCode = Extract<VoiceErrorCode, 'mic-ended' | 'mic-interrupted' | 'audio-blocked'>;

export interface VoiceRecoveredDetail {
  /** The `voice-error` code whose condition is over: `mic-ended`, `mic-interrupted` (listening again), `audio-blocked` (sound plays again). */
  readonly code: RecoveredCode;
}

/**
 * A condition reported earlier as a recoverable `voice-error` is over: the microphone
 * was re-acquired after it ended (`mic-ended`), the capture the system had suspended runs
 * again (`mic-interrupted`), or the output sound was allowed again
 * after it was suspended (`audio-blocked`).
 */
export class VoiceRecoveredEvent extends Event {
  static readonly eventName = 'voice-recovered';
  readonly detail: VoiceRecoveredDetail;

  constructor(detail: VoiceRecoveredDetail) {
    super(VoiceRecoveredEvent.eventName, { bubbles: true, composed: true });
    this.detail = detail;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'voice-recovered': VoiceRecoveredEvent;
  }
}

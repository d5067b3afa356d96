import type { VoiceErrorDetail } from '../platform/errors.ts';

/** Something failed. `detail.code` is stable (switch on it); `detail.message` is for people. */
export class VoiceErrorEvent extends Event {
  static readonly eventName = 'voice-error';
  readonly detail: VoiceErrorDetail;

  constructor(detail: VoiceErrorDetail) {
    super(VoiceErrorEvent.eventName, { bubbles: true, composed: true });
    this.detail = detail;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'voice-error': VoiceErrorEvent;
  }
}

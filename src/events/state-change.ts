import type { AgentState } from '../turns/turn-machine.ts';

export interface VoiceStateChangeDetail {
  readonly state: AgentState;
  readonly previous: AgentState;
}

/** Fired whenever `state` changes. */
export class VoiceStateChangeEvent extends Event {
  static readonly eventName = 'voice-state-change';
  readonly detail: VoiceStateChangeDetail;

  constructor(detail: VoiceStateChangeDetail) {
    super(VoiceStateChangeEvent.eventName, { bubbles: true, composed: true });
    this.detail = detail;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'voice-state-change': VoiceStateChangeEvent;
  }
}

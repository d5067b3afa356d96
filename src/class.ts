/**
 * voice-agent/class: the element's class and public types, without defining the
 * `<voice-agent>` tag (for pages that register it themselves, e.g. under another name or
 * in a scoped registry). Importing `voice-agent` (src/index.ts) defines the tag.
 */
export { VoiceAgent } from './voice-agent.ts';
export * from './events/index.ts';
export type { CachedModel } from './platform/model-cache.ts';
export { VoiceAgentError, type VoiceErrorCode, type VoiceErrorDetail } from './platform/errors.ts';
export type { AgentState } from './turns/turn-machine.ts';
export type { VoiceAgentMode, TurnDetectionOptions, EndOfTurnMode } from './platform/options.ts';
export { DEFAULT_VOICE_ID, type Phonemizer } from './speaking/piper-voice.ts';

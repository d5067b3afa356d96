/**
 * voice-agent: the public entry. Importing it defines `<voice-agent>`.
 */
export { VoiceAgent } from './voice-agent.ts';
export * from './events/index.ts';
export { VoiceAgentError, type VoiceErrorCode, type VoiceErrorDetail } from './platform/errors.ts';
export type { AgentState } from './turns/turn-machine.ts';
export type { VoiceAgentMode, TurnDetectionOptions, EndOfTurnMode } from './platform/options.ts';
export { DEFAULT_VOICE_ID, type Phonemizer } from './speaking/piper-voice.ts';

/**
 * voice-agent: the public entry. Importing it defines `<voice-agent>`.
 */
export { VoiceAgent } from './voice-agent.ts';
export * from './events/index.ts';
export { VoiceAgentError, type VoiceErrorCode, type VoiceErrorDetail } from './core/errors.ts';
export type { AgentState } from './core/turn-machine.ts';
export type { VoiceAgentMode, TurnDetectionOptions } from './core/options.ts';
export { DEFAULT_VOICE_ID, type Phonemizer } from './core/piper-voice.ts';

/**
 * Turn-taking as a pure state machine: `transition(state, input) → { state, effects }`.
 *
 * No DOM, no workers, no timers: the element feeds it inputs (user actions, VAD events,
 * controller results) and executes the effects it returns (open the mic, release it,
 * hand a turn on). That keeps every rule of "who may talk when" in one table that is
 * unit-tested exhaustively (`turn-machine.test.ts`), and keeps I/O out of the rules.
 *
 * Inputs that make no sense in a state (a late VAD event after `stop()`, a second
 * `start()` while loading) leave the state unchanged and produce no effects.
 */

/** What the agent is doing; mirrored by the element's `state` and custom states. */
export type AgentState =
  | 'idle'
  | 'loading'
  | 'listening'
  | 'user-speaking'
  | 'transcribing'
  | 'thinking'
  | 'speaking'
  | 'error';

export const AGENT_STATES: readonly AgentState[] = [
  'idle',
  'loading',
  'listening',
  'user-speaking',
  'transcribing',
  'thinking',
  'speaking',
  'error',
];

export type TurnInput =
  /** `start()` was called. `voiceInput` is false in text mode (no microphone). */
  | { readonly type: 'start'; readonly voiceInput: boolean }
  /** The microphone and VAD are running. */
  | { readonly type: 'audio-ready' }
  /** Opening the microphone or loading the VAD failed. */
  | { readonly type: 'audio-failed' }
  /** The microphone stopped delivering audio while we were using it. */
  | { readonly type: 'audio-lost' }
  /** `stop()` was called (or the element left the DOM). */
  | { readonly type: 'stop' }
  /** Push-to-talk: the talk control was pressed / released. */
  | { readonly type: 'talk-pressed' }
  | { readonly type: 'talk-released' }
  /** The VAD confirmed that the visitor is speaking. */
  | { readonly type: 'speech-start' }
  /**
   * The VAD closed the visitor's turn (its audio travels beside this input). `transcribe`:
   * a speech recognizer will turn it into text (state `transcribing` until `transcribed`).
   */
  | { readonly type: 'speech-end'; readonly transcribe: boolean }
  /** The final transcript of the last turn is out (or the turn had no words). */
  | { readonly type: 'transcribed' }
  /** The VAD dropped a would-be turn as a misfire. */
  | { readonly type: 'misfire' };

export type TurnEffect =
  /** Load the VAD, open the microphone and start capture. Answer with audio-ready/-failed. */
  | { readonly type: 'acquire-audio' }
  /** Stop capture, release the microphone, AudioContext and VAD worker's stream. */
  | { readonly type: 'release-audio' }
  /** Push-to-talk: open / close a turn in the segmenter regardless of the VAD. */
  | { readonly type: 'begin-manual-turn' }
  | { readonly type: 'end-manual-turn' }
  /** Hand the finished turn's audio on (to `voice-speech-end` listeners and the recognizer). */
  | { readonly type: 'deliver-turn' };

export interface TransitionResult {
  readonly state: AgentState;
  readonly effects: readonly TurnEffect[];
}

const stay = (state: AgentState): TransitionResult => ({ state, effects: [] });
const go = (state: AgentState, ...effects: TurnEffect[]): TransitionResult => ({ state, effects });

/**
 * The states in which the microphone is (being) held. While a turn is transcribed the
 * microphone stays open: the visitor may go on talking.
 */
export function holdsAudio(state: AgentState): boolean {
  return state === 'loading' || state === 'listening' || state === 'user-speaking' || state === 'transcribing';
}

/** Listening for the visitor: a new turn may start. */
function awaitsSpeech(state: AgentState): boolean {
  return state === 'listening' || state === 'transcribing';
}

export function transition(state: AgentState, input: TurnInput): TransitionResult {
  switch (input.type) {
    case 'start':
      if (state !== 'idle' && state !== 'error') return stay(state);
      return input.voiceInput ? go('loading', { type: 'acquire-audio' }) : stay(state);

    case 'audio-ready':
      return state === 'loading' ? go('listening') : stay(state);

    case 'audio-failed':
      return state === 'loading' ? go('error', { type: 'release-audio' }) : stay(state);

    case 'audio-lost':
      return holdsAudio(state) ? go('error', { type: 'release-audio' }) : stay(state);

    case 'stop':
      return holdsAudio(state) ? go('idle', { type: 'release-audio' }) : go('idle');

    case 'talk-pressed':
      return awaitsSpeech(state) ? go(state, { type: 'begin-manual-turn' }) : stay(state);

    case 'talk-released':
      return awaitsSpeech(state) || state === 'user-speaking' ? go(state, { type: 'end-manual-turn' }) : stay(state);

    case 'speech-start':
      // The visitor may start the next turn while the last one is still being transcribed.
      return awaitsSpeech(state) ? go('user-speaking') : stay(state);

    case 'speech-end':
      if (state !== 'user-speaking') return stay(state);
      return go(input.transcribe ? 'transcribing' : 'listening', { type: 'deliver-turn' });

    case 'transcribed':
      return state === 'transcribing' ? go('listening') : stay(state);

    case 'misfire':
      return stay(state);

    default:
      return assertNever(input);
  }
}

export function assertNever(value: never): never {
  throw new Error(`Unhandled value: ${JSON.stringify(value)}`);
}

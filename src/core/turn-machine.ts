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
  | { readonly type: 'misfire' }
  /** The agent's voice started playing (the first audio of a reply reached the output). */
  | { readonly type: 'speak-start' }
  /** The agent's voice stopped: everything queued was played, or it was interrupted. */
  | { readonly type: 'speak-end' }
  /** A responder (page code or an LLM) is answering the visitor's last turn. */
  | { readonly type: 'reply-start' }
  /** The answer is over: spoken, failed, empty or cancelled (speaking ends with speak-end). */
  | { readonly type: 'reply-end' };

export type TurnEffect =
  /** Load the VAD, open the microphone and start capture. Answer with audio-ready/-failed. */
  | { readonly type: 'acquire-audio' }
  /** Stop capture, release the microphone, AudioContext and VAD worker's stream. */
  | { readonly type: 'release-audio' }
  /** Push-to-talk: open / close a turn in the segmenter regardless of the VAD. */
  | { readonly type: 'begin-manual-turn' }
  | { readonly type: 'end-manual-turn' }
  /** Hand the finished turn's audio on (to `voice-speech-end` listeners and the recognizer). */
  | { readonly type: 'deliver-turn' }
  /** Abandon the answer under way (the visitor started a new turn while it was prepared). */
  | { readonly type: 'cancel-reply' };

/**
 * Facts the machine cannot read from the state alone. `speaking` is entered both with the
 * microphone held (a spoken conversation) and without it (text mode, or `say()` before
 * `start()`); the caller, which executes `acquire-audio` / `release-audio`, knows which.
 */
export interface TurnContext {
  /** The microphone is held: `acquire-audio` ran and `release-audio` has not run since. */
  readonly micHeld: boolean;
}

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

/**
 * The next state and effects. `context` only matters in `speaking` (see
 * {@link TurnContext}); by default it is what the state alone says.
 */
export function transition(
  state: AgentState,
  input: TurnInput,
  context: TurnContext = { micHeld: holdsAudio(state) },
): TransitionResult {
  if (state === 'speaking') return whileSpeaking(input, context);
  if (state === 'thinking') return whileThinking(input, context);
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

    case 'speak-start':
      // While the visitor talks, or while the mic is still opening, their turn comes first:
      // the state says so even if audio plays.
      return state === 'loading' || state === 'user-speaking' ? stay(state) : go('speaking');

    case 'speak-end':
      return stay(state);

    case 'reply-start':
      // The visitor talking again comes first; otherwise the agent is preparing an answer.
      return state === 'listening' || state === 'transcribing' || state === 'idle' || state === 'error'
        ? go('thinking')
        : stay(state);

    case 'reply-end':
      return stay(state);

    default:
      return assertNever(input);
  }
}

/**
 * Waiting for the answer's first audio. Like `speaking`, it is entered with or without
 * the microphone (a spoken or a typed turn). If the visitor starts talking again before
 * any of the answer is heard, their new turn wins and the answer is dropped.
 */
function whileThinking(input: TurnInput, { micHeld }: TurnContext): TransitionResult {
  switch (input.type) {
    case 'speak-start':
      return go('speaking');
    case 'reply-end':
      return go(micHeld ? 'listening' : 'idle');
    case 'stop':
      return micHeld ? go('idle', { type: 'release-audio' }) : go('idle');
    case 'audio-lost':
      return micHeld ? go('error', { type: 'release-audio' }) : stay('thinking');
    case 'speech-start':
      return micHeld ? go('user-speaking', { type: 'cancel-reply' }) : stay('thinking');
    case 'start':
    case 'audio-ready':
    case 'audio-failed':
    case 'talk-pressed':
    case 'talk-released':
    case 'speech-end':
    case 'transcribed':
    case 'misfire':
    case 'speak-end':
    case 'reply-start':
      return stay('thinking');
    default:
      return assertNever(input);
  }
}

/**
 * The agent is talking. With the microphone held, listening resumes when it stops; the
 * VAD keeps running underneath but its events are ignored (no barge-in yet: echo of our
 * own voice must not end the reply).
 */
function whileSpeaking(input: TurnInput, { micHeld }: TurnContext): TransitionResult {
  switch (input.type) {
    case 'speak-end':
      return go(micHeld ? 'listening' : 'idle');
    case 'stop':
      return micHeld ? go('idle', { type: 'release-audio' }) : go('idle');
    case 'audio-lost':
      return micHeld ? go('error', { type: 'release-audio' }) : stay('speaking');
    case 'start':
    case 'audio-ready':
    case 'audio-failed':
    case 'talk-pressed':
    case 'talk-released':
    case 'speech-start':
    case 'speech-end':
    case 'transcribed':
    case 'misfire':
    case 'speak-start':
    case 'reply-start':
    case 'reply-end':
      return stay('speaking');
    default:
      return assertNever(input);
  }
}

export function assertNever(value: never): never {
  throw new Error(`Unhandled value: ${JSON.stringify(value)}`);
}

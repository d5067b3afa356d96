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

import type { VadEvent } from '../platform/protocol.ts';

/** A finished turn as the VAD closed it: its audio and timing travel with the input and effect. */
export type EndedTurn = Extract<VadEvent, { type: 'speech-end' }>;

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
  /**
   * The microphone went away but nothing failed: its track ended (unplugged, revoked,
   * stopped from outside: `ended`), or another element on the page took it (`taken`).
   * Listening stops; turns already captured are still transcribed and answered.
   */
  | { readonly type: 'mic-lost'; readonly reason: 'ended' | 'taken' }
  /** `stop()` was called (or the element left the DOM). */
  | { readonly type: 'stop' }
  /** Push-to-talk: the talk control was pressed / released. */
  | { readonly type: 'talk-pressed' }
  | { readonly type: 'talk-released' }
  /** The VAD confirmed that the visitor is speaking. */
  | { readonly type: 'speech-start' }
  /**
   * The visitor is talking over the agent's answer: sustained speech that the echo gate
   * did not put down to the agent's own voice. Sent only while `interruptions` are on.
   */
  | { readonly type: 'barge-in' }
  /** A transcript (partial or final) of the turn spoken over a held answer has words. */
  | { readonly type: 'words-heard' }
  /**
   * The VAD closed the visitor's turn (its audio travels beside this input). `transcribe`:
   * a speech recognizer will turn it into text (state `transcribing` until `transcribed`).
   */
  | { readonly type: 'speech-end'; readonly transcribe: boolean; readonly turn: EndedTurn }
  /** The final transcript of the last turn is out (or the turn had no words). */
  | { readonly type: 'transcribed' }
  /** The VAD dropped a would-be turn as a misfire. */
  | { readonly type: 'misfire' }
  /**
   * The detector's worker was lost and replaced: the turn it held (if any) is gone with it,
   * and no speech-end will come for it.
   */
  | { readonly type: 'turn-lost' }
  /** The agent's voice started playing (the first audio of a reply reached the output). */
  | { readonly type: 'speak-start' }
  /** The agent's voice stopped: everything queued was played, or it was interrupted. */
  | { readonly type: 'speak-end' }
  /**
   * A responder (page code or an LLM) is answering the visitor's last turn; `spoken`: a
   * spoken one (a newer spoken turn already under way then holds the answer).
   */
  | { readonly type: 'reply-start'; readonly spoken?: boolean }
  /** The answer is over: spoken, failed, empty or cancelled (speaking ends with speak-end). */
  | { readonly type: 'reply-end' };

export type TurnEffect =
  /** Load the VAD, open the microphone and start capture. Answer with audio-ready/-failed. */
  | { readonly type: 'acquire-audio' }
  /**
   * Stop capture, release the microphone, AudioContext and VAD worker's stream.
   * `finishTurns`: turns already handed to the recognizer still get their transcripts
   * (and answers); without it they are dropped.
   */
  | { readonly type: 'release-audio'; readonly finishTurns?: boolean }
  /** Push-to-talk: open / close a turn in the segmenter regardless of the VAD. */
  | { readonly type: 'begin-manual-turn' }
  | { readonly type: 'end-manual-turn' }
  /** Hand the finished turn's audio on (to `voice-speech-end` listeners and the recognizer). */
  | { readonly type: 'deliver-turn'; readonly turn: EndedTurn }
  /**
   * Pause the answer (its audio fades out and waits; the responder keeps going): the
   * visitor may be interrupting, or may only have coughed.
   */
  | { readonly type: 'hold-reply' }
  /** The held answer goes on where it paused: the visitor's turn had no words. */
  | { readonly type: 'resume-reply' }
  /**
   * Abandon the answer: stop its audio, abort its responder, record only what was heard
   * (`interrupted: true`). The visitor's new turn takes over.
   */
  | { readonly type: 'drop-reply' };

/**
 * Facts the machine cannot read from the state alone. `speaking` is entered both with the
 * microphone held (a spoken conversation) and without it (text mode, or `say()` before
 * `start()`); the caller, which executes `acquire-audio` / `release-audio`, knows which.
 */
export interface TurnContext {
  /** The microphone is held: `acquire-audio` ran and `release-audio` has not run since. */
  readonly micHeld: boolean;
  /** Speech over the agent's answer interrupts it (the `interruptions` attribute). Default true. */
  readonly interruptions?: boolean;
  /** An answer is held (`hold-reply` ran; no `resume-reply` / `drop-reply` since). Default false. */
  readonly replyHeld?: boolean;
  /**
   * What the (held) answer is doing: its audio is playing or queued (`speaking`), its
   * responder is still working with nothing queued (`thinking`), or it is over (`none`).
   * Decides where a resumed answer goes. Default `none`.
   */
  readonly replyActivity?: 'speaking' | 'thinking' | 'none';
}

export interface TransitionResult {
  readonly state: AgentState;
  readonly effects: readonly TurnEffect[];
}

const stay = (state: AgentState): TransitionResult => ({ state, effects: [] });
/** Lets go of the microphone but keeps the turns already captured. */
const FINISHING_RELEASE: TurnEffect = { type: 'release-audio', finishTurns: true };
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
  if (context.replyHeld) {
    const held = whileHeld(state, input, context);
    if (held) return held;
  }
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

    case 'mic-lost':
      // Taken by another element: not a failure, this one just stops listening.
      return holdsAudio(state) ? go(input.reason === 'taken' ? 'idle' : 'error', FINISHING_RELEASE) : stay(state);

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
      return go(input.transcribe ? 'transcribing' : 'listening', { type: 'deliver-turn', turn: input.turn });

    case 'transcribed':
      return state === 'transcribing' ? go('listening') : stay(state);

    case 'turn-lost':
      return state === 'user-speaking' ? go('listening') : stay(state);

    case 'misfire':
    case 'barge-in':
    case 'words-heard':
      return stay(state);

    case 'speak-start':
      // While the visitor talks, or while the mic is still opening, their turn comes first:
      // the state says so even if audio plays.
      return state === 'loading' || state === 'user-speaking' ? stay(state) : go('speaking');

    case 'speak-end':
      return stay(state);

    case 'reply-start':
      // An answer to a spoken turn while the visitor is already on a newer one (talking, or
      // that turn still being transcribed — the answer's own turn was transcribed before it
      // started): it waits, held, for the newer turn's words to drop it (or for none, to
      // let it play), as if the visitor had talked over it.
      if (input.spoken && (state === 'user-speaking' || state === 'transcribing') && interrupting(context.micHeld, context)) {
        return context.replyHeld ? stay(state) : go(state, { type: 'hold-reply' });
      }
      // Otherwise the agent is preparing an answer.
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
function whileThinking(input: TurnInput, context: TurnContext): TransitionResult {
  const { micHeld } = context;
  switch (input.type) {
    case 'speak-start':
      return go('speaking');
    case 'reply-end':
      return go(micHeld ? 'listening' : 'idle');
    case 'stop':
      return micHeld ? go('idle', { type: 'release-audio' }) : go('idle');
    case 'audio-lost':
      return micHeld ? go('error', { type: 'release-audio' }) : stay('thinking');
    case 'mic-lost':
      // The answer goes on; afterwards the agent is idle (no microphone).
      return micHeld ? go('thinking', FINISHING_RELEASE) : stay('thinking');
    case 'speech-start':
    case 'barge-in':
      return interrupting(micHeld, context) ? go('user-speaking', { type: 'hold-reply' }) : stay('thinking');
    case 'start':
    case 'audio-ready':
    case 'audio-failed':
    case 'talk-pressed':
    case 'talk-released':
    case 'speech-end':
    case 'transcribed':
    case 'misfire':
    case 'turn-lost':
    case 'words-heard':
    case 'speak-end':
    case 'reply-start':
      return stay('thinking');
    default:
      return assertNever(input);
  }
}

/**
 * The agent is talking. With the microphone held, listening resumes when it stops. The
 * VAD keeps running underneath; only `barge-in` (sustained speech that the echo gate let
 * through) takes the turn back: the answer is held until the visitor's words decide.
 * Plain VAD events are ignored here, since they may be the agent's own voice.
 */
function whileSpeaking(input: TurnInput, context: TurnContext): TransitionResult {
  const { micHeld } = context;
  switch (input.type) {
    case 'barge-in':
      return interrupting(micHeld, context) ? go('user-speaking', { type: 'hold-reply' }) : stay('speaking');
    case 'speak-end':
      // Played all it had, but the answer is still coming (the LLM is slower than speech):
      // back to thinking, not to listening, so the state does not flicker between clauses.
      if (context.replyActivity === 'thinking') return go('thinking');
      return go(micHeld ? 'listening' : 'idle');
    case 'stop':
      return micHeld ? go('idle', { type: 'release-audio' }) : go('idle');
    case 'audio-lost':
      return micHeld ? go('error', { type: 'release-audio' }) : stay('speaking');
    case 'mic-lost':
      return micHeld ? go('speaking', FINISHING_RELEASE) : stay('speaking');
    case 'start':
    case 'audio-ready':
    case 'audio-failed':
    case 'talk-pressed':
    case 'talk-released':
    case 'speech-start':
    case 'speech-end':
    case 'transcribed':
    case 'misfire':
    case 'turn-lost':
    case 'words-heard':
    case 'speak-start':
    case 'reply-start':
    case 'reply-end':
      return stay('speaking');
    default:
      return assertNever(input);
  }
}

/** Speech may interrupt the answer: the mic is ours and `interruptions` are on. */
function interrupting(micHeld: boolean, context: TurnContext): boolean {
  return micHeld && context.interruptions !== false;
}

/**
 * An answer is held while the visitor talks over it (`user-speaking`, then `transcribing`).
 * Words in the visitor's turn drop it; a turn that ends with none (a cough, a misfire)
 * resumes it. Returns null for inputs handled as usual.
 */
function whileHeld(state: AgentState, input: TurnInput, context: TurnContext): TransitionResult | null {
  const resume = (): TransitionResult => {
    const activity = context.replyActivity ?? 'none';
    return go(activity === 'none' ? 'listening' : activity, { type: 'resume-reply' });
  };
  switch (input.type) {
    case 'words-heard':
      return go(state, { type: 'drop-reply' });
    case 'speak-start':
      // The held answer's audio waits unheard (it may be its first: the visitor went on
      // talking before it began); the visitor's turn is still the state.
      return stay(state);
    case 'misfire':
    case 'turn-lost':
      return state === 'user-speaking' ? resume() : null;
    case 'transcribed':
      return state === 'transcribing' ? resume() : null;
    case 'speech-end':
      // Without a recognizer there are no words to wait for: confirmed speech is the interruption.
      if (state !== 'user-speaking' || input.transcribe) return null;
      return go('listening', { type: 'deliver-turn', turn: input.turn }, { type: 'drop-reply' });
    case 'audio-lost':
      return go('error', { type: 'release-audio' }, { type: 'drop-reply' });
    case 'mic-lost': {
      // The held answer plays on (releasing the audio resumes it); words still to come
      // from the visitor's captured turn replace it as any newer turn does.
      const activity = context.replyActivity ?? 'none';
      return go(activity !== 'none' ? activity : input.reason === 'taken' ? 'idle' : 'error', FINISHING_RELEASE);
    }
    default:
      return null;
  }
}

/** Facts about the answer that only its owners know, read at each input. */
export interface AnswerFacts {
  /** Speech over an answer interrupts it (the `interruptions` attribute). */
  readonly interruptions: boolean;
  /** See {@link TurnContext.replyActivity}. */
  readonly replyActivity: 'speaking' | 'thinking' | 'none';
}

/** The result of {@link TurnMachine.fire}. */
export interface FiredTransition extends TransitionResult {
  readonly previous: AgentState;
  /** The answer was held before this input (a `release-audio` should let it play on). */
  readonly wasHeld: boolean;
}

/**
 * All of one conversation's turn state around the pure {@link transition} table: the
 * state, whether the microphone and a held answer are ours, and the VAD's open turn (its
 * id, whether it is confirmed, whether the recognizer has it). The session feeds it inputs
 * and carries out the effects; nothing else keeps turn state.
 */
export class TurnMachine {
  state: AgentState = 'idle';
  /** `acquire-audio` ran and `release-audio` has not since. */
  micHeld = false;
  /** `hold-reply` ran and no `resume-reply` / `drop-reply` / `release-audio` since. */
  replyHeld = false;
  /** Id of the VAD's current (or last) confirmed turn. */
  lastTurnId = 0;
  /**
   * Turns up to this id were spoken before the current hold: their words do not drop the
   * held answer. Set by every `hold-reply`.
   */
  heldAfterTurnId = 0;
  /** Turns handed to the recognizer whose final transcript has not come yet. */
  readonly turnsAwaitingTranscript = new Set<number>();
  /** The VAD's open turn (speech-onset seen, no end or misfire since), or null. */
  vadTurn: { confirmed: boolean; startMs: number; recognized: boolean } | null = null;

  fire(input: TurnInput, facts: AnswerFacts): FiredTransition {
    const previous = this.state;
    const wasHeld = this.replyHeld;
    const result = transition(previous, input, {
      micHeld: this.micHeld,
      interruptions: facts.interruptions,
      replyHeld: this.replyHeld,
      replyActivity: facts.replyActivity,
    });
    for (const effect of result.effects) {
      if (effect.type === 'acquire-audio') this.micHeld = true;
      if (effect.type === 'release-audio') {
        this.micHeld = false;
        this.replyHeld = false;
        this.vadTurn = null;
      }
      if (effect.type === 'hold-reply') {
        this.replyHeld = true;
        this.heldAfterTurnId = this.oldestTurnWithoutWords() - 1;
      }
      if (effect.type === 'resume-reply' || effect.type === 'drop-reply') this.replyHeld = false;
    }
    this.state = result.state;
    return { ...result, previous, wasHeld };
  }

  /** The VAD saw the first speech frame of a turn. */
  openVadTurn(): void {
    this.vadTurn ??= { confirmed: false, startMs: 0, recognized: false };
  }

  /** The VAD confirmed the open turn (speech-start): it gets the next turn id. */
  confirmVadTurn(startMs: number): number {
    this.vadTurn = { confirmed: true, startMs, recognized: false };
    return ++this.lastTurnId;
  }

  /**
   * Hands the confirmed VAD turn to the recognizer if it is the visitor's (state
   * `user-speaking`, not an answer's echo) and not handed over yet. Returns the turn id, or null.
   */
  recognizeVadTurn(): number | null {
    const turn = this.vadTurn;
    if (!turn?.confirmed || turn.recognized || this.state !== 'user-speaking') return null;
    turn.recognized = true;
    return this.lastTurnId;
  }

  /** The recognizer has the open turn. */
  get recognizing(): boolean {
    return this.vadTurn?.recognized ?? false;
  }

  /**
   * The oldest turn whose words have not all come: one still being transcribed, else the
   * confirmed open turn, else the next to be confirmed (a barge-in on speech the VAD has not
   * confirmed yet). Its words, or a later turn's, drop an answer held now: the answer was
   * written without them.
   */
  private oldestTurnWithoutWords(): number {
    const spoken = this.vadTurn?.confirmed ? this.lastTurnId : this.lastTurnId + 1;
    return Math.min(spoken, ...this.turnsAwaitingTranscript);
  }

  closeVadTurn(): void {
    this.vadTurn = null;
  }
}

export function assertNever(value: never): never {
  throw new Error(`Unhandled value: ${JSON.stringify(value)}`);
}

import { describe, expect, it } from 'vitest';
import { AGENT_STATES, holdsAudio, transition, TurnMachine, type AgentState, type EndedTurn, type TurnEffect, type TurnInput } from './turn-machine.ts';

/** A turn's audio as the VAD hands it over: the machine only carries it to `deliver-turn`. */
const TURN: EndedTurn = {
  type: 'speech-end',
  audio: new Float32Array(16),
  lastSpeechSample: 16,
  startMs: 0,
  endMs: 1,
  lastSpeechMs: 1,
  speechMs: 1,
  emittedAt: 0,
};
const INPUTS: readonly TurnInput[] = [
  { type: 'start', voiceInput: true },
  { type: 'start', voiceInput: false },
  { type: 'audio-ready' },
  { type: 'audio-failed' },
  { type: 'audio-lost' },
  { type: 'mic-lost', reason: 'ended' },
  { type: 'mic-lost', reason: 'taken' },
  { type: 'stop' },
  { type: 'talk-pressed' },
  { type: 'talk-released' },
  { type: 'speech-start' },
  { type: 'speech-end', transcribe: false, turn: TURN },
  { type: 'speech-end', transcribe: true, turn: TURN },
  { type: 'transcribed' },
  { type: 'misfire' },
  { type: 'turn-lost' },
];

const key = (input: TurnInput) =>
  input.type === 'start'
    ? `start(voice=${input.voiceInput})`
    : input.type === 'speech-end'
      ? `speech-end(transcribe=${input.transcribe})`
      : input.type === 'mic-lost'
        ? `mic-lost(${input.reason})`
        : input.type;
/** `release-audio` that keeps the turns already captured. */
const FINISHING: TurnEffect[] = [{ type: 'release-audio', finishTurns: true }];
/** Losing the microphone in a listening state: `error` when it ended, `idle` when another element took it. */
const MIC_LOST: Record<string, [AgentState, TurnEffect[]]> = {
  'mic-lost(ended)': ['error', FINISHING],
  'mic-lost(taken)': ['idle', FINISHING],
};
const effects = (...types: TurnEffect['type'][]): TurnEffect[] =>
  types.map((type) => (type === 'deliver-turn' ? { type, turn: TURN } : ({ type } as TurnEffect)));

/**
 * The whole table, written out by hand: every (state, input) pair that does something.
 * Any pair not listed must leave the state unchanged with no effects.
 */
const EXPECTED: Partial<Record<AgentState, Record<string, [AgentState, TurnEffect[]]>>> = {
  idle: {
    'start(voice=true)': ['loading', effects('acquire-audio')],
    stop: ['idle', []],
  },
  error: {
    'start(voice=true)': ['loading', effects('acquire-audio')],
    stop: ['idle', []],
  },
  loading: {
    ...MIC_LOST,
    'audio-ready': ['listening', []],
    'audio-failed': ['error', effects('release-audio')],
    'audio-lost': ['error', effects('release-audio')],
    stop: ['idle', effects('release-audio')],
  },
  listening: {
    ...MIC_LOST,
    'audio-lost': ['error', effects('release-audio')],
    stop: ['idle', effects('release-audio')],
    'talk-pressed': ['listening', effects('begin-manual-turn')],
    'talk-released': ['listening', effects('end-manual-turn')],
    'speech-start': ['user-speaking', []],
  },
  'user-speaking': {
    ...MIC_LOST,
    'audio-lost': ['error', effects('release-audio')],
    stop: ['idle', effects('release-audio')],
    'talk-released': ['user-speaking', effects('end-manual-turn')],
    'speech-end(transcribe=false)': ['listening', effects('deliver-turn')],
    'speech-end(transcribe=true)': ['transcribing', effects('deliver-turn')],
    'turn-lost': ['listening', []],
  },
  transcribing: {
    ...MIC_LOST,
    'audio-lost': ['error', effects('release-audio')],
    stop: ['idle', effects('release-audio')],
    'talk-pressed': ['transcribing', effects('begin-manual-turn')],
    'talk-released': ['transcribing', effects('end-manual-turn')],
    'speech-start': ['user-speaking', []],
    transcribed: ['listening', []],
  },
  thinking: { stop: ['idle', []] },
  speaking: { stop: ['idle', []] },
};

describe('transition', () => {
  for (const state of AGENT_STATES) {
    for (const input of INPUTS) {
      const expected = EXPECTED[state]?.[key(input)] ?? [state, []];
      it(`${state} + ${key(input)} → ${expected[0]}${expected[1].length ? ` [${expected[1].map((e) => e.type).join(', ')}]` : ''}`, () => {
        const result = transition(state, input);
        expect(result.state).toBe(expected[0]);
        expect(result.effects).toEqual(expected[1]);
      });
    }
  }

  it('lists every state exactly once', () => {
    expect(new Set(AGENT_STATES).size).toBe(AGENT_STATES.length);
    expect(AGENT_STATES).toHaveLength(8);
  });

  it('runs a whole hands-free session', () => {
    const script: TurnInput[] = [
      { type: 'start', voiceInput: true },
      { type: 'audio-ready' },
      { type: 'speech-start' },
      { type: 'speech-end', transcribe: false, turn: TURN },
      { type: 'misfire' },
      { type: 'speech-start' },
      { type: 'speech-end', transcribe: true, turn: TURN },
      { type: 'speech-start' }, // the visitor goes on while the last turn is transcribed
      { type: 'transcribed' }, // …so its transcript does not change the state
      { type: 'speech-end', transcribe: true, turn: TURN },
      { type: 'transcribed' },
      { type: 'speech-start' },
      { type: 'stop' },
      { type: 'speech-end', transcribe: false, turn: TURN }, // a late VAD event after stop is ignored
    ];
    let state: AgentState = 'idle';
    const seen: string[] = [];
    for (const input of script) {
      const result = transition(state, input);
      state = result.state;
      seen.push(`${state}${result.effects.map((e) => `+${e.type}`).join('')}`);
    }
    expect(seen).toEqual([
      'loading+acquire-audio',
      'listening',
      'user-speaking',
      'listening+deliver-turn',
      'listening',
      'user-speaking',
      'transcribing+deliver-turn',
      'user-speaking',
      'user-speaking',
      'transcribing+deliver-turn',
      'listening',
      'user-speaking',
      'idle+release-audio',
      'idle',
    ]);
  });

  it('never acquires audio twice without releasing it in between', () => {
    // Random walks over the input alphabet: acquire/release must alternate.
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let walk = 0; walk < 200; walk++) {
      let state: AgentState = 'idle';
      let held = false;
      for (let step = 0; step < 40; step++) {
        const input = INPUTS[Math.floor(random() * INPUTS.length)]!;
        const result = transition(state, input);
        for (const effect of result.effects) {
          if (effect.type === 'acquire-audio') {
            expect(held).toBe(false);
            held = true;
          }
          if (effect.type === 'release-audio') {
            expect(held).toBe(true);
            held = false;
          }
        }
        state = result.state;
        expect(holdsAudio(state)).toBe(held);
      }
    }
  });
});

describe('holdsAudio', () => {
  it('is true exactly while loading, listening, hearing or transcribing the visitor', () => {
    expect(AGENT_STATES.filter(holdsAudio)).toEqual(['loading', 'listening', 'user-speaking', 'transcribing']);
  });
});

describe('speaking (speak-start / speak-end)', () => {
  const SPEAK_INPUTS: readonly TurnInput[] = [
    ...INPUTS,
    { type: 'speak-start' },
    { type: 'speak-end' },
    { type: 'reply-start' },
    { type: 'reply-end' },
  ];

  it('enters speaking from every state where the agent may talk, and nowhere else', () => {
    const entered = AGENT_STATES.filter((state) => transition(state, { type: 'speak-start' }).state === 'speaking');
    expect(entered).toEqual(['idle', 'listening', 'transcribing', 'thinking', 'speaking', 'error']);
    for (const state of AGENT_STATES) expect(transition(state, { type: 'speak-start' }).effects).toEqual([]);
  });

  it('resumes listening after speaking when the mic was held, else goes idle', () => {
    expect(transition('speaking', { type: 'speak-end' }, { micHeld: true })).toEqual({ state: 'listening', effects: [] });
    expect(transition('speaking', { type: 'speak-end' }, { micHeld: false })).toEqual({ state: 'idle', effects: [] });
    expect(transition('speaking', { type: 'speak-end' })).toEqual({ state: 'idle', effects: [] });
  });

  it('speak-end outside speaking changes nothing (a late end after stop())', () => {
    for (const state of AGENT_STATES.filter((s) => s !== 'speaking')) {
      expect(transition(state, { type: 'speak-end' })).toEqual({ state, effects: [] });
    }
  });

  it('releases a held mic when stopped or when the mic is lost while speaking', () => {
    expect(transition('speaking', { type: 'stop' }, { micHeld: true })).toEqual({
      state: 'idle',
      effects: [{ type: 'release-audio' }],
    });
    expect(transition('speaking', { type: 'audio-lost' }, { micHeld: true })).toEqual({
      state: 'error',
      effects: [{ type: 'release-audio' }],
    });
    expect(transition('speaking', { type: 'audio-lost' }, { micHeld: false })).toEqual({ state: 'speaking', effects: [] });
  });

  it('lets go of a lost or taken mic while answering, and the answer goes on', () => {
    for (const state of ['speaking', 'thinking'] as const) {
      for (const reason of ['ended', 'taken'] as const) {
        expect(transition(state, { type: 'mic-lost', reason }, { micHeld: true })).toEqual({ state, effects: FINISHING });
        expect(transition(state, { type: 'mic-lost', reason }, { micHeld: false })).toEqual({ state, effects: [] });
      }
    }
  });

  it('a mic lost while the visitor talks over a held answer lets the answer play on', () => {
    const held = { micHeld: true, replyHeld: true } as const;
    for (const state of ['user-speaking', 'transcribing'] as const) {
      expect(transition(state, { type: 'mic-lost', reason: 'ended' }, { ...held, replyActivity: 'speaking' })).toEqual({
        state: 'speaking',
        effects: FINISHING,
      });
      expect(transition(state, { type: 'mic-lost', reason: 'ended' }, { ...held, replyActivity: 'thinking' })).toEqual({
        state: 'thinking',
        effects: FINISHING,
      });
      expect(transition(state, { type: 'mic-lost', reason: 'taken' }, { ...held, replyActivity: 'none' })).toEqual({
        state: 'idle',
        effects: FINISHING,
      });
    }
  });

  it('ignores VAD and push-to-talk input while speaking (no barge-in yet)', () => {
    const inputs: TurnInput[] = [
      { type: 'speech-start' },
      { type: 'speech-end', transcribe: true, turn: TURN },
      { type: 'transcribed' },
      { type: 'misfire' },
      { type: 'talk-pressed' },
      { type: 'talk-released' },
      { type: 'speak-start' },
    ];
    for (const input of inputs) {
      expect(transition('speaking', input, { micHeld: true })).toEqual({ state: 'speaking', effects: [] });
    }
  });

  it('runs a spoken conversation: listen, answer, listen again, answer, stop', () => {
    const script: TurnInput[] = [
      { type: 'start', voiceInput: true },
      { type: 'audio-ready' },
      { type: 'speech-start' },
      { type: 'speech-end', transcribe: true, turn: TURN },
      { type: 'speak-start' },
      { type: 'speech-start' }, // our own voice through the mic: ignored
      { type: 'transcribed' }, // the final transcript lands while the agent talks: ignored
      { type: 'speak-end' },
      { type: 'speak-start' },
      { type: 'stop' },
      { type: 'speak-end' }, // the interrupted reply reports its end after stop(): ignored
    ];
    let state: AgentState = 'idle';
    let micHeld = false;
    const seen: string[] = [];
    for (const input of script) {
      const result = transition(state, input, { micHeld });
      for (const effect of result.effects) {
        if (effect.type === 'acquire-audio') micHeld = true;
        if (effect.type === 'release-audio') micHeld = false;
      }
      state = result.state;
      seen.push(`${state}${result.effects.map((e) => `+${e.type}`).join('')}`);
    }
    expect(seen).toEqual([
      'loading+acquire-audio',
      'listening',
      'user-speaking',
      'transcribing+deliver-turn',
      'speaking',
      'speaking',
      'speaking',
      'listening',
      'speaking',
      'idle+release-audio',
      'idle',
    ]);
  });

  it('thinking: the answer\'s first audio → speaking; no answer → back to listening (or idle without the mic)', () => {
    expect(transition('listening', { type: 'reply-start' })).toEqual({ state: 'thinking', effects: [] });
    expect(transition('transcribing', { type: 'reply-start' })).toEqual({ state: 'thinking', effects: [] });
    expect(transition('idle', { type: 'reply-start' })).toEqual({ state: 'thinking', effects: [] });
    expect(transition('user-speaking', { type: 'reply-start' })).toEqual({ state: 'user-speaking', effects: [] });
    expect(transition('thinking', { type: 'speak-start' }, { micHeld: true }).state).toBe('speaking');
    expect(transition('thinking', { type: 'reply-end' }, { micHeld: true })).toEqual({ state: 'listening', effects: [] });
    expect(transition('thinking', { type: 'reply-end' }, { micHeld: false })).toEqual({ state: 'idle', effects: [] });
    expect(transition('thinking', { type: 'stop' }, { micHeld: true })).toEqual({ state: 'idle', effects: effects('release-audio') });
    // The visitor talks again before any answer is heard: the answer waits for their words.
    expect(transition('thinking', { type: 'speech-start' }, { micHeld: true })).toEqual({
      state: 'user-speaking',
      effects: effects('hold-reply'),
    });
    // With interruptions off, the answer goes on.
    expect(transition('thinking', { type: 'speech-start' }, { micHeld: true, interruptions: false })).toEqual({
      state: 'thinking',
      effects: [],
    });
    expect(transition('speaking', { type: 'reply-end' }, { micHeld: true }).state).toBe('speaking');
    // Between two clauses of an answer still streaming: thinking, not listening.
    expect(transition('speaking', { type: 'speak-end' }, { micHeld: true, replyActivity: 'thinking' }).state).toBe('thinking');
    expect(transition('speaking', { type: 'speak-end' }, { micHeld: true, replyActivity: 'none' }).state).toBe('listening');
  });

  it('keeps acquire/release balanced and the mic held exactly when it should be, speaking included', () => {
    let seed = 11;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let spokeWithMic = 0;
    for (let walk = 0; walk < 300; walk++) {
      let state: AgentState = 'idle';
      let held = false;
      for (let step = 0; step < 50; step++) {
        const input = SPEAK_INPUTS[Math.floor(random() * SPEAK_INPUTS.length)]!;
        const wasSpeaking = state === 'speaking' || state === 'thinking';
        const result = transition(state, input, { micHeld: held });
        for (const effect of result.effects) {
          if (effect.type === 'acquire-audio') {
            expect(held).toBe(false);
            held = true;
          }
          if (effect.type === 'release-audio') {
            expect(held).toBe(true);
            held = false;
          }
        }
        // Leaving speaking/thinking lands in listening (or the visitor's new turn) exactly
        // when the mic is still held.
        const answering = (s: AgentState) => s === 'speaking' || s === 'thinking';
        if (wasSpeaking && !answering(result.state) && result.state !== 'idle' && result.state !== 'error') {
          expect(['listening', 'user-speaking']).toContain(result.state);
          expect(held).toBe(true);
        }
        state = result.state;
        if (answering(state)) {
          if (held) spokeWithMic++;
        } else {
          expect(holdsAudio(state)).toBe(held);
        }
      }
    }
    expect(spokeWithMic).toBeGreaterThan(0); // the walk did reach speaking with the mic held
  });

  describe('barge-in', () => {
    const held = (replyActivity: 'speaking' | 'thinking' | 'none') => ({ micHeld: true, replyHeld: true, replyActivity });

    it('speech over the agent holds the answer; plain VAD events while speaking do not', () => {
      expect(transition('speaking', { type: 'barge-in' }, { micHeld: true })).toEqual({
        state: 'user-speaking',
        effects: effects('hold-reply'),
      });
      expect(transition('thinking', { type: 'barge-in' }, { micHeld: true })).toEqual({
        state: 'user-speaking',
        effects: effects('hold-reply'),
      });
      // Echo of our own voice may reach the VAD: only the gated barge-in counts.
      expect(transition('speaking', { type: 'speech-start' }, { micHeld: true })).toEqual({ state: 'speaking', effects: [] });
      // interruptions="off", or no microphone (say() in text mode): nothing to interrupt with.
      expect(transition('speaking', { type: 'barge-in' }, { micHeld: true, interruptions: false }).state).toBe('speaking');
      expect(transition('speaking', { type: 'barge-in' }, { micHeld: false }).state).toBe('speaking');
      expect(transition('listening', { type: 'barge-in' }).state).toBe('listening');
    });

    it('an answer to a spoken turn that starts while the visitor is on a newer one is held', () => {
      const visitorOnNewer = { micHeld: true } as const;
      expect(transition('user-speaking', { type: 'reply-start', spoken: true }, visitorOnNewer)).toEqual({
        state: 'user-speaking',
        effects: effects('hold-reply'),
      });
      // The newer turn ended and is being transcribed (the answer's own turn was transcribed first).
      expect(transition('transcribing', { type: 'reply-start', spoken: true }, visitorOnNewer)).toEqual({
        state: 'transcribing',
        effects: effects('hold-reply'),
      });
      // Already held (a barge-in): nothing more to do.
      expect(transition('transcribing', { type: 'reply-start', spoken: true }, held('thinking'))).toEqual({ state: 'transcribing', effects: [] });
      // A typed turn's answer, interruptions="off", or no microphone: no hold.
      expect(transition('transcribing', { type: 'reply-start' }, visitorOnNewer).state).toBe('thinking');
      expect(transition('user-speaking', { type: 'reply-start' }, visitorOnNewer)).toEqual({ state: 'user-speaking', effects: [] });
      expect(transition('transcribing', { type: 'reply-start', spoken: true }, { micHeld: true, interruptions: false }).state).toBe('thinking');
      expect(transition('transcribing', { type: 'reply-start', spoken: true }, { micHeld: false }).state).toBe('thinking');
      // Listening: the visitor is not on a newer turn; the agent prepares the answer.
      expect(transition('listening', { type: 'reply-start', spoken: true }, visitorOnNewer)).toEqual({ state: 'thinking', effects: [] });
    });

    it('a held answer\'s first audio does not take the state from the visitor\'s turn (it waits unheard)', () => {
      // The visitor went on talking before the answer began: its audio arrives held.
      expect(transition('transcribing', { type: 'speak-start' }, held('speaking'))).toEqual({ state: 'transcribing', effects: [] });
      expect(transition('user-speaking', { type: 'speak-start' }, held('speaking'))).toEqual({ state: 'user-speaking', effects: [] });
      // Not held: the answer playing is the state.
      expect(transition('transcribing', { type: 'speak-start' })).toEqual({ state: 'speaking', effects: [] });
    });

    it('words in the visitor\'s turn drop the held answer', () => {
      expect(transition('user-speaking', { type: 'words-heard' }, held('speaking'))).toEqual({
        state: 'user-speaking',
        effects: effects('drop-reply'),
      });
      expect(transition('transcribing', { type: 'words-heard' }, held('thinking'))).toEqual({
        state: 'transcribing',
        effects: effects('drop-reply'),
      });
      // Without a held answer, words change nothing.
      expect(transition('transcribing', { type: 'words-heard' })).toEqual({ state: 'transcribing', effects: [] });
      // Without a recognizer the confirmed speech itself is the interruption.
      expect(transition('user-speaking', { type: 'speech-end', transcribe: false, turn: TURN }, held('speaking'))).toEqual({
        state: 'listening',
        effects: effects('deliver-turn', 'drop-reply'),
      });
    });

    it('a turn lost with the detector resumes the answer where it was', () => {
      expect(transition('user-speaking', { type: 'turn-lost' }, held('speaking'))).toEqual({
        state: 'speaking',
        effects: effects('resume-reply'),
      });
    });

    it('a turn with no words (a cough, a misfire) resumes the answer where it was', () => {
      expect(transition('user-speaking', { type: 'misfire' }, held('speaking'))).toEqual({
        state: 'speaking',
        effects: effects('resume-reply'),
      });
      expect(transition('transcribing', { type: 'transcribed' }, held('thinking'))).toEqual({
        state: 'thinking',
        effects: effects('resume-reply'),
      });
      // The answer ended while held (it failed, or was empty): listening again.
      expect(transition('transcribing', { type: 'transcribed' }, held('none'))).toEqual({
        state: 'listening',
        effects: effects('resume-reply'),
      });
      // The turn goes on to the recognizer with the answer still held.
      expect(transition('user-speaking', { type: 'speech-end', transcribe: true, turn: TURN }, held('speaking'))).toEqual({
        state: 'transcribing',
        effects: effects('deliver-turn'),
      });
    });

    it('a full interruption: speaking → held → words → the new turn is answered', () => {
      const steps: [TurnInput, boolean, 'speaking' | 'thinking' | 'none'][] = [
        [{ type: 'barge-in' }, false, 'speaking'],
        [{ type: 'speech-start' }, true, 'speaking'],
        [{ type: 'speech-end', transcribe: true, turn: TURN }, true, 'speaking'],
        [{ type: 'words-heard' }, true, 'speaking'],
        [{ type: 'transcribed' }, false, 'none'],
        [{ type: 'reply-start' }, false, 'thinking'],
      ];
      let state: AgentState = 'speaking';
      const seen: string[] = [];
      for (const [input, replyHeld, replyActivity] of steps) {
        const result = transition(state, input, { micHeld: true, replyHeld, replyActivity });
        state = result.state;
        seen.push(`${state}${result.effects.map((e) => `+${e.type}`).join('')}`);
      }
      expect(seen).toEqual([
        'user-speaking+hold-reply',
        'user-speaking',
        'transcribing+deliver-turn',
        'transcribing+drop-reply',
        'listening',
        'thinking',
      ]);
    });
  });
});

describe('TurnMachine: which turns may drop a held answer', () => {
  const facts = { interruptions: true, replyActivity: 'thinking' } as const;
  /** A machine listening with the microphone held, then one spoken turn ended and transcribed. */
  function afterOneAnsweredTurn(): TurnMachine {
    const machine = new TurnMachine();
    machine.fire({ type: 'start', voiceInput: true }, facts);
    machine.fire({ type: 'audio-ready' }, facts);
    speakTurn(machine);
    transcribed(machine, 1);
    return machine;
  }
  /** The VAD confirms a turn (as the session feeds it). Returns its id. */
  function startTurn(machine: TurnMachine): number {
    machine.openVadTurn();
    const turnId = machine.confirmVadTurn(0);
    machine.fire({ type: 'speech-start' }, facts);
    return turnId;
  }
  /** The VAD confirms a turn and it ends, handed to the recognizer. */
  function speakTurn(machine: TurnMachine): void {
    const turnId = startTurn(machine);
    machine.recognizeVadTurn();
    machine.fire({ type: 'speech-end', transcribe: true, turn: TURN }, facts);
    machine.turnsAwaitingTranscript.add(turnId);
    machine.closeVadTurn();
  }
  /** The recognizer's final words for the turn (as the session feeds them). */
  function transcribed(machine: TurnMachine, turnId: number): void {
    machine.turnsAwaitingTranscript.delete(turnId);
    if (machine.turnsAwaitingTranscript.size === 0) machine.fire({ type: 'transcribed' }, facts);
  }

  it('a barge-in before the VAD confirmed the speech: the turn about to be confirmed drops it', () => {
    const machine = afterOneAnsweredTurn();
    machine.fire({ type: 'reply-start', spoken: true }, facts);
    machine.fire({ type: 'speak-start' }, facts);
    machine.openVadTurn();
    machine.fire({ type: 'barge-in' }, facts);
    expect(machine.replyHeld).toBe(true);
    expect(machine.heldAfterTurnId).toBe(1);
  });

  it('speech confirmed while thinking: that turn drops it', () => {
    const machine = afterOneAnsweredTurn();
    machine.fire({ type: 'reply-start', spoken: true }, facts);
    startTurn(machine);
    expect(machine.replyHeld).toBe(true);
    expect(machine.heldAfterTurnId).toBe(1);
  });

  it('an answer starting while the next turn is spoken, or still transcribed: that turn drops it', () => {
    const talking = afterOneAnsweredTurn();
    startTurn(talking);
    talking.fire({ type: 'reply-start', spoken: true }, facts);
    expect(talking.heldAfterTurnId).toBe(1);

    const transcribing = afterOneAnsweredTurn();
    speakTurn(transcribing);
    expect(transcribing.state).toBe('transcribing');
    transcribing.fire({ type: 'reply-start', spoken: true }, facts);
    expect(transcribing.replyHeld).toBe(true);
    expect(transcribing.heldAfterTurnId).toBe(1);
  });

  it('each hold sets its own bound, not an older one', () => {
    const machine = afterOneAnsweredTurn();
    machine.fire({ type: 'reply-start', spoken: true }, facts);
    startTurn(machine); // held: turn 2 decides
    machine.fire({ type: 'words-heard' }, facts); // dropped
    machine.recognizeVadTurn();
    machine.fire({ type: 'speech-end', transcribe: true, turn: TURN }, facts);
    machine.turnsAwaitingTranscript.add(2);
    machine.closeVadTurn();
    transcribed(machine, 2);
    speakTurn(machine); // turn 3, being transcribed when turn 2's answer starts
    machine.fire({ type: 'reply-start', spoken: true }, facts);
    expect(machine.replyHeld).toBe(true);
    expect(machine.heldAfterTurnId).toBe(2);
  });

  it('a turn still being transcribed behind the one spoken now drops it too', () => {
    // JFK's sentence, cut at its pauses: turn 2 is still with the recognizer when turn 3
    // starts, and turn 1's answer starts then. Turn 2's words come first; they must drop it
    // (were only turn 3's to count, turn 2's end would let the stale answer play).
    const machine = afterOneAnsweredTurn();
    speakTurn(machine);
    startTurn(machine);
    machine.fire({ type: 'reply-start', spoken: true }, facts);
    expect(machine.replyHeld).toBe(true);
    expect(machine.heldAfterTurnId).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import type { ConversationEntry } from '../answering/conversation.ts';
import { VoiceAgentError } from '../platform/errors.ts';
import type { VadEvent } from '../platform/protocol.ts';
import type {
  MicrophonePort,
  RecognizerPort,
  ResponderPort,
  SessionPorts,
  SessionSinks,
  SpeakerPort,
  TurnDetectorPort,
} from './ports.ts';
import { VoiceSession } from './voice-session.ts';

// Every port here is a FAKE: scripted stand-ins that record what the session asks of them
// and let a test report back through the session's sinks as the real controllers would.

class FakeMicrophone implements MicrophonePort {
  opened = 0;
  closed = 0;
  failWith: Error | null = null;
  async open(): Promise<MessagePort> {
    this.opened++;
    if (this.failWith) throw this.failWith;
    return new MessageChannel().port1;
  }
  /** Frame ports handed out by reconnect() (null: capture not running). */
  reconnected = 0;
  capturing = true;
  reconnect(): MessagePort | null {
    if (!this.capturing) return null;
    this.reconnected++;
    return new MessageChannel().port1;
  }
  async close(): Promise<void> {
    this.closed++;
  }
}

class FakeTurnDetector implements TurnDetectorPort {
  readonly calls: string[] = [];
  /** What load() throws (a model that will not load again). */
  failLoadWith: Error | null = null;
  async load(): Promise<void> {
    this.calls.push('load');
    if (this.failLoadWith) throw this.failLoadWith;
  }
  async start(): Promise<void> {
    this.calls.push('start');
  }
  async configure(): Promise<void> {
    this.calls.push('configure');
  }
  async beginManualTurn(): Promise<void> {
    this.calls.push('begin-manual');
  }
  /** What the real detector does when a turn is ended by hand (a test sets it: emit speech-end). */
  onEndManual: () => void = () => {};
  async endManualTurn(): Promise<void> {
    this.calls.push('end-manual');
    this.onEndManual();
  }
  async dropTurn(): Promise<void> {
    this.calls.push('drop');
  }
  async trimTurn(onsetMs: number, keepMs: number): Promise<void> {
    this.calls.push(`trim ${onsetMs} ${keepMs}`);
  }
  dispose(): void {
    this.calls.push('dispose');
  }
}

class FakeRecognizer implements RecognizerPort {
  available = true;
  readonly calls: string[] = [];
  endedAudio: Float32Array | null = null;
  async load(): Promise<boolean> {
    return true;
  }
  beginTurn(turnId: number): void {
    this.calls.push(`begin ${turnId}`);
  }
  appendAudio(turnId: number, audio: Float32Array): void {
    this.calls.push(`append ${turnId} ${audio.length}`);
  }
  /** Set: endTurn reports this final transcript before it returns (a pause job already heard the turn). */
  finalAtEnd: ((turnId: number) => void) | null = null;
  endTurn(turnId: number, audio: Float32Array): void {
    this.calls.push(`end ${turnId}`);
    this.endedAudio = audio;
    this.finalAtEnd?.(turnId);
  }
  dispose(): void {
    this.calls.push('dispose');
  }
}

/** Plays nothing: `finish()` stands for the last sample leaving the speakers. */
class FakeSpeaker implements SpeakerPort {
  isSpeaking = false;
  outputRms = 0.1;
  readonly calls: string[] = [];
  /** What preload() returns: a test can hold it back, as a voice still downloading. */
  preloading: Promise<void> = Promise.resolve();
  preloads = 0;
  constructor(private readonly sinks: () => SessionSinks) {}
  preload(): Promise<void> {
    this.preloads++;
    return this.preloading;
  }
  say(text: string): Promise<void> {
    this.calls.push(`say ${text}`);
    if (!text) return Promise.resolve();
    if (!this.isSpeaking) {
      this.isSpeaking = true;
      this.sinks().speakingChange(true);
    }
    return Promise.resolve();
  }
  finish(): void {
    this.isSpeaking = false;
    this.sinks().speakingChange(false);
  }
  hold(): void {
    this.calls.push('hold');
  }
  resume(): void {
    this.calls.push('resume');
  }
  interrupt(): void {
    this.calls.push('interrupt');
    if (this.isSpeaking) this.finish();
  }
  stop(): void {
    this.calls.push('stop');
    this.interrupt();
  }
  outputLevelBetween(): number {
    return this.isSpeaking ? this.outputRms : 0;
  }
}

/** Answers every turn with `reply` (spoken through the fake speaker), or fails with `failWith`. */
class FakeResponder implements ResponderPort {
  readonly history: ConversationEntry[] = [];
  busy = false;
  reply = 'Hello to you.';
  failWith: VoiceAgentError | null = null;
  readonly turns: string[] = [];
  cancelled = 0;
  private nextTurnId = 0;
  constructor(
    private readonly sinks: () => SessionSinks,
    private readonly speaker: FakeSpeaker,
  ) {}
  preloading: Promise<void> = Promise.resolve();
  preloads = 0;
  preload(): Promise<void> {
    this.preloads++;
    return this.preloading;
  }
  async runTurn(text: string, source: 'speech' | 'text'): Promise<void> {
    this.turns.push(text);
    this.busy = true;
    const turnId = ++this.nextTurnId;
    this.sinks().replyStart(turnId, source);
    this.sinks().firstDelta();
    if (this.failWith) {
      this.sinks().error(this.failWith);
      this.busy = false;
      this.sinks().replyEnd();
      return;
    }
    this.sinks().replyText(this.reply);
    await this.speaker.say(this.reply);
  }
  /** The responder has streamed everything (the speaker may still be playing). */
  complete(): void {
    this.busy = false;
    this.sinks().replyEnd();
  }
  cancel(): void {
    if (!this.busy) return;
    this.cancelled++;
    this.busy = false;
  }
  reset(): void {
    this.cancel();
  }
}

interface Harness {
  session: VoiceSession;
  sinks: SessionSinks;
  mic: FakeMicrophone;
  turns: FakeTurnDetector;
  recognizer: FakeRecognizer;
  speaker: FakeSpeaker;
  responder: FakeResponder;
  events: Event[];
  eventTypes(): string[];
  states(): string[];
}

function harness(): Harness {
  let sinks!: SessionSinks;
  const mic = new FakeMicrophone();
  const turns = new FakeTurnDetector();
  const recognizer = new FakeRecognizer();
  const speaker = new FakeSpeaker(() => sinks);
  const responder = new FakeResponder(() => sinks, speaker);
  const events: Event[] = [];
  const session = new VoiceSession(
    (given): SessionPorts => {
      sinks = given;
      return { microphone: mic, turns, recognizer, speaker, responder };
    },
    { dispatch: (event) => events.push(event), changed: () => {}, level: () => {} },
  );
  session.configure({ debug: true });
  return {
    session,
    sinks,
    mic,
    turns,
    recognizer,
    speaker,
    responder,
    events,
    eventTypes: () => events.map((event) => event.type).filter((type) => type !== 'voice-level'),
    states: () => events.filter((e) => e.type === 'voice-state-change').map((e) => (e as Event & { detail: { state: string } }).detail.state),
  };
}

const at = Date.now();
const vad = {
  onset: (): VadEvent => ({ type: 'speech-onset', startMs: 1000, emittedAt: at }),
  start: (): VadEvent => ({ type: 'speech-start', startMs: 1000, emittedAt: at }),
  audio: (samples = 1024): VadEvent => ({
    type: 'speech-audio',
    audio: new Float32Array(samples),
    offsetSamples: 0,
    trailingSilenceSamples: 0,
    emittedAt: at,
  }),
  end: (samples = 16_000): VadEvent => ({
    type: 'speech-end',
    audio: new Float32Array(samples),
    lastSpeechSample: samples,
    startMs: 1000,
    endMs: 2000,
    lastSpeechMs: 2000,
    speechMs: 900,
    emittedAt: at,
    lastSpeechAt: at,
  }),
  misfire: (): VadEvent => ({ type: 'misfire', startMs: 1000, endMs: 1100, emittedAt: at }),
  sustained: (rms: number): VadEvent => ({
    type: 'speech-sustained',
    onsetMs: 5000,
    atMs: 5160,
    rms,
    emittedAt: Date.now(),
  }),
};

/** Lets the session's promise chains (start(), say()) settle. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Started and listening, then the visitor says one sentence, which the agent answers aloud. */
async function speakingAfterOneTurn(h: Harness): Promise<void> {
  await h.session.start();
  h.sinks.turnEvent(vad.onset());
  h.sinks.turnEvent(vad.start());
  h.sinks.turnEvent(vad.end());
  h.sinks.transcript({ turnId: 1, text: 'What time is it?', final: true, language: 'en' });
  await settle();
  expect(h.session.state).toBe('speaking');
}

/** The agent speaks long enough for the echo gate to learn its coupling (mic = 5 % of output). */
function teachEcho(h: Harness): void {
  for (let i = 0; i < 20; i++) h.sinks.level(h.speaker.outputRms * 0.05);
}

describe('VoiceSession', () => {
  it('runs a whole spoken conversation turn through its ports', async () => {
    const h = harness();
    await h.session.start();
    expect(h.mic.opened).toBe(1);
    expect(h.turns.calls).toEqual(['load', 'start']);
    expect(h.session.state).toBe('listening');

    h.sinks.turnEvent(vad.onset());
    h.sinks.turnEvent(vad.start());
    expect(h.session.state).toBe('user-speaking');
    expect(h.recognizer.calls).toEqual(['begin 1']);
    h.sinks.turnEvent(vad.audio(1024));
    const ended = vad.end(16_000);
    h.sinks.turnEvent(ended);
    expect(h.session.state).toBe('transcribing');
    expect(h.recognizer.calls).toEqual(['begin 1', 'append 1 1024', 'end 1']);
    // The turn's audio travels with its event, to listeners and to the recognizer alike.
    const speechEnd = h.events.find((e) => e.type === 'voice-speech-end') as Event & { detail: { audio: Float32Array } };
    expect(speechEnd.detail.audio).toBe((ended as { audio: Float32Array }).audio);
    expect(h.recognizer.endedAudio).toBe(speechEnd.detail.audio);

    h.sinks.transcript({ turnId: 1, text: 'What time is it?', final: true, language: 'en' });
    await settle();
    expect(h.responder.turns).toEqual(['What time is it?']);
    expect(h.speaker.calls).toEqual(['say Hello to you.']);
    expect(h.session.state).toBe('speaking');
    expect(h.session.display.captions.map((c) => `${c.speaker}: ${c.text}`)).toEqual(['user: What time is it?', 'agent: Hello to you.']);

    h.responder.complete();
    h.speaker.finish();
    expect(h.session.state).toBe('listening');
    expect(h.states()).toEqual(['loading', 'listening', 'user-speaking', 'transcribing', 'listening', 'thinking', 'speaking', 'listening']);
    expect(h.eventTypes()).toEqual([
      'voice-state-change',
      'voice-state-change',
      'voice-state-change',
      'voice-speech-start',
      'voice-state-change',
      'voice-speech-end',
      'voice-transcript',
      'voice-state-change', // listening
      'voice-state-change', // thinking
      'voice-metrics', // measured at the first audio, before the state says so
      'voice-state-change', // speaking
      'voice-state-change', // listening
    ]);
    const metrics = h.events.find((e) => e.type === 'voice-metrics') as Event & { detail: Record<string, unknown> };
    expect(metrics.detail['turnId']).toBe(1);
    expect(metrics.detail['source']).toBe('speech');
    expect(typeof metrics.detail['voiceToVoiceMs']).toBe('number');
  });

  it('answers a turn whose final transcript the recognizer reports while the turn is being handed over', async () => {
    const h = harness();
    h.recognizer.finalAtEnd = (turnId) => h.sinks.transcript({ turnId, text: 'What time is it?', final: true, language: 'en' });
    await h.session.start();
    h.sinks.turnEvent(vad.onset());
    h.sinks.turnEvent(vad.start());
    h.sinks.turnEvent(vad.end());
    await settle();
    expect(h.responder.turns).toEqual(['What time is it?']);
    expect(h.session.state).toBe('speaking');
    h.responder.complete();
    h.speaker.finish();
    expect(h.states()).toEqual(['loading', 'listening', 'user-speaking', 'transcribing', 'listening', 'thinking', 'speaking', 'listening']);
  });

  it('starts loading the voice and the responder on start() without waiting for them', async () => {
    const h = harness();
    const never = new Promise<void>(() => {});
    h.speaker.preloading = never;
    h.responder.preloading = never;
    await h.session.start();
    expect(h.session.state).toBe('listening');
    expect(h.speaker.preloads).toBe(1);
    expect(h.responder.preloads).toBe(1);
  });

  it('holds the answer on a barge-in and resumes it when the turn has no words', async () => {
    const h = harness();
    await speakingAfterOneTurn(h);
    teachEcho(h);
    h.sinks.turnEvent(vad.onset());
    h.sinks.turnEvent(vad.sustained(0.05)); // 10× the learned echo: the visitor
    expect(h.session.state).toBe('user-speaking');
    expect(h.speaker.calls).toContain('hold');
    expect(h.turns.calls.at(-1)).toMatch(/^trim 5000 /);
    h.sinks.turnEvent(vad.misfire()); // a cough
    expect(h.speaker.calls.at(-1)).toBe('resume');
    expect(h.session.state).toBe('speaking');
    expect(h.responder.cancelled).toBe(0);
  });

  it("drops the held answer when the visitor's turn has words", async () => {
    const h = harness();
    await speakingAfterOneTurn(h);
    teachEcho(h);
    h.sinks.turnEvent(vad.onset());
    h.sinks.turnEvent(vad.sustained(0.05));
    h.sinks.turnEvent(vad.start());
    expect(h.recognizer.calls.at(-1)).toBe('begin 2');
    h.sinks.transcript({ turnId: 2, text: 'Stop, wait', final: false, language: 'en' });
    expect(h.speaker.calls).toContain('interrupt');
    expect(h.responder.cancelled).toBe(1);
    h.sinks.turnEvent(vad.end());
    h.sinks.transcript({ turnId: 2, text: 'Stop, wait a moment.', final: true, language: 'en' });
    await settle();
    expect(h.responder.turns).toEqual(['What time is it?', 'Stop, wait a moment.']);
    const outcomes = h.events
      .filter((e) => e.type === 'voice-debug')
      .map((e) => (e as Event & { detail: { outcome?: string } }).detail.outcome);
    expect(outcomes).toEqual(['hold', 'drop']);
  });

  it('puts speech at the level of its own echo down to the echo, and keeps speaking', async () => {
    const h = harness();
    await speakingAfterOneTurn(h);
    teachEcho(h);
    h.sinks.turnEvent(vad.onset());
    h.sinks.turnEvent(vad.sustained(0.006)); // about the learned echo (0.005)
    expect(h.session.state).toBe('speaking');
    expect(h.speaker.calls).not.toContain('hold');
    const echo = h.events.find((e) => e.type === 'voice-debug') as Event & { detail: { outcome: string } };
    expect(echo.detail.outcome).toBe('echo');
    // When the answer ends, the VAD's turn on the agent's own voice is forgotten.
    h.responder.complete();
    h.speaker.finish();
    expect(h.turns.calls.at(-1)).toBe('drop');
  });

  it("does not let the agent's own words, transcribed, drop its held answer", async () => {
    const h = harness();
    await speakingAfterOneTurn(h);
    h.sinks.response({ delta: 'Hello to you.', text: 'Hello to you.' });
    teachEcho(h);
    h.sinks.turnEvent(vad.onset());
    h.sinks.turnEvent(vad.sustained(0.05));
    h.sinks.turnEvent(vad.start());
    h.sinks.turnEvent(vad.end());
    h.sinks.transcript({ turnId: 2, text: 'Hello to you.', final: true, language: 'en' });
    expect(h.responder.cancelled).toBe(0);
    expect(h.speaker.calls.at(-1)).toBe('resume');
    expect(h.session.state).toBe('speaking');
  });

  it('reports a failing responder and goes back to listening', async () => {
    const h = harness();
    h.responder.failWith = new VoiceAgentError('llm-unreachable', 'The LLM could not be reached.');
    await h.session.start();
    h.sinks.turnEvent(vad.onset());
    h.sinks.turnEvent(vad.start());
    h.sinks.turnEvent(vad.end());
    h.sinks.transcript({ turnId: 1, text: 'Hello?', final: true, language: 'en' });
    await settle();
    const error = h.events.find((e) => e.type === 'voice-error') as Event & { detail: { code: string } };
    expect(error.detail.code).toBe('llm-unreachable');
    expect(h.session.display.error?.code).toBe('llm-unreachable');
    expect(h.session.state).toBe('listening');
    const metrics = h.events.find((e) => e.type === 'voice-metrics') as Event & { detail: { firstAudioMs: number | null } };
    expect(metrics.detail.firstAudioMs).toBeNull();
  });

  it('stops mid-turn: releases every resource and ignores late turn events', async () => {
    const h = harness();
    await h.session.start();
    h.sinks.turnEvent(vad.onset());
    h.sinks.turnEvent(vad.start());
    await h.session.stop();
    expect(h.session.state).toBe('idle');
    expect(h.mic.closed).toBeGreaterThanOrEqual(1);
    expect(h.turns.calls.at(-1)).toBe('dispose');
    expect(h.recognizer.calls.at(-1)).toBe('dispose');
    expect(h.speaker.calls).toContain('stop');
    const before = h.events.length;
    h.sinks.turnEvent(vad.end()); // a VAD event already on its way when stop() ran
    expect(h.session.state).toBe('idle');
    expect(h.events.slice(before).some((e) => e.type === 'voice-speech-end')).toBe(false);
    expect(h.recognizer.calls).not.toContain('end 1');
  });

  it('tears down mid-answer (the element left the page): idle, microphone released', async () => {
    const h = harness();
    await speakingAfterOneTurn(h);
    h.session.detach();
    expect(h.session.state).toBe('idle');
    expect(h.turns.calls.at(-1)).toBe('dispose');
    expect(h.session.micHeld).toBe(false);
  });

  it('reports a denied microphone and stays usable for text', async () => {
    const h = harness();
    h.mic.failWith = new VoiceAgentError('mic-permission-denied', 'Microphone access was denied.');
    await h.session.start();
    expect(h.session.state).toBe('error');
    expect(h.session.display.error?.code).toBe('mic-permission-denied');
    h.session.send('typed instead');
    await settle();
    expect(h.responder.turns).toEqual(['typed instead']);
  });

  it('answers without a recognizer by noting the turn, and lets the turn machine skip transcribing', async () => {
    const h = harness();
    h.recognizer.available = false;
    await h.session.start();
    h.sinks.turnEvent(vad.onset());
    h.sinks.turnEvent(vad.start());
    h.sinks.turnEvent(vad.end(32_000));
    expect(h.session.state).toBe('listening');
    expect(h.session.display.captions.at(-1)?.text).toBe('You spoke for 2.0 s');
  });

  describe("the detector's worker is lost while listening", () => {
    const lost = () => new VoiceAgentError('worker-failed', 'The voice activity detector stopped answering (no reply for 8 s).');
    const errorCodes = (h: Harness) =>
      h.events.filter((e) => e.type === 'voice-error').map((e) => (e as Event & { detail: { code: string } }).detail.code);
    const restarts = (h: Harness) =>
      h.events.filter((e) => e.type === 'voice-debug' && (e as Event & { detail: { kind: string } }).detail.kind === 'worker-restarted');

    it('replaces it on the running capture: no error, still listening, the next turn is heard', async () => {
      const h = harness();
      await h.session.start();
      h.turns.calls.length = 0;
      h.sinks.audioLost(lost());
      await settle();
      expect(h.turns.calls).toEqual(['dispose', 'load', 'start']);
      expect(h.mic.reconnected).toBe(1);
      expect(h.mic.opened).toBe(1); // no new permission prompt
      expect(errorCodes(h)).toEqual([]);
      expect(restarts(h)).toHaveLength(1);
      expect(h.session.state).toBe('listening');
      h.sinks.turnEvent(vad.onset());
      h.sinks.turnEvent(vad.start());
      h.sinks.turnEvent(vad.end());
      expect(h.recognizer.calls).toContain('end 1');
    });

    it('mid-turn: the turn died with the worker, so the agent listens again instead of waiting for its end', async () => {
      const h = harness();
      await h.session.start();
      h.sinks.turnEvent(vad.onset());
      h.sinks.turnEvent(vad.start());
      expect(h.session.state).toBe('user-speaking');
      h.sinks.audioLost(lost());
      await settle();
      expect(h.session.state).toBe('listening');
      expect(errorCodes(h)).toEqual([]);
    });

    it('an answer under way plays on', async () => {
      const h = harness();
      await speakingAfterOneTurn(h);
      h.sinks.audioLost(lost());
      await settle();
      expect(h.session.state).toBe('speaking');
      expect(h.speaker.calls).not.toContain('stop');
      expect(errorCodes(h)).toEqual([]);
    });

    it('lost again within the window: worker-failed and listening stops', async () => {
      const h = harness();
      await h.session.start();
      h.sinks.audioLost(lost());
      await settle();
      h.sinks.audioLost(lost());
      await settle();
      expect(errorCodes(h)).toEqual(['worker-failed']);
      expect(h.session.state).toBe('error');
      expect(h.mic.closed).toBeGreaterThan(0);
    });

    it('the capture ended while the replacement loaded: the loss is reported and listening stops', async () => {
      const h = harness();
      await h.session.start();
      h.turns.calls.length = 0;
      h.mic.capturing = false;
      h.sinks.audioLost(lost());
      await settle();
      expect(h.mic.reconnected).toBe(0);
      expect(h.turns.calls).toEqual(['dispose', 'load', 'dispose']); // never started, freed as listening stops
      expect(errorCodes(h)).toEqual(['worker-failed']);
      expect(h.session.state).toBe('error');
    });

    it('a replacement that will not load: worker-failed and listening stops', async () => {
      const h = harness();
      await h.session.start();
      h.turns.failLoadWith = new VoiceAgentError('model-load-failed', 'silero_vad_v5.onnx could not be loaded.');
      h.sinks.audioLost(lost());
      await settle();
      expect(errorCodes(h)).toEqual(['model-load-failed']);
      expect(h.session.state).toBe('error');
    });
  });

  describe('a microphone that goes away', () => {
    const ended = () => new VoiceAgentError('mic-ended', 'The microphone stopped.');
    const errorCodes = (h: Harness) =>
      h.events.filter((e) => e.type === 'voice-error').map((e) => (e as Event & { detail: { code: string } }).detail.code);
    const recoveredCodes = (h: Harness) =>
      h.events.filter((e) => e.type === 'voice-recovered').map((e) => (e as Event & { detail: { code: string } }).detail.code);
    /** Until the session's waits (a few 20 ms polls at most) are over. */
    const waitFor = async (condition: () => boolean) => {
      for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(condition()).toBe(true);
    };

    it('ends listening but still transcribes and answers the turn already captured', async () => {
      const h = harness();
      await h.session.start();
      h.sinks.turnEvent(vad.onset());
      h.sinks.turnEvent(vad.start());
      h.sinks.turnEvent(vad.end());
      expect(h.session.state).toBe('transcribing');
      h.sinks.micLost(ended());
      await waitFor(() => h.session.state === 'error');
      expect(errorCodes(h)).toEqual(['mic-ended']);
      expect(h.mic.closed).toBeGreaterThan(0);
      expect(h.turns.calls.at(-1)).toBe('dispose');
      // The recognizer is kept for the captured turn…
      expect(h.recognizer.calls).not.toContain('dispose');
      h.sinks.transcript({ turnId: 1, text: 'What time is it?', final: true, language: 'en' });
      await settle();
      // …which is answered, and then let go.
      expect(h.responder.turns).toEqual(['What time is it?']);
      expect(h.recognizer.calls.at(-1)).toBe('dispose');
      expect(h.session.state).toBe('speaking');
      h.responder.complete();
      h.speaker.finish();
      expect(h.session.state).toBe('idle');
    });

    it('closes a turn the visitor was in the middle of, so it is transcribed too', async () => {
      const h = harness();
      await h.session.start();
      h.turns.onEndManual = () => h.sinks.turnEvent(vad.end(8000));
      h.sinks.turnEvent(vad.onset());
      h.sinks.turnEvent(vad.start());
      h.sinks.turnEvent(vad.audio());
      expect(h.session.state).toBe('user-speaking');
      h.sinks.micLost(ended());
      await waitFor(() => h.session.state === 'error');
      expect(h.turns.calls).toContain('end-manual');
      expect(h.recognizer.calls).toContain('end 1');
      expect(h.recognizer.endedAudio?.length).toBe(8000);
      expect(h.eventTypes()).toContain('voice-speech-end');
      expect(h.recognizer.calls).not.toContain('dispose');
    });

    it('listens again when a device comes back, once the answer under way is over', async () => {
      const h = harness();
      await speakingAfterOneTurn(h);
      h.sinks.micLost(ended());
      await waitFor(() => !h.session.micHeld);
      expect(h.session.state).toBe('speaking');
      h.sinks.micAvailable();
      await settle();
      expect(h.mic.opened).toBe(1);
      h.responder.complete();
      h.speaker.finish();
      await waitFor(() => h.session.state === 'listening');
      expect(h.mic.opened).toBe(2);
      expect(recoveredCodes(h)).toEqual(['mic-ended']);
      expect(h.session.display.error).toBeNull();
    });

    it('does not re-acquire after stop(), nor for a device change with nothing lost', async () => {
      const h = harness();
      await h.session.start();
      h.sinks.micAvailable();
      await settle();
      expect(h.mic.opened).toBe(1);
      h.sinks.micLost(ended());
      await waitFor(() => h.session.state === 'error');
      await h.session.stop();
      h.sinks.micAvailable();
      await settle();
      expect(h.mic.opened).toBe(1);
      expect(recoveredCodes(h)).toEqual([]);
    });

    it('taken over by another element: stops listening (idle) and says why; pressing again takes it back', async () => {
      const h = harness();
      await h.session.start();
      h.sinks.micLost(new VoiceAgentError('mic-taken-over', 'Another one took it.'));
      await waitFor(() => h.session.state === 'idle');
      expect(errorCodes(h)).toEqual(['mic-taken-over']);
      expect(h.session.micHeld).toBe(false);
      h.sinks.micAvailable(); // not a lost device: nothing to re-acquire
      await settle();
      expect(h.mic.opened).toBe(1);
      await h.session.start();
      expect(h.session.state).toBe('listening');
      expect(h.mic.opened).toBe(2);
      expect(h.session.display.error).toBeNull();
    });

    const interrupted = () => new VoiceAgentError('mic-interrupted', 'Listening is paused.');

    it('capture suspended by the system mid-turn: says so, answers what was heard, keeps the microphone', async () => {
      const h = harness();
      await h.session.start();
      h.turns.onEndManual = () => h.sinks.turnEvent(vad.end(8000));
      h.sinks.turnEvent(vad.onset());
      h.sinks.turnEvent(vad.start());
      h.sinks.turnEvent(vad.audio());
      h.sinks.micInterrupted(interrupted());
      await settle();
      expect(errorCodes(h)).toEqual(['mic-interrupted']);
      expect(h.session.display.error?.code).toBe('mic-interrupted');
      // The open turn is closed with what was captured and goes to the recognizer…
      expect(h.turns.calls).toContain('end-manual');
      expect(h.recognizer.calls).toContain('end 1');
      expect(h.recognizer.endedAudio?.length).toBe(8000);
      // …while the microphone stays open, waiting for the capture to run again.
      expect(h.session.micHeld).toBe(true);
      expect(h.mic.closed).toBe(0);
      expect(h.session.state).toBe('transcribing');
      h.sinks.recovered('mic-interrupted');
      expect(recoveredCodes(h)).toEqual(['mic-interrupted']);
      expect(h.session.display.error).toBeNull();
    });

    it('capture suspended between turns: no turn is made up; stop() clears the notice, and later reports are ignored', async () => {
      const h = harness();
      await h.session.start();
      h.sinks.micInterrupted(interrupted());
      await settle();
      expect(errorCodes(h)).toEqual(['mic-interrupted']);
      expect(h.turns.calls).not.toContain('end-manual');
      expect(h.session.state).toBe('listening');
      await h.session.stop();
      // Not listening any more: "listening is paused" is not shown.
      expect(h.session.display.error).toBeNull();
      h.sinks.micInterrupted(interrupted());
      await settle();
      expect(errorCodes(h)).toEqual(['mic-interrupted']);
    });
  });
});

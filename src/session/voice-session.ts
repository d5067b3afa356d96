import type { ConversationEntry } from '../answering/conversation.ts';
import { rmsToDbfs } from '../audio/level-meter.ts';
import {
  VoiceDebugEvent,
  VoiceErrorEvent,
  VoiceLevelEvent,
  VoiceMetricsEvent,
  VoiceModelProgressEvent,
  VoiceRecoveredEvent,
  VoiceResponseEndEvent,
  VoiceResponseEvent,
  VoiceSpeechEndEvent,
  VoiceSpeechStartEvent,
  VoiceStateChangeEvent,
  VoiceTranscriptEvent,
  type RecoveredCode,
  type VoiceDebugDetail,
} from '../events/index.ts';
import type { TranscriptUpdate } from '../hearing/asr-controller.ts';
import { wallClockMs } from '../platform/clock.ts';
import { MicOpenCancelled, VoiceAgentError } from '../platform/errors.ts';
import { DEFAULT_TURN_DETECTION } from '../platform/options.ts';
import type { VadEvent } from '../platform/protocol.ts';
import { SUSTAINED_SPEECH_MS } from '../turns/speech-segmenter.ts';
import { holdsAudio, TurnMachine, type AgentState, type EndedTurn, type TurnEffect, type TurnInput } from '../turns/turn-machine.ts';
import { BargeInJudge } from './barge-in-judge.ts';
import type { PortFactory, SessionOutputs, SessionPorts, SessionSettings, SessionSinks } from './ports.ts';
import { SessionDisplay, TurnMetrics } from './session-display.ts';

/** The session's model ports, in words for messages. */
const MODEL_NAMES: Readonly<Record<string, string>> = {
  vad: 'voice activity detector',
  asr: 'speech recognizer',
  tts: 'voice',
  llm: 'language model',
};

/** After the microphone is lost mid-turn, how long the closed turn's audio may take to come back from the detector. */
const MIC_LOST_TURN_WAIT_MS = 2000;
/**
 * A detector worker lost while listening is replaced on the capture already running, at
 * most once in this window; lost again within it, listening stops with `worker-failed`
 * (a worker that dies again at once would otherwise be restarted for ever).
 */
export const DETECTOR_RESTART_WINDOW_MS = 60_000;

/**
 * One conversation, without the DOM: it listens, hands the visitor's turns to the
 * recognizer, decides barge-ins against the agent's echo, has each turn answered and
 * spoken, and keeps the metrics — talking to the world only through its ports
 * (`ports.ts`) and its outputs. The turn rules are the pure turn machine's; this class
 * feeds it and carries out its effects.
 *
 * @example
 * const session = new VoiceSession(createBrowserPorts(host), {
 *   dispatch: (event) => host.dispatchEvent(event),
 *   changed: () => host.requestUpdate(),
 *   level: (rms) => meter.show(rms),
 * });
 * await session.start();
 */
export class VoiceSession {
  private readonly ports: SessionPorts;
  private readonly outputs: SessionOutputs;
  private settings: SessionSettings = {
    mode: 'hands-free',
    turnDetection: DEFAULT_TURN_DETECTION,
    interruptions: true,
    debug: false,
  };
  private readonly machine = new TurnMachine();
  /** Bumped whenever the audio is released: stale async work checks it. */
  private audioGeneration = 0;
  private acquiring: Promise<void> | null = null;
  private readonly metrics = new TurnMetrics();
  /** When the visitor's last spoken turn ended (its last voiced frame), wall clock. */
  private lastVoicedAt = 0;
  private readonly bargeIn: BargeInJudge;
  /** What the last barge-in decision saw (for the debug record of the hold). */
  private bargeInEvidence = {};
  /** The microphone ended (`mic-ended`) and has not been re-acquired: a new device restarts listening. */
  private micEnded = false;
  /** A device came back while an answer was under way: listen again once the agent is idle. */
  private reacquirePending = false;
  /** The audio was released with turns still awaiting transcripts: the recognizer finishes them first. */
  private finishingTurns = false;
  /** When the detector's worker was last replaced (performance.now()), for DETECTOR_RESTART_WINDOW_MS. */
  private detectorRestartedAt = Number.NEGATIVE_INFINITY;

  /** Captions, the last error and download progress, for the owner to show. */
  readonly display: SessionDisplay;
  /** Push-to-talk: the talk control is pressed. */
  talkHeld = false;

  constructor(createPorts: PortFactory, outputs: SessionOutputs) {
    this.outputs = outputs;
    this.display = new SessionDisplay(() => outputs.changed());
    this.ports = createPorts(this.sinks);
    this.bargeIn = new BargeInJudge((from, to) => this.ports.speaker.outputLevelBetween(from, to));
  }

  get state(): AgentState {
    return this.machine.state;
  }

  /** The microphone is held: listening, or answering in a spoken conversation. */
  get micHeld(): boolean {
    return holdsAudio(this.machine.state) || this.machine.micHeld;
  }

  get history(): readonly ConversationEntry[] {
    return this.ports.responder.history;
  }

  configure(settings: Partial<SessionSettings>): void {
    const turnsChanged = settings.turnDetection && settings.turnDetection !== this.settings.turnDetection;
    this.settings = { ...this.settings, ...settings };
    if (turnsChanged && holdsAudio(this.machine.state)) void this.ports.turns.configure(this.settings.turnDetection);
  }

  // ── commands ────────────────────────────────────────────────────────────────────────

  /** Loads the models ahead of the first turn; see `VoiceAgent.preload`. */
  async preload(): Promise<void> {
    const voice = this.ports.speaker.preload(); // reports its own failure
    voice.catch(() => {});
    try {
      // Text mode never listens: only the voice (and answering) are worth loading.
      const listening = this.settings.mode !== 'text' ? [this.ports.turns.load(), this.ports.recognizer.load()] : [];
      await Promise.all([...listening, this.ports.responder.preload()]);
    } catch (error) {
      const voiceError = VoiceAgentError.from(error, 'model-load-failed');
      this.reportError(voiceError);
      throw voiceError;
    }
    await voice;
  }

  async start(): Promise<void> {
    this.input({ type: 'start', voiceInput: this.settings.mode !== 'text' });
    await this.acquiring;
  }

  async stop(): Promise<void> {
    // The speech layer first: it reports what was heard, which the history keeps.
    this.ports.speaker.stop();
    this.ports.responder.cancel();
    this.forgetLostMic();
    // "Listening is paused" no longer holds once listening stops.
    if (this.display.error?.code === 'mic-interrupted') this.display.setError(null);
    this.input({ type: 'stop' });
    await this.acquiring;
  }

  /** The owner goes away: everything is released, and `state` reads `idle` if it comes back. */
  detach(): void {
    this.talkHeld = false;
    this.forgetLostMic();
    this.input({ type: 'stop' });
  }

  /** A typed turn. */
  send(raw: string): void {
    const text = String(raw ?? '').trim();
    if (!text) return;
    this.display.addCaption('user', text);
    this.outputs.dispatch(new VoiceTranscriptEvent({ text, final: true, language: 'und', source: 'text' }));
    this.answer(text, 'text');
  }

  say(raw: string): Promise<void> {
    const reply = String(raw ?? '').trim();
    if (reply) this.display.addCaption('agent', reply);
    return this.ports.speaker.say(reply);
  }

  interrupt(): void {
    this.ports.speaker.interrupt();
  }

  reset(): void {
    this.ports.responder.reset();
  }

  /** Push-to-talk: the talk control went down (true) or up (false). */
  talk(pressed: boolean): void {
    this.talkHeld = pressed;
    if (!pressed) this.input({ type: 'talk-released' });
    else if (this.machine.state === 'idle' || this.machine.state === 'error') void this.start();
    else this.input({ type: 'talk-pressed' });
    this.outputs.changed();
  }

  // ── turn machine ────────────────────────────────────────────────────────────────────

  /** Feeds the turn machine and carries out what it decides. */
  private input(input: TurnInput): void {
    const { speaker, responder } = this.ports;
    const fired = this.machine.fire(input, {
      interruptions: this.settings.interruptions,
      replyActivity: speaker.isSpeaking ? 'speaking' : responder.busy ? 'thinking' : 'none',
    });
    const { previous, state } = fired;
    if (state !== previous) {
      this.outputs.changed();
      this.outputs.dispatch(new VoiceStateChangeEvent({ state, previous }));
    }
    const vadTurn = this.machine.vadTurn;
    if (previous === 'speaking' && state === 'listening' && vadTurn && !vadTurn.recognized) {
      // A turn the VAD opened on the agent's own voice would swallow the visitor's next words.
      void this.ports.turns.dropTurn();
      this.machine.closeVadTurn();
    }
    for (const effect of fired.effects) this.runEffect(effect, fired.wasHeld);
    if (previous === 'loading' && state === 'listening' && this.micEnded) {
      this.micEnded = false;
      this.recovered('mic-ended');
    }
    if (this.reacquirePending && (state === 'idle' || state === 'error')) {
      this.reacquirePending = false;
      queueMicrotask(() => this.reacquireMic());
    }
  }

  private runEffect(effect: TurnEffect, wasHeld: boolean): void {
    switch (effect.type) {
      case 'acquire-audio':
        this.display.setError(null);
        this.acquiring = this.acquireAudio().finally(() => {
          this.acquiring = null;
        });
        return;
      case 'release-audio':
        this.releaseAudio(wasHeld, effect.finishTurns ?? false);
        return;
      case 'begin-manual-turn':
        void this.ports.turns.beginManualTurn();
        return;
      case 'end-manual-turn':
        void this.ports.turns.endManualTurn();
        return;
      case 'deliver-turn':
        this.deliverTurn(effect.turn);
        return;
      case 'hold-reply':
        this.ports.speaker.hold();
        this.debugRecord({ kind: 'barge-in', outcome: 'hold', decidedAt: wallClockMs(), ...this.bargeInEvidence });
        this.bargeInEvidence = {};
        return;
      case 'resume-reply':
        this.ports.speaker.resume();
        this.debugRecord({ kind: 'barge-in', outcome: 'resume', decidedAt: wallClockMs() });
        return;
      case 'drop-reply':
        this.dropReply();
        this.debugRecord({ kind: 'barge-in', outcome: 'drop', decidedAt: wallClockMs() });
        return;
    }
  }

  private async acquireAudio(): Promise<void> {
    const generation = ++this.audioGeneration;
    const { turns, microphone, recognizer } = this.ports;
    try {
      // The recognizer loads alongside but is not waited for: turns spoken before it is
      // ready queue for it (nothing is lost), and a recognizer that fails to load leaves
      // turn detection working (reported through voice-error).
      void recognizer.load();
      const [, frames] = await Promise.all([turns.load(), microphone.open()]);
      if (generation !== this.audioGeneration) return;
      // Only once the microphone is granted and the detector is up: a start() that fails
      // (denied mic, missing VAD) leaves no voice worker behind. Both are quick next to the
      // recognizer's load, so the voice still loads while the first turn waits for it.
      this.loadAnsweringModels();
      await turns.start(frames, this.settings.turnDetection, this.settings.debug);
      if (generation !== this.audioGeneration) return;
      this.input({ type: 'audio-ready' });
      if (this.settings.mode === 'push-to-talk' && this.talkHeld) this.input({ type: 'talk-pressed' });
    } catch (error) {
      if (generation !== this.audioGeneration || error instanceof MicOpenCancelled) return;
      this.reportError(VoiceAgentError.from(error));
      this.input({ type: 'audio-failed' });
    }
  }

  /**
   * On a cold page (no preload()) the first answer must not wait for its voice or its
   * local model to download after the visitor has spoken: start() begins loading them
   * alongside the microphone and the detector, without waiting for them. A voice that
   * fails reports itself; a local model that fails is tried (and reported) again by the
   * turn that needs it.
   */
  private loadAnsweringModels(): void {
    this.ports.speaker.preload().catch(() => {});
    this.ports.responder.preload().catch(() => {});
  }

  private releaseAudio(replyWasHeld: boolean, finishTurns: boolean): void {
    this.audioGeneration++;
    if (replyWasHeld) this.ports.speaker.resume();
    // Turns already captured keep the recognizer until their transcripts are out (mic lost).
    if (finishTurns && this.machine.turnsAwaitingTranscript.size > 0) this.finishingTurns = true;
    else this.dropPendingTurns();
    this.outputs.level(0);
    void this.ports.microphone.close();
    // Terminate rather than idle the VAD worker: stop() promises to free everything
    // (memory included). The next start() reloads it from the HTTP cache in well under
    // a second; preload() can warm it again ahead of time.
    this.ports.turns.dispose();
  }

  /**
   * Like the VAD worker, the recognizer is terminated: stop() frees the memory. Its
   * weights stay in Cache Storage, so the next start() does not download them again.
   */
  private dropPendingTurns(): void {
    this.finishingTurns = false;
    this.machine.turnsAwaitingTranscript.clear();
    this.ports.recognizer.dispose();
  }

  /** stop() / removal: no re-acquiring, and turns still being finished after a lost mic are dropped. */
  private forgetLostMic(): void {
    this.micEnded = false;
    this.reacquirePending = false;
    if (this.finishingTurns && !this.machine.micHeld) this.dropPendingTurns();
  }

  /**
   * The microphone went away mid-session (its track ended, or another element took it).
   * A turn the visitor was in the middle of is closed with what was captured, so it is
   * transcribed and answered like any other; then listening stops (`mic-lost`), keeping
   * the turns already handed to the recognizer.
   */
  private async handleMicLost(error: VoiceAgentError): Promise<void> {
    if (!this.machine.micHeld) return;
    const generation = this.audioGeneration;
    this.micEnded = error.code === 'mic-ended';
    this.reportError(error);
    if (this.machine.recognizing) {
      await this.ports.turns.endManualTurn().catch(() => {});
      // Its speech-end comes back over the detector's event channel.
      for (let waited = 0; this.machine.recognizing && waited < MIC_LOST_TURN_WAIT_MS; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    if (generation !== this.audioGeneration) return;
    this.input({ type: 'mic-lost', reason: error.code === 'mic-taken-over' ? 'taken' : 'ended' });
  }

  /**
   * The system suspended the capture (`mic-interrupted`): listening goes on where it was once
   * the capture runs again (`voice-recovered`). The turn the visitor was in the middle of is
   * closed with what was heard, so it is answered now instead of waiting for the
   * interruption to end and being glued to whatever is said after it.
   */
  private handleMicInterrupted(error: VoiceAgentError): void {
    if (!this.machine.micHeld) return;
    this.reportError(error);
    if (this.machine.recognizing) void this.ports.turns.endManualTurn().catch(() => {});
  }

  /**
   * The detector's worker crashed, stopped answering or failed while the microphone was
   * held. Listening goes on: a new worker is loaded (Silero from the HTTP cache) and
   * connected to the capture already running — no new permission prompt, the answer under
   * way plays on. The turn the visitor was in the middle of died with the worker (its audio
   * was there) and speech during the restart is not heard. Lost again within
   * DETECTOR_RESTART_WINDOW_MS, or not restartable: `worker-failed`, listening stops.
   */
  private async handleDetectorLost(error: VoiceAgentError): Promise<void> {
    const now = performance.now();
    const generation = this.audioGeneration;
    const fail = (failure: VoiceAgentError) => {
      if (generation !== this.audioGeneration) return;
      this.reportError(failure);
      this.input({ type: 'audio-lost' });
    };
    if (!this.machine.micHeld || this.machine.state === 'loading' || now - this.detectorRestartedAt < DETECTOR_RESTART_WINDOW_MS) return fail(error);
    this.detectorRestartedAt = now;
    this.debugRecord({ kind: 'worker-restarted', what: 'voice activity detector', cause: error.message });
    this.input({ type: 'turn-lost' });
    this.machine.closeVadTurn();
    const { turns, microphone } = this.ports;
    try {
      turns.dispose();
      await turns.load();
      if (generation !== this.audioGeneration) return;
      const frames = microphone.reconnect();
      if (!frames) return fail(error);
      await turns.start(frames, this.settings.turnDetection, this.settings.debug);
    } catch (cause) {
      fail(VoiceAgentError.from(cause, 'worker-failed'));
    }
  }

  /** A microphone is there again after `mic-ended`: listen again (after the answer under way, if any). */
  private reacquireMic(): void {
    if (!this.micEnded || this.machine.micHeld) return;
    const state = this.machine.state;
    if (state === 'idle' || state === 'error') void this.start();
    else this.reacquirePending = true;
  }

  private recovered(code: RecoveredCode): void {
    if (this.display.error?.code === code) this.display.setError(null);
    this.outputs.dispatch(new VoiceRecoveredEvent({ code }));
  }

  // ── what the ports report ───────────────────────────────────────────────────────────

  private readonly sinks: SessionSinks = {
    level: (rms) => this.handleLevel(rms),
    audioLost: (error) => void this.handleDetectorLost(error),
    micLost: (error) => void this.handleMicLost(error),
    micAvailable: () => this.reacquireMic(),
    micInterrupted: (error) => this.handleMicInterrupted(error),
    recovered: (code) => this.recovered(code),
    turnEvent: (event) => this.handleVadEvent(event),
    transcript: (update) => this.handleTranscript(update),
    speakingChange: (speaking) => {
      if (speaking) this.reportMetrics(wallClockMs());
      this.input({ type: speaking ? 'speak-start' : 'speak-end' });
    },
    response: (detail) => {
      this.bargeIn.hearing(detail.text);
      this.outputs.dispatch(new VoiceResponseEvent(detail));
    },
    responseEnd: (detail) => {
      this.bargeIn.heard(detail.heardText);
      this.outputs.dispatch(new VoiceResponseEndEvent(detail));
    },
    turn: (event) => this.outputs.dispatch(event),
    replyStart: (turnId, source) => {
      this.metrics.replyStarted(turnId);
      this.input({ type: 'reply-start', spoken: source === 'speech' });
    },
    firstDelta: () => this.metrics.firstToken(wallClockMs()),
    replyText: (text) => this.display.addCaption('agent', text),
    replyEnd: () => {
      this.reportMetrics(null); // no audio was played (failed, empty, cancelled)
      this.input({ type: 'reply-end' });
    },
    progress: (model, progress) => {
      if (progress.cacheFull) return this.reportCacheFull(model, progress.file);
      this.display.progress(model, progress);
      this.outputs.dispatch(new VoiceModelProgressEvent({ model, ...progress }));
    },
    error: (error) => this.reportError(error),
    debug: (detail) => this.debugRecord(detail),
  };

  private handleVadEvent(event: VadEvent): void {
    const machine = this.machine;
    switch (event.type) {
      case 'speech-onset':
        machine.openVadTurn();
        return;
      case 'speech-sustained':
        this.considerBargeIn(event);
        return;
      case 'speech-start':
        machine.confirmVadTurn(event.startMs);
        this.input({ type: 'speech-start' });
        this.takeVisitorTurn();
        return;
      case 'speech-audio':
        if (machine.recognizing) this.ports.recognizer.appendAudio(machine.lastTurnId, event.audio, event.trailingSilenceSamples);
        return;
      case 'speech-end':
        this.input({ type: 'speech-end', transcribe: this.ports.recognizer.available && machine.recognizing, turn: event });
        machine.closeVadTurn();
        return;
      case 'misfire':
        this.input({ type: 'misfire' });
        machine.closeVadTurn();
        return;
      case 'frames':
        this.outputs.dispatch(new VoiceDebugEvent({ kind: 'vad-frames', frames: event.records }));
        return;
      case 'failure':
        this.sinks.audioLost(new VoiceAgentError('worker-failed', event.message));
        return;
    }
  }

  /**
   * The confirmed VAD turn is the visitor's (state user-speaking: not an answer's echo):
   * the recognizer starts on it and `voice-speech-start` goes out. Runs at speech-start,
   * or at a barge-in that comes after it. Turns heard while the agent speaks undisturbed
   * are left alone (no recognizer work spent on our own voice).
   */
  private takeVisitorTurn(): void {
    const turnId = this.machine.recognizeVadTurn();
    if (turnId === null) return;
    this.ports.recognizer.beginTurn(turnId);
    this.outputs.dispatch(new VoiceSpeechStartEvent({ startMs: this.machine.vadTurn?.startMs ?? 0 }));
  }

  /**
   * Sustained speech while the agent answers: a barge-in, unless the echo gate puts it down
   * to the agent's own voice. Then the VAD forgets that turn, so the next stretch of speech
   * is judged afresh (and a visitor who starts talking does not inherit seconds of echo).
   */
  private considerBargeIn(event: Extract<VadEvent, { type: 'speech-sustained' }>): void {
    const { state, replyHeld, micHeld } = this.machine;
    const answering = state === 'speaking' || state === 'thinking';
    if (!answering || !this.settings.interruptions || replyHeld || !micHeld) return;
    const verdict = this.bargeIn.judge(event);
    if (!verdict.interrupts) {
      this.debugRecord(verdict.record);
      return;
    }
    // The turn so far may be mostly echo: the recognizer gets it from just before this speech.
    void this.ports.turns.trimTurn(event.onsetMs, SUSTAINED_SPEECH_MS + this.settings.turnDetection.preSpeechPadMs);
    this.bargeInEvidence = verdict.evidence;
    this.input({ type: 'barge-in' });
    this.takeVisitorTurn();
  }

  /** Abandons the answer: what was heard is recorded first, then the responder is aborted. */
  private dropReply(): void {
    this.ports.speaker.interrupt();
    this.ports.responder.cancel();
  }

  private deliverTurn(turn: EndedTurn): void {
    const endOfTurnDelayMs = turn.lastSpeechAt ? Math.max(0, wallClockMs() - turn.lastSpeechAt) : 0;
    const durationMs = (turn.audio.length / 16_000) * 1000;
    this.outputs.dispatch(
      new VoiceSpeechEndEvent({
        audio: turn.audio,
        durationMs,
        startMs: turn.startMs,
        endMs: turn.endMs,
        endOfTurnDelayMs,
        vadMsPerFrame: turn.vadMsPerFrame ?? 0,
      }),
    );
    this.lastVoicedAt = wallClockMs() - endOfTurnDelayMs;
    const { recognizer } = this.ports;
    if (recognizer.available) {
      const turnId = this.machine.lastTurnId;
      this.machine.turnsAwaitingTranscript.add(turnId);
      recognizer.endTurn(turnId, turn.audio, turn.lastSpeechSample, turn.speechMs);
    } else {
      this.display.addCaption('note', `You spoke for ${(durationMs / 1000).toFixed(1)} s`);
    }
  }

  private handleTranscript(received: TranscriptUpdate): void {
    let update = received;
    if (update.text) {
      this.outputs.dispatch(
        new VoiceTranscriptEvent({ text: update.text, final: update.final, language: update.language, source: 'speech' }),
      );
    }
    if (update.text && this.machine.replyHeld && update.turnId > this.machine.heldAfterTurnId) {
      if (this.bargeIn.isAgentEcho(update.text)) {
        // The agent's own words came back (the level gate let them through): not the visitor.
        this.debugRecord({ kind: 'barge-in', outcome: 'echo', decidedAt: wallClockMs(), transcript: update.text });
        update = { ...update, text: '' };
      } else {
        this.input({ type: 'words-heard' });
      }
    }
    if (!update.final) return;
    if (update.text) this.display.addCaption('user', update.text);
    this.machine.turnsAwaitingTranscript.delete(update.turnId);
    if (this.machine.turnsAwaitingTranscript.size === 0) this.input({ type: 'transcribed' });
    if (update.text) this.answer(update.text, 'speech');
    if (this.finishingTurns && this.machine.turnsAwaitingTranscript.size === 0) {
      // The last turn captured before the microphone went is out: the recognizer can go
      // (unless listening started again meanwhile).
      this.finishingTurns = false;
      if (!this.machine.micHeld) this.ports.recognizer.dispose();
    }
  }

  /** Hands a visitor turn to the responder; a newer turn replaces an answer under way. */
  private answer(text: string, source: 'speech' | 'text'): void {
    this.metrics.answering(source, wallClockMs(), this.lastVoicedAt);
    // The speech layer first: it reports what was heard, which the history keeps.
    if (this.ports.responder.busy) this.dropReply();
    void this.ports.responder.runTurn(text, source);
  }

  /** Dispatches `voice-metrics` once per answered turn: at its first audio, or at its end. */
  private reportMetrics(firstAudioAt: number | null): void {
    const detail = this.metrics.take(firstAudioAt);
    if (detail) this.outputs.dispatch(new VoiceMetricsEvent(detail));
  }

  private handleLevel(rms: number): void {
    this.outputs.level(rms);
    // While the agent speaks undisturbed, every reading teaches the echo gate the echo path.
    if (this.machine.state === 'speaking' && !this.machine.replyHeld) this.bargeIn.observe(rms);
    this.outputs.dispatch(new VoiceLevelEvent({ source: 'input', rms, dbfs: rmsToDbfs(rms) }));
  }

  private debugRecord(detail: VoiceDebugDetail): void {
    if (this.settings.debug) this.outputs.dispatch(new VoiceDebugEvent(detail));
  }

  /** Files already reported as refused by the storage quota (one `storage-full` each). */
  private readonly filesNotCached = new Set<string>();

  private reportCacheFull(model: string, file: string): void {
    if (this.filesNotCached.has(`${model}/${file}`)) return;
    this.filesNotCached.add(`${model}/${file}`);
    const message =
      `Storage is full: ${file} (${MODEL_NAMES[model] ?? model}) is loaded for this visit but could not be kept for the next one. ` +
      'Free some space, or clear the cached models (VoiceAgent.clearModelCache()).';
    // Not shown as the element's error: nothing the visitor does now is affected.
    this.outputs.dispatch(new VoiceErrorEvent(new VoiceAgentError('storage-full', message).toDetail()));
  }

  private reportError(error: VoiceAgentError): void {
    this.display.setError(error.toDetail());
    this.outputs.dispatch(new VoiceErrorEvent(error.toDetail()));
  }
}

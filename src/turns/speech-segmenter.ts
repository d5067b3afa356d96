import type { EndOfTurnPolicy } from './end-of-turn.ts';
import type { TurnDetectionOptions } from '../platform/options.ts';
import { concatPcm } from '../audio/pcm.ts';

/**
 * Turns a stream of (frame, speech probability) pairs into visitor turns.
 *
 * DOM-free and model-free: the VAD worker runs Silero and hands each frame here with its
 * probability, so this is unit-tested with scripted probabilities. It owns the turn's
 * audio (with a pre-speech pad, so the first syllable is not clipped) and delegates the
 * "is the turn over?" question to an {@link EndOfTurnPolicy}.
 *
 * Times are stream times in ms: frame index × frame duration since the stream started.
 */
export type SegmenterEvent =
  /** The first frame at or above the speech threshold: maybe speech, maybe a click. */
  | { readonly type: 'speech-onset'; readonly startMs: number }
  /** The turn has `minSpeechMs` of speech (frames in the speaking state): the visitor is talking. */
  | { readonly type: 'speech-start'; readonly startMs: number }
  /**
   * The turn has {@link SUSTAINED_SPEECH_MS} of speech: enough to pause the agent's voice
   * (barge-in) while the turn is still being confirmed. Repeated every
   * {@link SUSTAINED_REPEAT_FRAMES} speech frames after that, so speech that starts in the
   * middle of a turn the echo gate put down to the agent's own voice gets judged promptly.
   */
  | {
      readonly type: 'speech-sustained';
      /** Stream time of this turn's first speech frame (its onset). */
      readonly onsetMs: number;
      /** Stream time at the end of the frame that sustained it. */
      readonly atMs: number;
      /** RMS level of the last {@link SUSTAINED_SPEECH_MS} of audio (for the echo gate). */
      readonly rms: number;
    }
  /**
   * More audio of a confirmed turn, as it arrives (every {@link STREAM_CHUNK_FRAMES}
   * frames), so a recognizer can work while the visitor talks. The chunks of a turn, in
   * order, begin with exactly the samples its `speech-end` audio begins with.
   */
  | {
      readonly type: 'speech-audio';
      readonly audio: Float32Array;
      /** Where this chunk starts within the turn's audio. */
      readonly offsetSamples: number;
      /** Samples after the last voiced frame (at or above the silence threshold), at the end of this chunk. */
      readonly trailingSilenceSamples: number;
    }
  /** The turn ended; `audio` is its 16 kHz speech from pad to just after the last voiced frame. */
  | {
      readonly type: 'speech-end';
      readonly audio: Float32Array;
      /** Where the last voiced frame (at or above the silence threshold) ends within `audio`. */
      readonly lastSpeechSample: number;
      readonly startMs: number;
      readonly endMs: number;
      /** Stream time at the end of the last frame at or above the speech threshold. */
      readonly lastSpeechMs: number;
      readonly speechMs: number;
    }
  /** A turn began but never reached `minSpeechMs` of speech: dropped. */
  | { readonly type: 'misfire'; readonly startMs: number; readonly endMs: number };

export interface SegmenterConfig extends TurnDetectionOptions {
  readonly frameSamples: number;
  readonly sampleRateHz: number;
}

/** Audio kept after the last voiced frame, so trailing consonants survive. */
export const POST_SPEECH_PAD_MS = 192;

/**
 * How long a misfire's audio waits for a real turn to follow. Live Silero scores of a
 * short, soft phrase vary from run to run (JFK's "ask not" has 6–14 frames in the speaking
 * state), so it may fail `minSpeechMs` on its own; if speech resumes within this window
 * the misfire's audio leads the next turn instead of being lost. Noise that never turns
 * into speech still yields no turn.
 */
export const MISFIRE_CARRY_MS = 1500;

/**
 * Speech (frames in the speaking state) after which the visitor is taken to be talking
 * over the agent. Shorter than the default `minSpeechMs`: pausing the agent's voice is
 * undone cheaply if the turn comes to nothing, and the bar is silence within
 * 300 ms of the visitor's onset (160 ms of speech + a frame of latency + a 20 ms fade).
 */
export const SUSTAINED_SPEECH_MS = 160;
/** Speech frames between repeated `speech-sustained` events (64 ms). */
export const SUSTAINED_REPEAT_FRAMES = 2;

/** Frames per `speech-audio` chunk: 64 ms keeps a recognizer's view of pauses fresh. */
export const STREAM_CHUNK_FRAMES = 2;

export class SpeechSegmenter {
  private readonly config: SegmenterConfig;
  private readonly policy: EndOfTurnPolicy;
  private readonly frameMs: number;
  private readonly padFrames: number;
  private readonly postPadFrames: number;
  private readonly sustainedFrames: number;
  private readonly minSpeechFrames: number;
  private readonly maxTurnFrames: number;

  private frameIndex = 0;
  /** Recent frames while no turn is open (the pre-speech pad). */
  private pad: Float32Array[] = [];
  /** A misfire's audio (and everything since), kept for {@link MISFIRE_CARRY_MS}. */
  private carried: { frames: Float32Array[]; startFrameIndex: number; idleFrames: number } | null = null;
  private readonly carryFrames: number;
  private turn: {
    frames: Float32Array[];
    /** Index (in `frames`) of the last frame at or above the speech threshold. */
    lastSpeechFrame: number;
    /**
     * Index of the last frame at or above the *silence* threshold. Audio is kept up to
     * here: a soft word after a pause (JFK's "ask", scored 0.35–0.5) neither ends nor
     * extends the hangover, but it must not be cut out of the turn's audio.
     */
    lastVoicedFrame: number;
    startFrameIndex: number;
    speechFrames: number;
    silentRun: number;
    /** Frames already sent as `speech-audio`. */
    streamed: number;
    /** In the speaking state of the hysteresis (see push()). */
    speaking: boolean;
    confirmed: boolean;
    /** `frames` index of this turn's first speech frame (after any carried misfire). */
    onsetFrame: number;
    /** Stream frame index of that frame. */
    onsetIndex: number;
    manual: boolean;
  } | null = null;

  constructor(config: SegmenterConfig, policy: EndOfTurnPolicy) {
    this.config = config;
    this.policy = policy;
    this.frameMs = (config.frameSamples / config.sampleRateHz) * 1000;
    this.padFrames = Math.round(config.preSpeechPadMs / this.frameMs);
    this.postPadFrames = Math.round(POST_SPEECH_PAD_MS / this.frameMs);
    this.carryFrames = Math.round(MISFIRE_CARRY_MS / this.frameMs);
    this.minSpeechFrames = Math.max(1, Math.ceil(config.minSpeechMs / this.frameMs));
    this.sustainedFrames = Math.max(1, Math.ceil(SUSTAINED_SPEECH_MS / this.frameMs));
    this.maxTurnFrames = Math.max(1, Math.floor(config.maxTurnMs / this.frameMs));
  }

  /** Whether a turn is open (speech seen and not yet ended). */
  get inTurn(): boolean {
    return this.turn !== null;
  }

  /** Stream time at the end of the frames seen so far. */
  get streamMs(): number {
    return this.frameIndex * this.frameMs;
  }

  /**
   * Feeds one frame and its speech probability; returns the events it caused, in order.
   * Calls must not overlap (await each): the policy may be asynchronous.
   */
  async push(frame: Float32Array, probability: number): Promise<SegmenterEvent[]> {
    const events: SegmenterEvent[] = [];
    const index = this.frameIndex++;
    const isSpeech = probability >= this.config.speechThreshold;
    const isSilence = probability < this.config.silenceThreshold;
    let turn = this.turn;

    if (!turn) {
      if (!isSpeech) {
        this.remember(frame);
        return events;
      }
      turn = this.openTurn(index, false);
      events.push({ type: 'speech-onset', startMs: this.msAt(turn.startFrameIndex) });
    }

    turn.frames.push(frame);
    // Hysteresis: speaking from a frame ≥ the speech threshold until one below the
    // silence threshold. Every frame in that state counts as speech: soft phrases (JFK's
    // "ask not") score only a few frames above 0.5 live but stay above 0.35 between them.
    if (isSpeech) turn.speaking = true;
    else if (isSilence) turn.speaking = false;
    if (turn.speaking) {
      turn.speechFrames++;
      const beyond = turn.speechFrames - this.sustainedFrames;
      if (beyond >= 0 && beyond % SUSTAINED_REPEAT_FRAMES === 0) events.push(this.sustainedEvent(turn, index));
      if (!turn.confirmed && turn.speechFrames >= this.minSpeechFrames) {
        turn.confirmed = true;
        events.push({ type: 'speech-start', startMs: this.msAt(turn.startFrameIndex) });
      }
    }
    if (isSpeech) {
      turn.silentRun = 0;
      turn.lastSpeechFrame = turn.frames.length - 1;
    }
    if (isSilence) turn.silentRun++;
    else turn.lastVoicedFrame = turn.frames.length - 1;

    if (turn.confirmed && turn.frames.length - turn.streamed >= STREAM_CHUNK_FRAMES) {
      events.push(this.streamChunk(turn));
    }

    if (turn.manual) return events;

    if (turn.frames.length >= this.maxTurnFrames) {
      events.push(this.closeTurn());
      return events;
    }
    if (isSilence) {
      const ended = await this.policy.shouldEndTurn({
        silenceMs: turn.silentRun * this.frameMs,
        speechMs: turn.speechFrames * this.frameMs,
        turnMs: turn.frames.length * this.frameMs,
        probability,
        audio: () => concatPcm(turn.frames),
      });
      if (ended) events.push(this.closeTurn());
    }
    return events;
  }

  /** Push-to-talk: opens a turn now, whatever the probabilities say, until {@link endManualTurn}. */
  beginManualTurn(): SegmenterEvent[] {
    if (this.turn) {
      this.turn.manual = true;
      return [];
    }
    const turn = this.openTurn(this.frameIndex, true);
    return [{ type: 'speech-onset', startMs: this.msAt(turn.startFrameIndex) }];
  }

  /** Push-to-talk release: ends the open turn (a misfire if it held too little speech). */
  endManualTurn(): SegmenterEvent[] {
    return this.turn ? [this.closeTurn()] : [];
  }

  /**
   * Forgets the open (non-manual) turn if its onset was at `onsetMs`, without an event:
   * the caller found it was not the visitor (the agent's own voice). Its latest frames
   * become the pre-speech pad, so speech right after it is not clipped. Returns whether
   * a turn was dropped.
   */
  dropTurn(onsetMs?: number): boolean {
    const turn = this.turn;
    if (!turn || turn.manual || (onsetMs !== undefined && this.msAt(turn.onsetIndex) !== onsetMs)) return false;
    this.turn = null;
    this.carried = null;
    this.pad = this.padFrames > 0 ? turn.frames.slice(-this.padFrames) : [];
    return true;
  }

  /**
   * Cuts the start off the open turn with onset `onsetMs`, keeping its last `keepMs` of
   * audio: the part before was the agent's own voice, and the visitor's words that follow
   * should reach the recognizer without it. Returns the number of frames cut.
   */
  trimTurn(onsetMs: number, keepMs: number): number {
    const turn = this.turn;
    if (!turn || this.msAt(turn.onsetIndex) !== onsetMs) return 0;
    const removed = Math.max(0, turn.frames.length - Math.ceil(keepMs / this.frameMs));
    if (removed === 0) return 0;
    turn.frames = turn.frames.slice(removed);
    turn.streamed = Math.max(0, turn.streamed - removed);
    turn.lastSpeechFrame = Math.max(-1, turn.lastSpeechFrame - removed);
    turn.lastVoicedFrame = Math.max(-1, turn.lastVoicedFrame - removed);
    turn.onsetFrame = Math.max(0, turn.onsetFrame - removed);
    // The turn's audio is contiguous up to the latest frame: it now starts here.
    turn.startFrameIndex = this.frameIndex - turn.frames.length;
    return removed;
  }

  /** Drops any open turn and the pad (e.g. on stop). */
  reset(): void {
    this.turn = null;
    this.pad = [];
    this.carried = null;
  }

  private openTurn(frameIndex: number, manual: boolean): NonNullable<SpeechSegmenter['turn']> {
    const carried = manual ? null : this.carried;
    const turn = {
      frames: carried ? carried.frames : this.pad,
      lastSpeechFrame: -1,
      lastVoicedFrame: -1,
      startFrameIndex: carried ? carried.startFrameIndex : frameIndex,
      speechFrames: 0,
      silentRun: 0,
      streamed: 0,
      speaking: false,
      confirmed: false,
      onsetFrame: (carried ? carried.frames : this.pad).length,
      onsetIndex: frameIndex,
      manual,
    };
    this.pad = [];
    this.carried = null;
    this.turn = turn;
    return turn;
  }

  private closeTurn(): SegmenterEvent {
    const turn = this.turn!;
    this.turn = null;
    const startMs = this.msAt(turn.startFrameIndex);
    const endMs = this.streamMs;
    if (!turn.confirmed && !turn.manual) {
      // The whole misfire waits for speech to resume (MISFIRE_CARRY_MS); no separate pad.
      this.carried = { frames: turn.frames, startFrameIndex: turn.startFrameIndex, idleFrames: 0 };
      return { type: 'misfire', startMs, endMs };
    }
    // Silent tail frames become the next turn's pre-speech pad.
    this.pad = turn.frames.slice(Math.max(turn.lastVoicedFrame + 1, turn.frames.length - this.padFrames));
    if (!turn.confirmed) return { type: 'misfire', startMs, endMs };
    const keep = Math.min(turn.frames.length, turn.lastVoicedFrame + 1 + this.postPadFrames);
    const lastSpeechMs = endMs - (turn.frames.length - 1 - turn.lastSpeechFrame) * this.frameMs;
    return {
      type: 'speech-end',
      audio: concatPcm(turn.frames.slice(0, keep)),
      lastSpeechSample: Math.max(0, turn.lastVoicedFrame + 1) * this.config.frameSamples,
      startMs,
      endMs,
      lastSpeechMs,
      speechMs: turn.speechFrames * this.frameMs,
    };
  }

  private sustainedEvent(turn: NonNullable<SpeechSegmenter['turn']>, index: number): SegmenterEvent {
    const since = turn.frames.slice(-this.sustainedFrames);
    let power = 0;
    let count = 0;
    for (const frame of since) {
      for (const sample of frame) power += sample * sample;
      count += frame.length;
    }
    return {
      type: 'speech-sustained',
      onsetMs: this.msAt(turn.onsetIndex),
      atMs: this.msAt(index + 1),
      rms: count > 0 ? Math.sqrt(power / count) : 0,
    };
  }

  private streamChunk(turn: NonNullable<SpeechSegmenter['turn']>): SegmenterEvent {
    const from = turn.streamed;
    turn.streamed = turn.frames.length;
    const silentFrames = turn.frames.length - 1 - turn.lastVoicedFrame;
    return {
      type: 'speech-audio',
      audio: concatPcm(turn.frames.slice(from)),
      offsetSamples: from * this.config.frameSamples,
      trailingSilenceSamples: Math.min(turn.frames.length, silentFrames) * this.config.frameSamples,
    };
  }

  private remember(frame: Float32Array): void {
    const carried = this.carried;
    if (carried) {
      carried.frames.push(frame);
      if (++carried.idleFrames <= this.carryFrames) return;
      // Nothing followed: drop the misfire, keep the latest frames as the usual pad.
      this.pad = this.padFrames > 0 ? carried.frames.slice(-this.padFrames) : [];
      this.carried = null;
      return;
    }
    if (this.padFrames === 0) return;
    this.pad.push(frame);
    if (this.pad.length > this.padFrames) this.pad.shift();
  }

  private msAt(frameIndex: number): number {
    return frameIndex * this.frameMs;
  }
}

import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { SuspensionWatch } from '../audio/audio-context.ts';
import { VoiceAgentError } from '../platform/errors.ts';

/**
 * How far ahead of the graph's clock a chunk that starts a stream is scheduled: one
 * render quantum, so the frame it is booked at is one the graph has not rendered yet.
 */
const START_LEAD_FRAMES = 128;
/** `interrupt()`'s fade to silence. */
export const INTERRUPT_FADE_MS = 25;
/** `hold()`'s fade out (then the context is suspended) and `resume()`'s fade back in. */
export const HOLD_FADE_MS = 20;
/** The output level is kept per block of this length, for the echo gate. */
const LEVEL_BLOCK_MS = 10;
/** The stretch `outputLevel()` takes its RMS over (the microphone meter's interval). */
const LEVEL_WINDOW_MS = 50;
/** Output levels older than this are forgotten. */
const LEVEL_HISTORY_MS = 10_000;
/** How long a new output context may take to start before it counts as blocked (autoplay policy). */
const START_WAIT_MS = 1500;

export interface PlaybackCallbacks {
  /**
   * The output cannot play: the browser has not allowed sound yet (autoplay policy), or the
   * page or the system suspended or interrupted it. Scheduled audio waits, it is not dropped.
   */
  onBlocked(error: VoiceAgentError): void;
  /** The output plays again (after a visitor gesture, or the system let it). */
  onResumed(): void;
}

/**
 * One reply's audio in the output: where each of its chunks was scheduled, so the played
 * position can be read back exactly — including any hole an underrun left.
 */
export class PlaybackStream {
  /** [context frame where the chunk starts, its length in frames]. */
  private readonly chunks: [number, number][] = [];
  private queued = 0;

  /** Frames of this stream scheduled so far. */
  get queuedFrames(): number {
    return this.queued;
  }

  /** Context frame at which the stream's last scheduled sample ends (0 if empty). */
  get endFrame(): number {
    const last = this.chunks.at(-1);
    return last ? last[0] + last[1] : 0;
  }

  /** Context frame of the stream's first sample (undefined while empty). */
  get startFrame(): number | undefined {
    return this.chunks[0]?.[0];
  }

  /** @internal */
  add(startFrame: number, frames: number): void {
    this.chunks.push([startFrame, frames]);
    this.queued += frames;
  }

  /** Frames of this stream played by the time the output reaches `contextFrame`. */
  playedFrames(contextFrame: number): number {
    let played = 0;
    for (const [start, length] of this.chunks) {
      if (contextFrame <= start) break;
      played += Math.min(length, contextFrame - start);
    }
    return played;
  }
}

/**
 * Owns speech output: an AudioContext (created on first use), a gain node for fades, and
 * the chunks scheduled on it. Chunks arrive already resampled to the context's rate and
 * are laid end to end on exact frame boundaries with AudioBufferSourceNodes, so
 * consecutive clauses join with no gap and no overlap; a chunk that arrives after the
 * audio in front of it has run out starts as soon as possible (an underrun, reported).
 *
 * `interrupt()` fades to silence in {@link INTERRUPT_FADE_MS} and drops everything
 * scheduled. `close()` (and the host leaving the DOM) releases the context.
 *
 * @example
 * const playback = new PlaybackController(host);
 * const rate = await playback.open();            // the context's sample rate
 * const stream = new PlaybackStream();
 * playback.enqueue(stream, pcmAtRate);
 * stream.playedFrames(playback.audibleFrame());  // how much of it was heard
 */
export class PlaybackController implements ReactiveController {
  private context: AudioContext | null = null;
  private opening: Promise<AudioContext> | null = null;
  private gain: GainNode | null = null;
  private readonly sources = new Set<AudioBufferSourceNode>();
  /** Context frame where the next chunk goes (end of everything scheduled). */
  private nextFrame = 0;
  /** RMS of each scheduled block of LEVEL_BLOCK_MS, keyed by its first context frame, in order. */
  private levels: { frame: number; rms: number }[] = [];
  /** hold() ran and resume()/interrupt() has not: the context is (being) suspended. */
  private held = false;
  private suspendTimer: ReturnType<typeof setTimeout> | null = null;
  /**
   * Watches the context for being suspended by anyone but hold(): then the output is blocked
   * (reported), waiting for a gesture or the system to let it run.
   */
  private suspension: SuspensionWatch | null = null;
  private readonly callbacks: PlaybackCallbacks | undefined;

  constructor(host: ReactiveControllerHost, callbacks?: PlaybackCallbacks) {
    this.callbacks = callbacks;
    host.addController(this);
  }

  /** resume() calls of our own (after hold()) not settled yet: the suspension they end is ours. */
  private ownResumes = 0;

  /** The output is blocked: replies wait until a visitor gesture (or the system) lets it run. */
  get isBlocked(): boolean {
    return this.suspension?.suspended ?? false;
  }

  hostDisconnected(): void {
    void this.close();
  }

  get sampleRateHz(): number | undefined {
    return this.context?.sampleRate;
  }

  /** Creates (once) and resumes the output context; resolves with its sample rate. */
  async open(): Promise<number> {
    this.opening ??= this.create().catch((error: unknown) => {
      this.opening = null;
      throw error;
    });
    const context = await this.opening;
    return context.sampleRate;
  }

  /**
   * Schedules `pcm` (at the context's rate) right after everything already scheduled,
   * and no sooner than `delayMs` from now. Returns the page time (`performance.now()`) its first sample is due and the
   * silence, in ms, inserted before it because it came late.
   */
  enqueue(stream: PlaybackStream, pcm: Float32Array, delayMs = 0): { startsAt: number; underrunMs: number } {
    const context = this.context;
    if (!context || !this.gain) throw new VoiceAgentError('audio-unsupported', 'Speech output is not open.');
    const rate = context.sampleRate;
    const earliest = Math.ceil(context.currentTime * rate) + START_LEAD_FRAMES + Math.round((delayMs / 1000) * rate);
    const underrun = stream.queuedFrames > 0 && this.nextFrame < earliest ? earliest - this.nextFrame : 0;
    const start = Math.max(this.nextFrame, earliest);
    if (pcm.length > 0) {
      const buffer = context.createBuffer(1, pcm.length, rate);
      buffer.copyToChannel(pcm as Float32Array<ArrayBuffer>, 0);
      const source = context.createBufferSource();
      source.buffer = buffer;
      source.connect(this.gain);
      source.onended = () => {
        source.disconnect();
        this.sources.delete(source);
      };
      source.start(start / rate);
      this.sources.add(source);
      this.recordLevels(start, pcm, rate);
    }
    stream.add(start, pcm.length);
    this.nextFrame = start + pcm.length;
    const startsAt = performance.now() + (start / rate - context.currentTime) * 1000;
    return { startsAt, underrunMs: (underrun / rate) * 1000 };
  }

  /**
   * The context frame being heard now: the output timestamp where the browser reports
   * one, else the graph time less the reported output latency.
   */
  audibleFrame(): number {
    const context = this.context;
    if (!context) return 0;
    const stamp = typeof context.getOutputTimestamp === 'function' ? context.getOutputTimestamp() : undefined;
    const time =
      stamp?.contextTime !== undefined && stamp.contextTime > 0
        ? stamp.contextTime
        : Math.max(0, context.currentTime - (context.outputLatency || context.baseLatency || 0));
    return Math.floor(time * context.sampleRate);
  }

  /** The context frame being rendered now (graph time, ahead of what is audible). */
  currentFrame(): number {
    return this.context ? Math.floor(this.context.currentTime * this.context.sampleRate) : 0;
  }

  /**
   * The level of what was scheduled to play over context frames [from, to): the highest
   * RMS over any {@link LEVEL_WINDOW_MS} stretch in it (silence counted as silence). A
   * peak rather than a mean, so a pause between the agent's sentences does not hide the
   * words just before it, whose echo may still be arriving. The echo gate compares it
   * with the microphone.
   */
  outputLevel(fromFrame: number, toFrame: number): number {
    const rate = this.context?.sampleRate;
    if (!rate || toFrame <= fromFrame) return 0;
    const block = Math.round((LEVEL_BLOCK_MS / 1000) * rate);
    const perWindow = Math.max(1, Math.round(LEVEL_WINDOW_MS / LEVEL_BLOCK_MS));
    // Block powers on the grid of the window, silence where nothing was scheduled.
    const count = Math.max(1, Math.ceil((toFrame - fromFrame) / block));
    const powers = new Float64Array(count);
    for (const { frame, rms } of this.levels) {
      if (frame + block <= fromFrame) continue;
      if (frame >= toFrame) break;
      const index = Math.min(count - 1, Math.max(0, Math.floor((frame - fromFrame) / block)));
      powers[index] = Math.max(powers[index]!, rms * rms);
    }
    let best = 0;
    let sum = 0;
    for (let i = 0; i < count; i++) {
      sum += powers[i]!;
      if (i >= perWindow) sum -= powers[i - perWindow]!;
      best = Math.max(best, sum / Math.min(perWindow, i + 1));
    }
    return Math.sqrt(best);
  }

  /** Whether hold() has paused the output. */
  get isHeld(): boolean {
    return this.held;
  }

  /**
   * Pauses the output where it is: a {@link HOLD_FADE_MS} fade, then the context is
   * suspended, so everything scheduled (and the played position) waits. `resume()` goes
   * on from there; `interrupt()` drops it.
   */
  hold(): void {
    const context = this.context;
    const gain = this.gain;
    if (this.held) return;
    this.held = true;
    // Nothing has played yet (the visitor went on talking before the first answer's first
    // audio): the output opens held (see create()), so what comes waits like held audio.
    if (!context || !gain) return;
    const now = context.currentTime;
    gain.gain.cancelScheduledValues(now);
    gain.gain.setValueAtTime(gain.gain.value, now);
    gain.gain.linearRampToValueAtTime(0, now + HOLD_FADE_MS / 1000);
    this.suspendTimer = setTimeout(() => {
      this.suspendTimer = null;
      if (this.held && this.context === context) void context.suspend().catch(() => {});
    }, HOLD_FADE_MS);
  }

  /** Plays on after hold(), fading back in. */
  resume(): void {
    const context = this.context;
    if (!this.held) return;
    this.held = false;
    if (this.suspendTimer) clearTimeout(this.suspendTimer);
    this.suspendTimer = null;
    if (!context || !this.gain) return;
    this.resumeOwn(context);
    const gain = this.gain.gain;
    const now = context.currentTime;
    gain.cancelScheduledValues(now);
    gain.setValueAtTime(gain.value, now);
    gain.linearRampToValueAtTime(1, now + HOLD_FADE_MS / 1000);
  }

  /** Fades out and drops everything scheduled. The next chunk starts afresh. */
  interrupt(): void {
    const context = this.context;
    const gain = this.gain;
    if (this.held) {
      // The held audio is dropped: the context must run again for later speech (and an
      // output not opened yet must not open held for the next answer).
      this.held = false;
      if (this.suspendTimer) clearTimeout(this.suspendTimer);
      this.suspendTimer = null;
      if (context) this.resumeOwn(context);
    }
    if (!context || !gain) return;
    const now = context.currentTime;
    const end = now + INTERRUPT_FADE_MS / 1000;
    gain.gain.cancelScheduledValues(now);
    gain.gain.setValueAtTime(gain.gain.value, now);
    gain.gain.linearRampToValueAtTime(0, end);
    for (const source of this.sources) {
      source.onended = null;
      try {
        source.stop(end);
      } catch {
        // Already stopped.
      }
    }
    const fading = [...this.sources];
    this.sources.clear();
    setTimeout(() => {
      for (const source of fading) source.disconnect();
      gain.disconnect();
    }, INTERRUPT_FADE_MS + 50);
    // Later speech goes through a fresh gain node at full level.
    this.gain = this.createGain(context);
    this.nextFrame = Math.ceil(end * context.sampleRate);
    this.levels = this.levels.filter((level) => level.frame < this.nextFrame);
  }

  /** Stops output and closes the context. A later `open()` starts a new one. */
  async close(): Promise<void> {
    const context = this.context;
    this.suspension?.stop();
    this.suspension = null;
    this.context = null;
    this.opening = null;
    this.gain = null;
    this.nextFrame = 0;
    this.levels = [];
    this.held = false;
    if (this.suspendTimer) clearTimeout(this.suspendTimer);
    this.suspendTimer = null;
    for (const source of this.sources) {
      source.onended = null;
      try {
        source.stop();
      } catch {
        // Already stopped.
      }
    }
    this.sources.clear();
    if (context && context.state !== 'closed') await context.close().catch(() => {});
  }

  private async create(): Promise<AudioContext> {
    if (typeof AudioContext === 'undefined') {
      throw new VoiceAgentError('audio-unsupported', 'This browser cannot play audio (no Web Audio API); the reply is shown as text.');
    }
    const context = new AudioContext({ latencyHint: 'interactive' });
    this.context = context;
    this.gain = this.createGain(context);
    const suspension = this.watchSuspension(context);
    this.suspension = suspension;
    if (context.state !== 'running') {
      // Without a user gesture (autoplay policy) resume() never settles: after a moment the
      // output counts as blocked, and what is scheduled on it waits for the visitor's next
      // gesture instead of being lost.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        context.resume().catch(() => {}),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, START_WAIT_MS))),
      ]);
      clearTimeout(timer);
      // (Read afresh: the await may have changed it, which TypeScript cannot see.)
      if (this.context === context && (context.state as AudioContextState) !== 'running') suspension.markSuspended();
    }
    if (this.context !== context) throw new VoiceAgentError('audio-blocked', 'Speech output was closed while it opened.');
    this.nextFrame = 0;
    if (this.held) {
      // hold() came before the output existed: open it silent and suspended, as hold() leaves it.
      this.gain!.gain.setValueAtTime(0, context.currentTime);
      void context.suspend().catch(() => {});
    }
    return context;
  }

  /**
   * The context left `running` by someone else's doing (the autoplay policy, the system, page
   * script) — not by hold(), nor before our own resume after it settled — or came back to it.
   */
  private watchSuspension(context: AudioContext): SuspensionWatch {
    return new SuspensionWatch(context, {
      ours: () => this.held || this.ownResumes > 0,
      onSuspended: () =>
        this.callbacks?.onBlocked(
          new VoiceAgentError(
            'audio-blocked',
            'Sound is paused (the browser has not allowed it yet, or the system suspended it). Click or press a key anywhere on the page and the reply will be spoken.',
          ),
        ),
      onResumed: () => this.callbacks?.onResumed(),
    });
  }

  /** Resumes after our own hold(); until it settles, a `suspended` state is not a block. */
  private resumeOwn(context: AudioContext): void {
    this.ownResumes++;
    void context
      .resume()
      .catch(() => {})
      .finally(() => this.ownResumes--);
  }

  private recordLevels(start: number, pcm: Float32Array, rate: number): void {
    const block = Math.round((LEVEL_BLOCK_MS / 1000) * rate);
    // Relative to now, not to this chunk: replies are often scheduled seconds ahead.
    const oldest = this.currentFrame() - Math.round((LEVEL_HISTORY_MS / 1000) * rate);
    while (this.levels.length > 0 && this.levels[0]!.frame < oldest) this.levels.shift();
    for (let offset = 0; offset < pcm.length; offset += block) {
      const end = Math.min(pcm.length, offset + block);
      let power = 0;
      for (let i = offset; i < end; i++) power += pcm[i]! * pcm[i]!;
      this.levels.push({ frame: start + offset, rms: Math.sqrt(power / (end - offset)) });
    }
  }

  private createGain(context: AudioContext): GainNode {
    const gain = context.createGain();
    gain.connect(context.destination);
    return gain;
  }
}


import type { ReactiveController, ReactiveControllerHost } from 'lit';
import captureWorkletUrl from '../../workers/capture.worklet.ts?worker&url';
import { resumeOrFail, SuspensionWatch } from './audio-context.ts';
import { MicOpenCancelled, VoiceAgentError, classifyMediaError } from '../platform/errors.ts';
import {
  CAPTURE_PROCESSOR_NAME,
  FRAME_SAMPLES,
  LEVEL_INTERVAL_MS,
  TARGET_SAMPLE_RATE_HZ,
  isCaptureStatusMessage,
  type CaptureControlMessage,
  type CaptureProcessorOptions,
} from '../platform/protocol.ts';
import type { MicrophonePort } from '../session/ports.ts';

export interface MicControllerCallbacks {
  /** Input RMS (0..1), about 20 times a second. */
  onLevel(rms: number): void;
  /**
   * The microphone went away while open or opening: its track ended (device unplugged,
   * permission revoked, stopped from outside: `mic-ended`), or another `<voice-agent>` on
   * the page opened it (`mic-taken-over`). Capture is already closed.
   */
  onLost(error: VoiceAgentError): void;
  /** After a `mic-ended`: the devices changed and an audio input is there again. */
  onDeviceAvailable(): void;
  /**
   * The system suspended the capture context while it was open (`mic-interrupted`): no
   * frames arrive until it runs again, by itself or on the visitor's next gesture.
   */
  onInterrupted(error: VoiceAgentError): void;
  /** After `onInterrupted`: the capture runs again. */
  onResumed(): void;
}

/** How often an open track's `readyState` is checked: `track.stop()` fires no `ended` event. */
const TRACK_CHECK_MS = 1000;

/**
 * The one controller on this page that holds (or is opening) the microphone. Several
 * `<voice-agent>` elements share one page and one microphone: the newest `open()` (the
 * element the visitor pressed last) takes it, and the previous owner is told
 * (`mic-taken-over`) and closes.
 */
let micOwner: MicController | null = null;

/**
 * Owns the microphone: permission, `getUserMedia` track, the capture `AudioContext` and
 * the capture AudioWorklet. `open()` hands back a MessagePort on which 16 kHz frames
 * arrive; `close()` (and the host leaving the DOM) releases every piece, so the browser's
 * recording indicator goes off.
 *
 * @example
 * const mic = new MicController(host, { onLevel: (rms) => …, onEnded: (error) => … });
 * const frames = await mic.open();   // MessagePort of { type: 'frame', index, pcm }
 * await mic.close();
 */
export class MicController implements ReactiveController, MicrophonePort {
  private readonly callbacks: MicControllerCallbacks;
  private stream: MediaStream | null = null;
  private context: AudioContext | null = null;
  private source: MediaStreamAudioSourceNode | null = null;
  private node: AudioWorkletNode | null = null;
  /** Bumped by close(): an open() that sees it change gives up and cleans after itself. */
  private generation = 0;
  private trackCheck: ReturnType<typeof setInterval> | null = null;
  /** Listening for `devicechange` after the track ended. */
  private watchingDevices = false;
  /** Watches the open capture context for the system suspending it (`mic-interrupted`). */
  private suspension: SuspensionWatch | null = null;

  constructor(host: ReactiveControllerHost, callbacks: MicControllerCallbacks) {
    this.callbacks = callbacks;
    host.addController(this);
  }

  get isOpen(): boolean {
    return this.node !== null;
  }

  /** The capture context's sample rate (before resampling), once open. */
  get inputSampleRateHz(): number | undefined {
    return this.context?.sampleRate;
  }

  hostDisconnected(): void {
    this.unwatchDevices();
    void this.close();
  }

  /**
   * Asks for the microphone and starts capture. Must be called from (or soon after) a
   * user gesture so the AudioContext may start. Rejects with a classified
   * {@link VoiceAgentError}, or {@link MicOpenCancelled} if `close()` intervened.
   */
  async open(): Promise<MessagePort> {
    await this.close();
    const generation = this.generation;
    if (micOwner && micOwner !== this) micOwner.lose('mic-taken-over');
    micOwner = this;
    const unsupported = detectUnsupported();
    if (unsupported) throw unsupported;

    // Created before the first await so it counts as created by the user's gesture.
    const context = new AudioContext({ latencyHint: 'interactive' });
    this.context = context;
    try {
      // The worklet module and the permission prompt load in parallel. allSettled, so a
      // stream granted while the module failed is still ours to stop.
      const [granted, workletLoaded] = await Promise.allSettled([
        requestMicrophone(),
        context.audioWorklet.addModule(captureWorkletUrl),
      ]);
      if (granted.status === 'fulfilled') this.stream = granted.value;
      if (generation !== this.generation) throw new MicOpenCancelled();
      if (granted.status === 'rejected') throw granted.reason;
      if (workletLoaded.status === 'rejected') {
        const reason: unknown = workletLoaded.reason;
        throw new VoiceAgentError(
          'audio-unsupported',
          `The audio capture module (${captureWorkletUrl}) could not be loaded: ${reason instanceof Error ? reason.message : String(reason)}. A Content-Security-Policy may block it.`,
          { cause: reason },
        );
      }
      const stream = granted.value;
      if (context.state !== 'running') {
        await resumeOrFail(context, 'The browser has not allowed audio yet. Press the talk button to start.');
      }

      const options: CaptureProcessorOptions = {
        targetSampleRateHz: TARGET_SAMPLE_RATE_HZ,
        frameSamples: FRAME_SAMPLES,
        levelIntervalMs: LEVEL_INTERVAL_MS,
      };
      const node = new AudioWorkletNode(context, CAPTURE_PROCESSOR_NAME, {
        numberOfInputs: 1,
        numberOfOutputs: 0,
        channelCount: 1,
        channelCountMode: 'explicit',
        channelInterpretation: 'speakers',
        processorOptions: options,
      });
      node.port.onmessage = (event: MessageEvent<unknown>) => {
        if (isCaptureStatusMessage(event.data)) this.callbacks.onLevel(event.data.rms);
      };
      const frames = this.connectFrames(node);

      const source = context.createMediaStreamSource(stream);
      source.connect(node);
      this.source = source;
      this.node = node;

      for (const track of stream.getAudioTracks()) {
        track.addEventListener('ended', this.handleTrackEnded);
      }
      this.trackCheck = setInterval(() => {
        if (stream.getAudioTracks().some((track) => track.readyState === 'ended')) this.handleTrackEnded();
      }, TRACK_CHECK_MS);
      this.suspension = this.watchSuspension(context);
      // A device is ours again; until then (a failed attempt too) device changes keep being watched.
      this.unwatchDevices();
      return frames;
    } catch (error) {
      const cancelled = generation !== this.generation;
      await this.release();
      if (cancelled || error instanceof MicOpenCancelled) throw new MicOpenCancelled();
      if (error instanceof VoiceAgentError) throw error;
      throw new VoiceAgentError(
        'audio-unsupported',
        `Audio capture could not start: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }

  /** A new frame port on the running capture (the worklet sends to the newest one only). */
  reconnect(): MessagePort | null {
    return this.node ? this.connectFrames(this.node) : null;
  }

  private connectFrames(node: AudioWorkletNode): MessagePort {
    const channel = new MessageChannel();
    const connect: CaptureControlMessage = { type: 'connect', frames: channel.port1 };
    node.port.postMessage(connect, [channel.port1]);
    return channel.port2;
  }

  /** Stops capture and releases the track, nodes and context. Safe to call any time. */
  async close(): Promise<void> {
    this.generation++;
    await this.release();
  }

  private readonly handleTrackEnded = () => {
    if (!this.stream) return; // already released
    this.lose('mic-ended');
    this.watchDevices();
  };

  /**
   * Nothing of ours suspends the capture context: when it leaves `running` the system did (a
   * call, another app on the audio device, a frozen tab) or page script.
   */
  private watchSuspension(context: AudioContext): SuspensionWatch {
    return new SuspensionWatch(context, {
      onSuspended: () =>
        this.callbacks.onInterrupted(
          new VoiceAgentError(
            'mic-interrupted',
            'Listening is paused: the system suspended the microphone audio. It resumes by itself when the system allows, or click or press a key anywhere on the page.',
          ),
        ),
      onResumed: () => this.callbacks.onResumed(),
    });
  }

  /** Closes capture and tells the owner why (once per open: a closed controller is not told again). */
  private lose(code: 'mic-ended' | 'mic-taken-over'): void {
    void this.close();
    const typeHint = ' You can still type your message below.';
    this.callbacks.onLost(
      code === 'mic-ended'
        ? new VoiceAgentError(
            'mic-ended',
            'The microphone stopped (unplugged or access revoked). Listening resumes when a microphone is connected, or press the talk button.' +
              typeHint,
          )
        : new VoiceAgentError(
            'mic-taken-over',
            'Another voice assistant on this page is using the microphone now. Press the talk button to talk here again.' + typeHint,
          ),
    );
  }

  private watchDevices(): void {
    if (this.watchingDevices || !navigator.mediaDevices?.addEventListener) return;
    this.watchingDevices = true;
    navigator.mediaDevices.addEventListener('devicechange', this.handleDeviceChange);
  }

  private unwatchDevices(): void {
    if (!this.watchingDevices) return;
    this.watchingDevices = false;
    navigator.mediaDevices.removeEventListener('devicechange', this.handleDeviceChange);
  }

  private readonly handleDeviceChange = () => {
    void navigator.mediaDevices
      .enumerateDevices()
      .then((devices) => {
        if (this.watchingDevices && devices.some((device) => device.kind === 'audioinput')) this.callbacks.onDeviceAvailable();
      })
      .catch(() => {});
  };

  private async release(): Promise<void> {
    const { stream, context, source, node } = this;
    if (micOwner === this) micOwner = null;
    if (this.trackCheck) clearInterval(this.trackCheck);
    this.trackCheck = null;
    this.suspension?.stop();
    this.suspension = null;
    this.stream = null;
    this.context = null;
    this.source = null;
    this.node = null;
    if (node) {
      const stop: CaptureControlMessage = { type: 'stop' };
      node.port.postMessage(stop);
      node.port.onmessage = null;
      node.port.close();
      node.disconnect();
    }
    source?.disconnect();
    for (const track of stream?.getTracks() ?? []) {
      track.removeEventListener('ended', this.handleTrackEnded);
      track.stop();
    }
    if (context && context.state !== 'closed') await context.close().catch(() => {});
  }
}

/** The constraints we ask for; the browser's processing helps VAD and ASR on laptops. */
async function requestMicrophone(): Promise<MediaStream> {
  try {
    return await navigator.mediaDevices.getUserMedia({
    audio: {
      channelCount: 1,
      echoCancellation: true,
      noiseSuppression: false,
      autoGainControl: false,
      },
    });
  } catch (error) {
    throw classifyMediaError(error, { secureContext: window.isSecureContext, inIframe: window.top !== window });
  }
}

/** Reasons we know up front that capture cannot work here, before prompting anyone. */
function detectUnsupported(): VoiceAgentError | null {
  const typeHint = ' You can still type your message below.';
  if (!window.isSecureContext) {
    return new VoiceAgentError('audio-unsupported', 'The microphone only works on secure (https) pages.' + typeHint);
  }
  if (!navigator.mediaDevices?.getUserMedia) {
    return new VoiceAgentError('audio-unsupported', 'This browser cannot record audio.' + typeHint);
  }
  if (typeof AudioWorkletNode === 'undefined') {
    return new VoiceAgentError('audio-unsupported', 'This browser lacks AudioWorklet, which voice input needs.' + typeHint);
  }
  // Chrome exposes the Permissions-Policy verdict; a cross-origin iframe without
  // allow="microphone" would otherwise fail with a bare NotAllowedError.
  const policy = (document as Document & { featurePolicy?: { allowsFeature(name: string): boolean } }).featurePolicy;
  if (policy && !policy.allowsFeature('microphone')) {
    return new VoiceAgentError(
      'mic-blocked-by-policy',
      'This page does not allow microphone access here. The site must add allow="microphone" to the frame that contains the assistant.' +
        typeHint,
    );
  }
  return null;
}


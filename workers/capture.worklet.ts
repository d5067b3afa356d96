/**
 * Capture AudioWorkletProcessor: mic → mono → 16 kHz → 512-sample frames → VAD worker.
 *
 * Runs on the real-time audio thread, so it stays tiny: no model, no logging, one small
 * allocation per 32 ms frame (the frame itself, which is transferred, not copied). Frames
 * go straight to the VAD worker over a MessagePort so a busy main thread never delays
 * turn detection; only a throttled level reading goes to the main thread.
 */
import { Framer } from '../src/audio/framer.ts';
import { LevelMeter } from '../src/audio/level-meter.ts';
import {
  CAPTURE_PROCESSOR_NAME,
  isCaptureControlMessage,
  type CaptureFrameMessage,
  type CaptureProcessorOptions,
  type CaptureStatusMessage,
} from '../src/platform/protocol.ts';
import { StreamingResampler } from '../src/audio/resampler.ts';

class CaptureProcessor extends AudioWorkletProcessor {
  private readonly resampler: StreamingResampler;
  private readonly framer: Framer;
  private readonly meter: LevelMeter;
  private framePort: MessagePort | null = null;
  private frameIndex = 0;
  private stopped = false;
  /** Reused for the down-mix of multi-channel input. */
  private mono = new Float32Array(128);

  constructor(options: { processorOptions?: unknown }) {
    super();
    const config = options.processorOptions as CaptureProcessorOptions;
    // `sampleRate` is the AudioContext's rate, a global of AudioWorkletGlobalScope.
    this.resampler = new StreamingResampler(sampleRate, config.targetSampleRateHz);
    this.framer = new Framer(config.frameSamples);
    this.meter = new LevelMeter(sampleRate, config.levelIntervalMs);
    this.port.onmessage = (event: MessageEvent<unknown>) => {
      const message = event.data;
      if (!isCaptureControlMessage(message)) return;
      if (message.type === 'connect') {
        // A new detector replaces the last one (whose worker is gone): frames go to it only.
        this.framePort?.close();
        this.framePort = message.frames;
      } else {
        this.stopped = true;
        this.framePort?.close();
        this.framePort = null;
      }
    };
  }

  process(inputs: Float32Array[][]): boolean {
    if (this.stopped) return false;
    const channels = inputs[0];
    const first = channels?.[0];
    if (!channels || !first) return true; // input not connected yet (or the track ended)
    const mono = this.downmix(channels, first);

    const rms = this.meter.push(mono);
    if (rms !== undefined) {
      const status: CaptureStatusMessage = { type: 'level', rms };
      this.port.postMessage(status);
    }

    const port = this.framePort;
    if (!port) return true;
    for (const pcm of this.framer.push(this.resampler.process(mono))) {
      const message: CaptureFrameMessage = { type: 'frame', index: this.frameIndex++, pcm };
      port.postMessage(message, [pcm.buffer as ArrayBuffer]);
    }
    return true;
  }

  private downmix(channels: Float32Array[], first: Float32Array): Float32Array {
    if (channels.length === 1) return first;
    if (this.mono.length !== first.length) this.mono = new Float32Array(first.length);
    const mono = this.mono;
    mono.fill(0);
    for (const channel of channels) {
      for (let i = 0; i < mono.length; i++) mono[i]! += channel[i]! / channels.length;
    }
    return mono;
  }
}

registerProcessor(CAPTURE_PROCESSOR_NAME, CaptureProcessor);

/**
 * A microphone with speakers in the room: an init script that wraps `getUserMedia` so the
 * page gets the fake microphone (Chromium's WAV) mixed with
 *
 * - the page's own output — everything connected to any `AudioContext.destination`,
 *   i.e. the agent's voice — at `echoGain`, `echoDelayMs` later (a loudspeaker with no
 *   headset, and no echo canceller in the way: the mix happens after capture, so this is
 *   the worst case for the element's echo gate);
 * - speech the test plays "into the room" at a moment it chooses (`__micMix.say()`), so a
 *   visitor can talk over the agent while it is speaking, whatever the machine's speed.
 *
 * The element is not touched: it opens the microphone as usual and gets the mixed track.
 */
import { expect, type Page } from '@playwright/test';
import type { Pcm } from './wav.ts';

export interface MicMixOptions {
  /** Level of the agent's voice in the microphone (1 = as loud as the output). 0: no echo. */
  readonly echoGain: number;
  /** Echo path delay (output latency + the room), ms. */
  readonly echoDelayMs: number;
}

export function micMixScript({ echoGain, echoDelayMs }: MicMixOptions): string {
  return `(() => {
  const ECHO_GAIN = ${JSON.stringify(echoGain)};
  const ECHO_DELAY_S = ${JSON.stringify(echoDelayMs / 1000)};
  const connect = AudioNode.prototype.connect;
  let mix = null;          // { context, echo, room }
  const outputs = new Map(); // output context → its MediaStreamAudioDestinationNode
  const feedEcho = (dest) => connect.call(mix.context.createMediaStreamSource(dest.stream), mix.echo);
  const outputFor = (context) => {
    let dest = outputs.get(context);
    if (!dest) {
      dest = context.createMediaStreamDestination();
      outputs.set(context, dest);
      if (mix) feedEcho(dest);
    }
    return dest;
  };
  AudioNode.prototype.connect = function (destination, ...rest) {
    const result = connect.call(this, destination, ...rest);
    if (destination instanceof AudioDestinationNode && (!mix || this.context !== mix.context)) {
      connect.call(this, outputFor(this.context));
    }
    return result;
  };
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await original(constraints);
    if (!constraints || !constraints.audio) return stream;
    const context = new AudioContext({ sampleRate: 48000 });
    const out = context.createMediaStreamDestination();
    connect.call(context.createMediaStreamSource(stream), out);
    const echo = context.createGain();
    echo.gain.value = ECHO_GAIN;
    const delay = context.createDelay(1);
    delay.delayTime.value = ECHO_DELAY_S;
    connect.call(echo, delay);
    connect.call(delay, out);
    const room = context.createGain();
    connect.call(room, out);
    mix = { context, echo, room };
    for (const dest of outputs.values()) feedEcho(dest);
    const [track] = out.stream.getAudioTracks();
    const stop = track.stop.bind(track);
    track.stop = () => {
      stop();
      for (const t of stream.getTracks()) t.stop();
      void context.close();
    };
    return out.stream;
  };
  window.__micMix = {
    /** Plays samples into the microphone; resolves with the wall-clock time they start. */
    say(samples, rate) {
      if (!mix) throw new Error('the microphone is not open');
      const buffer = mix.context.createBuffer(1, samples.length, rate);
      buffer.copyToChannel(Float32Array.from(samples), 0);
      const source = mix.context.createBufferSource();
      source.buffer = buffer;
      connect.call(source, mix.room);
      const lead = 0.05;
      source.start(mix.context.currentTime + lead);
      return performance.timeOrigin + performance.now() + lead * 1000;
    },
  };
})();`;
}

/** Plays `pcm` into the page's microphone now; returns the wall-clock time it starts. */
export function sayIntoMic(page: Page, pcm: Pcm): Promise<number> {
  return page.evaluate(
    ({ samples, rate }) => (window as unknown as { __micMix: { say(s: number[], r: number): number } }).__micMix.say(samples, rate),
    { samples: Array.from(pcm.samples), rate: pcm.sampleRateHz },
  );
}

/** Keeps every `voice-level` reading with its wall-clock time. */
export const LEVEL_RECORDER_SCRIPT = `window.__levels = [];
document.addEventListener('voice-level', (e) => window.__levels.push([performance.timeOrigin + performance.now(), e.detail.rms]));`;

/**
 * How long sound played into the mixed microphone takes to reach the element's input
 * (this rig's own latency: Chromium's MediaStream hops): a 150 ms beep is played while all
 * is quiet and the first level reading that hears it is found. A reading covers the 50 ms
 * before it arrives, so 50 ms is taken off: the estimate errs short, which makes the
 * barge-in latency measured against it err long.
 */
export async function measureInputLatency(page: Page): Promise<number> {
  const rate = 16_000;
  const beep: Pcm = {
    sampleRateHz: rate,
    samples: Float32Array.from({ length: 0.15 * rate }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 1000 * i) / rate)),
  };
  const playedAt = await sayIntoMic(page, beep);
  const firstHeard = () =>
    page.evaluate(
      (t) => (window as unknown as { __levels: [number, number][] }).__levels.find(([at, rms]) => at > t && rms > 0.05)?.[0] ?? null,
      playedAt,
    );
  await expect.poll(firstHeard, { timeout: 5000 }).not.toBeNull();
  const heardAt = (await firstHeard())!;
  return Math.max(0, heardAt - playedAt - 50);
}

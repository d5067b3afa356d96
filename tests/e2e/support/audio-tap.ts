/**
 * Captures what a page sends to its speakers: an init script mirrors every
 * `AudioNode.connect(context.destination)` into a recording AudioWorklet on the same
 * context, which posts the mixed signal (with the context frame of each block) back to
 * the page. The element is not touched: this taps the graph from outside, as TESTING.md
 * suggests, so it sees exactly what reaches the destination (after fades, gaps and all).
 */
import type { Page } from '@playwright/test';

/**
 * The recording AudioWorklet processor's module source. {@link AUDIO_TAP_SCRIPT} loads it
 * from a blob: URL; a page whose Content-Security-Policy refuses blob: scripts can serve
 * it as a file of its own origin instead ({@link audioTapScript}).
 */
export const AUDIO_TAP_PROCESSOR = `
    class VoiceAgentTestTap extends AudioWorkletProcessor {
      constructor() { super(); this.blocks = []; this.first = -1; }
      process(inputs) {
        const channels = inputs[0];
        const block = new Float32Array(128);
        if (channels && channels.length) {
          for (const channel of channels) for (let i = 0; i < 128; i++) block[i] += channel[i] / channels.length;
        }
        if (this.first < 0) this.first = currentFrame;
        this.blocks.push(block);
        if (this.blocks.length >= 32) this.flush();
        return true;
      }
      flush() {
        const data = new Float32Array(this.blocks.length * 128);
        this.blocks.forEach((b, i) => data.set(b, i * 128));
        this.port.postMessage({ frame: this.first, data }, [data.buffer]);
        this.blocks = []; this.first = -1;
      }
    }
    registerProcessor('voice-agent-test-tap', VoiceAgentTestTap);`;

/**
 * The tap's init script, loading the processor from `moduleUrl` (default: a blob: URL
 * made from {@link AUDIO_TAP_PROCESSOR}).
 */
export function audioTapScript(moduleUrl?: string): string {
  const url = moduleUrl
    ? JSON.stringify(moduleUrl)
    : `URL.createObjectURL(new Blob([${JSON.stringify(AUDIO_TAP_PROCESSOR)}], { type: 'text/javascript' }))`;
  return `(() => {
  const moduleUrl = ${url};
  const taps = (window.__taps = []);
  const connect = AudioNode.prototype.connect;
  const tapFor = (context) => {
    context.__tap ??= context.audioWorklet.addModule(moduleUrl).then(() => {
      const node = new AudioWorkletNode(context, 'voice-agent-test-tap', {
        numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1],
      });
      const record = { context, rate: context.sampleRate, chunks: [] };
      taps.push(record);
      node.port.onmessage = (event) => record.chunks.push(event.data);
      // Pulled by the destination so it runs every render quantum; it outputs silence.
      connect.call(node, context.destination);
      return node;
    });
    return context.__tap;
  };
  AudioNode.prototype.connect = function (destination, ...rest) {
    const result = connect.call(this, destination, ...rest);
    if (destination instanceof AudioDestinationNode) {
      tapFor(this.context).then((tap) => connect.call(this, tap)).catch((error) => console.error('test tap:', error));
    }
    return result;
  };
})();`;
}

/** Init script: install before the page's own scripts (`openAgentPage({ initScripts })`). */
export const AUDIO_TAP_SCRIPT = audioTapScript();

export interface CapturedAudio {
  readonly sampleRateHz: number;
  /** Context frame of `samples[0]`. */
  readonly startFrame: number;
  readonly samples: Float32Array;
}

/** The signal captured on the page's (last) output context so far. */
export async function readCapturedAudio(page: Page): Promise<CapturedAudio> {
  const raw = await page.evaluate(() => {
    const taps = (window as unknown as { __taps: { rate: number; chunks: { frame: number; data: Float32Array }[] }[] }).__taps;
    const tap = taps.at(-1);
    if (!tap || tap.chunks.length === 0) return null;
    const first = tap.chunks[0]!.frame;
    const last = tap.chunks.at(-1)!;
    const all = new Float32Array(last.frame + last.data.length - first);
    for (const chunk of tap.chunks) all.set(chunk.data, chunk.frame - first);
    const bytes = new Uint8Array(all.buffer);
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { rate: tap.rate, first, base64: btoa(binary) };
  });
  if (!raw) throw new Error('Nothing reached the page output (no AudioNode was connected to a destination).');
  const bytes = Buffer.from(raw.base64, 'base64');
  const samples = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
  return { sampleRateHz: raw.rate, startFrame: raw.first, samples };
}

/** The graph time (context frame) of the page's output context now. */
export function outputFrame(page: Page): Promise<number> {
  return page.evaluate(() => {
    const tap = (window as unknown as { __taps: { context: AudioContext }[] }).__taps.at(-1);
    return tap ? Math.floor(tap.context.currentTime * tap.context.sampleRate) : 0;
  });
}

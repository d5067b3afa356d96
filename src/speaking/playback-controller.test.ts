import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PlaybackController } from './playback-controller.ts';

/** A fake AudioParam: its value follows the last value set or ramped to (time is not simulated). */
class FakeParam {
  value = 1;
  setValueAtTime(value: number) {
    this.value = value;
  }
  linearRampToValueAtTime(value: number) {
    this.value = value;
  }
  cancelScheduledValues() {}
}

/** A fake output AudioContext: only what PlaybackController uses; it runs when resumed. */
class FakeOutputContext extends EventTarget {
  static made: FakeOutputContext[] = [];
  state: AudioContextState = 'running';
  readonly sampleRate = 48_000;
  readonly currentTime = 0;
  readonly destination = {};
  readonly gains: FakeParam[] = [];
  constructor() {
    super();
    FakeOutputContext.made.push(this);
  }
  createGain() {
    const gain = new FakeParam();
    this.gains.push(gain);
    return { gain, connect() {}, disconnect() {} };
  }
  private setState(state: AudioContextState) {
    this.state = state;
    this.dispatchEvent(new Event('statechange'));
  }
  resume() {
    this.setState('running');
    return Promise.resolve();
  }
  suspend() {
    this.setState('suspended');
    return Promise.resolve();
  }
  close() {
    this.setState('closed');
    return Promise.resolve();
  }
}

/** The gain the next chunk plays through (the newest one). */
const liveGain = (context: FakeOutputContext) => context.gains.at(-1)!;

describe('PlaybackController held before its output opens (a fake AudioContext)', () => {
  let playback: PlaybackController;

  beforeEach(() => {
    FakeOutputContext.made = [];
    vi.stubGlobal('AudioContext', FakeOutputContext);
    vi.stubGlobal('window', new EventTarget());
    vi.stubGlobal('document', Object.assign(new EventTarget(), { visibilityState: 'visible' }));
    playback = new PlaybackController({ addController() {} } as never);
  });

  afterEach(async () => {
    await playback.close();
    vi.unstubAllGlobals();
  });

  it('hold() before the first answer has any audio: the output opens silent and suspended; resume() plays it', async () => {
    playback.hold();
    await playback.open();
    const [context] = FakeOutputContext.made;
    expect(context!.state).toBe('suspended');
    expect(liveGain(context!).value).toBe(0);
    expect(playback.isHeld).toBe(true);
    expect(playback.isBlocked).toBe(false); // our own hold, not the browser's doing
    playback.resume();
    await Promise.resolve();
    expect(context!.state).toBe('running');
    expect(liveGain(context!).value).toBe(1);
  });

  it('hold() then interrupt() before the output opens: the next answer opens it running, at full level', async () => {
    playback.hold();
    playback.interrupt();
    expect(playback.isHeld).toBe(false);
    await playback.open();
    const [context] = FakeOutputContext.made;
    expect(context!.state).toBe('running');
    expect(liveGain(context!).value).toBe(1);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SUSPENSION_CONFIRM_MS, SuspensionWatch } from './audio-context.ts';

/**
 * A fake AudioContext: only what the watch uses (`state`, `statechange`, `resume()`).
 * `resume()` runs it only where the fake says a gesture or the system allows it.
 */
class FakeContext extends EventTarget {
  state: AudioContextState = 'running';
  resumeAllowed = false;
  resumeCalls = 0;

  setState(state: AudioContextState): void {
    this.state = state;
    this.dispatchEvent(new Event('statechange'));
  }

  resume(): Promise<void> {
    this.resumeCalls++;
    if (this.resumeAllowed) this.setState('running');
    return Promise.resolve();
  }
}

describe('SuspensionWatch', () => {
  let context: FakeContext;
  let events: string[];
  let ours: boolean;
  let watch: SuspensionWatch;

  beforeEach(() => {
    vi.useFakeTimers();
    // The page: gestures arrive on `window`, visibility on `document` (node has neither).
    vi.stubGlobal('window', new EventTarget());
    vi.stubGlobal('document', Object.assign(new EventTarget(), { visibilityState: 'visible' }));
    context = new FakeContext();
    events = [];
    ours = false;
    watch = new SuspensionWatch(context as unknown as AudioContext, {
      onSuspended: () => events.push('suspended'),
      onResumed: () => events.push('resumed'),
      ours: () => ours,
    });
  });

  afterEach(() => {
    watch.stop();
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  const click = () => window.dispatchEvent(new Event('pointerdown'));

  it('reports a suspension once it has lasted, resumes on the next gesture and reports that', () => {
    context.setState('suspended');
    vi.advanceTimersByTime(SUSPENSION_CONFIRM_MS - 1);
    expect(events).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(events).toEqual(['suspended']);
    expect(watch.suspended).toBe(true);

    click(); // the browser refuses: nothing changes
    expect(context.resumeCalls).toBe(1);
    expect(events).toEqual(['suspended']);

    context.resumeAllowed = true;
    click();
    expect(events).toEqual(['suspended', 'resumed']);
    expect(watch.suspended).toBe(false);

    click(); // running again: no more resume attempts
    expect(context.resumeCalls).toBe(2);
  });

  it('ignores a flicker shorter than the wait, and suspensions of our own', () => {
    context.setState('suspended');
    vi.advanceTimersByTime(100);
    context.setState('running');
    vi.advanceTimersByTime(SUSPENSION_CONFIRM_MS);

    ours = true;
    context.setState('suspended');
    vi.advanceTimersByTime(SUSPENSION_CONFIRM_MS * 4);
    click();
    expect(context.resumeCalls).toBe(0);
    expect(events).toEqual([]);
  });

  it('reports the system resuming it without a gesture, and a page becoming visible resumes it', () => {
    context.setState('interrupted' as AudioContextState);
    vi.advanceTimersByTime(SUSPENSION_CONFIRM_MS);
    context.setState('running');
    expect(events).toEqual(['suspended', 'resumed']);

    context.setState('suspended');
    vi.advanceTimersByTime(SUSPENSION_CONFIRM_MS);
    context.resumeAllowed = true;
    document.dispatchEvent(new Event('visibilitychange'));
    expect(events).toEqual(['suspended', 'resumed', 'suspended', 'resumed']);
  });

  it('markSuspended reports at once; after stop() nothing is reported or resumed', () => {
    watch.markSuspended();
    watch.markSuspended();
    expect(events).toEqual(['suspended']);

    watch.stop();
    expect(watch.suspended).toBe(false);
    context.resumeAllowed = true;
    click();
    expect(context.resumeCalls).toBe(0);
    context.setState('suspended');
    vi.advanceTimersByTime(SUSPENSION_CONFIRM_MS);
    context.setState('running');
    expect(events).toEqual(['suspended']);
  });
});

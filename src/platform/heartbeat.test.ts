import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startHeartbeat } from './heartbeat.ts';

describe('startHeartbeat', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const timing = { heartbeatMs: 1000, unansweredMs: 3000 };

  it('a worker that answers every ping is never lost', async () => {
    const lost = vi.fn();
    const ping = vi.fn(() => Promise.resolve());
    const stop = startHeartbeat(ping, timing, 'detector', lost);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(lost).not.toHaveBeenCalled();
    expect(ping.mock.calls.length).toBeGreaterThanOrEqual(9);
    stop();
  });

  it('a ping left unanswered for unansweredMs loses the worker once, naming it', async () => {
    const lost = vi.fn();
    const ping = vi.fn(() => new Promise<never>(() => {}));
    startHeartbeat(ping, timing, 'voice activity detector', lost);
    await vi.advanceTimersByTimeAsync(3000);
    expect(lost).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1000);
    expect(lost).toHaveBeenCalledTimes(1);
    expect(lost.mock.calls[0]![0]).toBe('The voice activity detector stopped answering (no reply for 3 s).');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(lost).toHaveBeenCalledTimes(1);
    expect(ping).toHaveBeenCalledTimes(1);
  });

  it('a rejected ping (closed port) counts as unanswered', async () => {
    const lost = vi.fn();
    startHeartbeat(() => Promise.reject(new Error('closed')), timing, 'recognizer', lost);
    await vi.advanceTimersByTimeAsync(4000);
    expect(lost).toHaveBeenCalledTimes(1);
  });

  it('a deadline loses work that outlives it, even with pings answered', async () => {
    const lost = vi.fn();
    startHeartbeat(() => Promise.resolve(), { ...timing, deadlineMs: 5000 }, 'recognizer', lost);
    await vi.advanceTimersByTimeAsync(5000);
    expect(lost).toHaveBeenCalledWith('The recognizer did not finish a call within 5 s.');
  });

  it('stopped: nothing more happens', async () => {
    const lost = vi.fn();
    const ping = vi.fn(() => new Promise<never>(() => {}));
    const stop = startHeartbeat(ping, { ...timing, deadlineMs: 2000 }, 'recognizer', lost);
    stop();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(lost).not.toHaveBeenCalled();
    expect(ping).not.toHaveBeenCalled();
  });
});

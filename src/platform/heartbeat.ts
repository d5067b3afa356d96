/**
 * One heartbeat for every watched worker. A worker can die without an `error` event
 * (killed by the browser, terminated from outside) or hang; either way whatever waits on
 * it would wait for ever. The heartbeat pings it every `heartbeatMs` and reports it lost
 * once a ping stays unanswered for `unansweredMs`, or, with a `deadlineMs`, once the
 * watched work outlives it. Timer-driven (no clock reads), so fake timers drive it in tests.
 */
export interface HeartbeatTiming {
  readonly heartbeatMs: number;
  readonly unansweredMs: number;
  /** The watched work must end within this (none: the worker is watched until stopped). */
  readonly deadlineMs?: number;
}

/**
 * Watches a worker through `ping` (none: only the deadline applies). `onLost` is called at
 * most once, with why in words naming `what`; the heartbeat stops itself then. Returns stop.
 */
export function startHeartbeat(
  ping: (() => Promise<unknown>) | undefined,
  timing: HeartbeatTiming,
  what: string,
  onLost: (why: string) => void,
): () => void {
  const { heartbeatMs, unansweredMs, deadlineMs } = timing;
  let unansweredFor = 0;
  let waiting = false;
  let beat: ReturnType<typeof setInterval> | undefined;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const stop = (): void => {
    clearInterval(beat);
    clearTimeout(deadline);
  };
  const lose = (why: string): void => {
    stop();
    onLost(why);
  };
  beat = setInterval(() => {
    if (waiting) {
      unansweredFor += heartbeatMs;
      if (unansweredFor >= unansweredMs) lose(`The ${what} stopped answering (no reply for ${Math.round(unansweredFor / 1000)} s).`);
      return;
    }
    if (!ping) return;
    waiting = true;
    unansweredFor = 0;
    ping().then(
      () => {
        waiting = false;
      },
      // A failed ping (the worker's port closed) stays unanswered: the count decides.
      () => {},
    );
  }, heartbeatMs);
  if (deadlineMs !== undefined) {
    deadline = setTimeout(() => lose(`The ${what} did not finish a call within ${Math.round(deadlineMs / 1000)} s.`), deadlineMs);
  }
  return stop;
}

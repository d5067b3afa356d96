import { VoiceAgentError } from '../platform/errors.ts';

/**
 * Resumes a context that autoplay policy left suspended. `resume()` never settles without
 * a user gesture, so we give up after a moment with an `audio-blocked` error whose
 * message (`blockedMessage`) says what the visitor can do.
 */
export async function resumeOrFail(context: AudioContext, blockedMessage: string, timeoutMs = 1500): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([context.resume(), timeout]);
  clearTimeout(timer);
  if (context.state !== 'running') throw new VoiceAgentError('audio-blocked', blockedMessage);
}

/** Visitor gestures from which the browser lets a suspended context resume (user activation). */
const ACTIVATION_GESTURES = ['pointerdown', 'keydown', 'touchend', 'click'] as const;

/**
 * Resumes `context` on the visitor's next gesture anywhere on the page, and each time the
 * page becomes visible again (a system that suspended a hidden page's audio may let it run
 * then), as long as `wanted()` says so. Listens in the capture phase so a host page that
 * stops propagation cannot keep the sound off. Returns the function that stops watching.
 */
export function resumeWhenAllowed(context: AudioContext, wanted: () => boolean = () => true): () => void {
  const attempt = () => {
    if (context.state !== 'running' && context.state !== 'closed' && wanted()) void context.resume().catch(() => {});
  };
  const onVisibility = () => {
    if (document.visibilityState === 'visible') attempt();
  };
  for (const type of ACTIVATION_GESTURES) window.addEventListener(type, attempt, { capture: true });
  document.addEventListener('visibilitychange', onVisibility);
  return () => {
    for (const type of ACTIVATION_GESTURES) window.removeEventListener(type, attempt, { capture: true });
    document.removeEventListener('visibilitychange', onVisibility);
  };
}

/** A suspension not of our making must last this long to count (a state flicker, or our own suspend/resume pair, passes quicker). */
export const SUSPENSION_CONFIRM_MS = 250;

export interface SuspensionHandlers {
  /** The context was suspended (or interrupted) by someone else: the browser, the system, page script. */
  onSuspended(): void;
  /** After `onSuspended`: the context runs again (a gesture, the page visible again, or the system let it). */
  onResumed(): void;
  /** A suspension of our own making is under way (not reported, and not resumed on a gesture). */
  ours?(): boolean;
}

/**
 * Watches one AudioContext for being suspended behind our back — a call, another app on
 * the audio device, a frozen tab, Safari's `interrupted`, the autoplay policy, page script —
 * and, while it is, resumes it on the visitor's next gesture or when the page is visible
 * again ({@link resumeWhenAllowed}). The capture and the output contexts both use it: they
 * differ only in what they tell the visitor and in the output's own hold/resume.
 *
 * @example
 * const watch = new SuspensionWatch(context, { onSuspended: () => …, onResumed: () => … });
 * watch.stop(); // before closing the context
 */
export class SuspensionWatch {
  private suspendedNow = false;
  private stopped = false;
  private stopResumeWatch: (() => void) | null = null;
  private confirmTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly context: AudioContext,
    private readonly handlers: SuspensionHandlers,
  ) {
    context.addEventListener('statechange', this.handleStateChange);
  }

  /** Reported as suspended, and not running again yet. */
  get suspended(): boolean {
    return this.suspendedNow;
  }

  /** Counts the context as suspended now, without the wait (a new context that would not start). */
  markSuspended(): void {
    if (this.suspendedNow || this.stopped) return;
    this.suspendedNow = true;
    this.stopResumeWatch = resumeWhenAllowed(this.context, () => this.suspendedNow && !this.isOurs());
    this.handlers.onSuspended();
  }

  /** Stops watching, without telling anyone (the context is being closed). */
  stop(): void {
    this.stopped = true;
    this.suspendedNow = false;
    clearTimeout(this.confirmTimer);
    this.context.removeEventListener('statechange', this.handleStateChange);
    this.stopResumeWatch?.();
    this.stopResumeWatch = null;
  }

  private isOurs(): boolean {
    return this.handlers.ours?.() ?? false;
  }

  private readonly handleStateChange = () => {
    const { context } = this;
    if (this.stopped) return;
    if (context.state === 'running') {
      if (!this.suspendedNow) return;
      this.suspendedNow = false;
      this.stopResumeWatch?.();
      this.stopResumeWatch = null;
      this.handlers.onResumed();
      return;
    }
    if (context.state === 'closed' || this.suspendedNow || this.isOurs()) return;
    clearTimeout(this.confirmTimer);
    this.confirmTimer = setTimeout(() => {
      if (context.state !== 'running' && context.state !== 'closed' && !this.isOurs()) this.markSuspended();
    }, SUSPENSION_CONFIRM_MS);
  };
}

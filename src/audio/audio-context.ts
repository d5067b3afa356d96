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

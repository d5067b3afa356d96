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

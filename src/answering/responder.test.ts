import { describe, expect, it } from 'vitest';
import { VoiceAgentError } from '../platform/errors.ts';
import { abortError, collectReply, isAbortError, raceAbort, throwIfAborted } from './responder.ts';

describe('responder helpers', () => {
  it('abortError is an AbortError DOMException that keeps the reason as cause', () => {
    const controller = new AbortController();
    controller.abort('barge-in');
    const error = abortError(controller.signal);
    expect(error).toBeInstanceOf(DOMException);
    expect(error.name).toBe('AbortError');
    expect((error as { cause?: unknown }).cause).toBe('barge-in');
    expect(isAbortError(error)).toBe(true);
  });

  it('isAbortError is false for typed failures and other errors', () => {
    expect(isAbortError(new VoiceAgentError('llm-timeout', 'slow'))).toBe(false);
    expect(isAbortError(new TypeError('fetch failed'))).toBe(false);
    expect(isAbortError('AbortError')).toBe(false);
    expect(isAbortError(null)).toBe(false);
  });

  it('throwIfAborted throws only for an aborted signal', () => {
    const controller = new AbortController();
    expect(() => throwIfAborted(controller.signal)).not.toThrow();
    controller.abort();
    expect(() => throwIfAborted(controller.signal)).toThrow(expect.objectContaining({ name: 'AbortError' }));
  });

  it('raceAbort settles with the promise, or rejects as soon as the signal aborts', async () => {
    const controller = new AbortController();
    await expect(raceAbort(Promise.resolve(1), controller.signal)).resolves.toBe(1);
    await expect(raceAbort(Promise.reject(new Error('x')), controller.signal)).rejects.toThrow('x');
    const pending = raceAbort(new Promise(() => {}), controller.signal);
    controller.abort();
    await expect(pending).rejects.toSatisfy(isAbortError);
    // Already aborted: rejects, and a late rejection of the promise is swallowed.
    await expect(raceAbort(Promise.reject(new Error('late')), controller.signal)).rejects.toSatisfy(isAbortError);
  });

  it('collectReply joins deltas', async () => {
    async function* gen() {
      yield 'a';
      yield 'b';
    }
    expect(await collectReply(gen())).toBe('ab');
  });
});

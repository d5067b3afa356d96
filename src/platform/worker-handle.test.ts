import { describe, expect, it } from 'vitest';
import { crashCause, WORKER_CODE_UNAVAILABLE } from './worker-handle.ts';

describe('crashCause', () => {
  it('a plain error event (the script or an import failed to load) says so, and to reload', () => {
    const cause = crashCause(new Event('error'));
    expect(cause).toBeInstanceOf(Error);
    expect((cause as Error).message).toBe(WORKER_CODE_UNAVAILABLE);
    expect(WORKER_CODE_UNAVAILABLE).toMatch(/reload the page/);
  });

  it('a message that could not be deserialized is named as such', () => {
    expect(crashCause(new Event('messageerror'))).toBe('messageerror');
  });
});

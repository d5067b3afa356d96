import { describe, expect, it } from 'vitest';
import { byteRange } from './send-file.ts';

describe('byteRange', () => {
  it('reads the forms a download asks for, clipped to the file', () => {
    expect(byteRange('bytes=0-0', 100)).toEqual({ start: 0, end: 0 });
    expect(byteRange('bytes=40-', 100)).toEqual({ start: 40, end: 99 });
    expect(byteRange('bytes=10-500', 100)).toEqual({ start: 10, end: 99 });
    expect(byteRange('bytes=-30', 100)).toEqual({ start: 70, end: 99 });
    expect(byteRange('bytes=-300', 100)).toEqual({ start: 0, end: 99 });
  });

  it('sends the whole file (undefined) for no range, several ranges or an invalid one', () => {
    expect(byteRange(undefined, 100)).toBeUndefined();
    expect(byteRange('bytes=0-1,5-6', 100)).toBeUndefined();
    expect(byteRange('bytes=5-3', 100)).toBeUndefined();
    expect(byteRange('items=0-1', 100)).toBeUndefined();
    expect(byteRange('bytes=-', 100)).toBeUndefined();
  });

  it('is unsatisfiable past the end or for an empty suffix', () => {
    expect(byteRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(byteRange('bytes=150-200', 100)).toBe('unsatisfiable');
    expect(byteRange('bytes=-0', 100)).toBe('unsatisfiable');
    expect(byteRange('bytes=0-0', 0)).toBe('unsatisfiable');
  });
});

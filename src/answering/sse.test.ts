import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from './sse.ts';

const encoder = new TextEncoder();

/** Feeds `bytes` in pieces cut at `cuts` (byte offsets) and returns every event, end included. */
function parseInPieces(bytes: Uint8Array, cuts: readonly number[]): SseEvent[] {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...parser.push(bytes.subarray(from, cut)));
    from = cut;
  }
  events.push(...parser.end());
  return events;
}

const parseAll = (text: string) => parseInPieces(encoder.encode(text), []);
const data = (events: SseEvent[]) => events.map((e) => e.data);

// A stream that uses every feature at once: CRLF, CR and LF line ends, comments, multi-line
// data, event names, ids, a retry field, a field without a colon, non-ASCII text.
const TORTURE =
  '\uFEFF: hello, this is a comment\r\n' +
  'data: {"a":"héllo wörld 👋"}\r\n\r\n' +
  ': keep-alive\n\n' +
  'event: update\rdata: line one\rdata:line two\r\r' +
  'id: 7\nretry: 1000\ndata\n\n' +
  'data:  two spaces\n' +
  'unknown: field\n\n' +
  'data: [DONE]\n\n';

const TORTURE_EVENTS: SseEvent[] = [
  { type: 'message', data: '{"a":"héllo wörld 👋"}', lastEventId: '' },
  { type: 'update', data: 'line one\nline two', lastEventId: '' },
  { type: 'message', data: '', lastEventId: '7' },
  { type: 'message', data: ' two spaces', lastEventId: '7' },
  { type: 'message', data: '[DONE]', lastEventId: '7' },
];

describe('SseParser', () => {
  it('parses a stream using every line ending, comments, multi-line data, fields and a BOM', () => {
    expect(parseAll(TORTURE)).toEqual(TORTURE_EVENTS);
  });

  it('gives the same events when the bytes arrive one at a time (UTF-8 characters and CRLF split)', () => {
    const bytes = encoder.encode(TORTURE);
    const everyByte = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
    expect(parseInPieces(bytes, everyByte)).toEqual(TORTURE_EVENTS);
  });

  it('gives the same events for every single cut point and for every pair of nearby cuts', () => {
    const bytes = encoder.encode(TORTURE);
    for (let a = 1; a < bytes.length; a++) {
      expect(parseInPieces(bytes, [a]), `cut at ${a}`).toEqual(TORTURE_EVENTS);
      for (let b = a + 1; b < Math.min(bytes.length, a + 6); b++) {
        expect(parseInPieces(bytes, [a, b]), `cuts at ${a},${b}`).toEqual(TORTURE_EVENTS);
      }
    }
  });

  it('counts a CRLF split across two chunks as one line end, not two (which would dispatch early)', () => {
    const parser = new SseParser();
    expect(parser.push('data: a\r')).toEqual([]);
    // If the LF were a second line end, this blank line would dispatch "a" alone.
    expect(parser.push('\ndata: b\r\n')).toEqual([]);
    expect(data(parser.push('\r\n'))).toEqual(['a\nb']);
  });

  it('does not dispatch an event without data, and resets the event type after it', () => {
    const events = parseAll('event: ping\n\nid: 1\n\ndata: x\n\n');
    expect(events).toEqual([{ type: 'message', data: 'x', lastEventId: '1' }]);
  });

  it('counts comments (keep-alives) without producing events', () => {
    const parser = new SseParser();
    expect(parser.push(': ping\n\n:\n\n')).toEqual([]);
    expect(parser.comments).toBe(2);
  });

  it('accepts text chunks as well as bytes', () => {
    const parser = new SseParser();
    expect(data([...parser.push('data: {"x"'), ...parser.push(':1}\n\n')])).toEqual(['{"x":1}']);
  });

  it('on end, returns an event that lacked only its blank line, or whose last line had no newline', () => {
    expect(data(parseAll('data: one\n\ndata: [DONE]\n'))).toEqual(['one', '[DONE]']);
    expect(data(parseAll('data: one\n\ndata: [DONE]'))).toEqual(['one', '[DONE]']);
  });

  it('on end, hands back a half-received JSON line as it is (the caller decides it was cut)', () => {
    expect(data(parseAll('data: {"choices":[{"del'))).toEqual(['{"choices":[{"del']);
  });

  it('returns nothing more on end when the stream ended cleanly', () => {
    const parser = new SseParser();
    expect(data(parser.push('data: a\n\n'))).toEqual(['a']);
    expect(parser.end()).toEqual([]);
  });

  it('does not treat a non-BOM first character or a later BOM specially', () => {
    expect(data(parseAll('data: \uFEFFx\n\n'))).toEqual(['\uFEFFx']);
  });
});

/**
 * A server-sent events (SSE) parser that can be fed arbitrary chunks of a byte stream.
 *
 * It follows the WHATWG "event stream interpretation" rules
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
 * lines end with CRLF, LF or CR (a CRLF split across two chunks counts once); `:` starts a
 * comment (keep-alives); `data:` lines accumulate and are joined with `\n`; one optional
 * space after the colon is dropped; a blank line dispatches the event; an event with no
 * data is not dispatched; a leading BOM is ignored. Bytes are decoded as UTF-8 in streaming
 * mode, so a multi-byte character split between chunks survives.
 *
 * One deliberate difference from the spec: {@link SseParser.end} also returns an event that
 * was complete except for its final blank line (or whose last line had no newline at all),
 * where the spec discards it. Some servers close right after `data: [DONE]\n`; the caller
 * decides whether such a trailing event is usable (the OpenAI responder treats one that is
 * not valid JSON as a cut stream).
 */

/** One dispatched event. */
export interface SseEvent {
  /** The `event:` field, or `message` when there was none. */
  readonly type: string;
  /** The `data:` lines joined with `\n`. */
  readonly data: string;
  /** The last `id:` seen on the stream (persists across events, as in the spec). */
  readonly lastEventId: string;
}

const LF = 10;
const CR = 13;

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  /** Text of a line whose end has not arrived yet. */
  private partial = '';
  /** The previous chunk ended in CR: a LF at the start of the next one belongs to it. */
  private skipLineFeed = false;
  private started = false;
  private data = '';
  private hasData = false;
  private eventType = '';
  private lastEventId = '';
  /** Comment lines (`:` keep-alives) seen so far. */
  comments = 0;

  /** Feeds the next chunk (bytes or already-decoded text); returns the events it completed. */
  push(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const events: SseEvent[] = [];
    this.feed(text, events);
    return events;
  }

  /** The stream ended: returns a trailing event still pending (see the module comment), and resets. */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    this.feed(this.decoder.decode(), events);
    if (this.partial !== '') {
      const line = this.partial;
      this.partial = '';
      this.processLine(line, events);
    }
    if (this.hasData) this.dispatch(events);
    this.skipLineFeed = false;
    this.started = false;
    this.eventType = '';
    return events;
  }

  private feed(input: string, events: SseEvent[]): void {
    let text = input;
    if (!this.started) {
      if (text === '') return;
      // TextDecoder already drops a BOM from bytes; text pushed as strings may still carry one.
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.started = true;
    }
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.skipLineFeed) {
        this.skipLineFeed = false;
        if (c === LF) {
          start = i + 1;
          continue;
        }
      }
      if (c === LF || c === CR) {
        const line = this.partial + text.slice(start, i);
        this.partial = '';
        this.processLine(line, events);
        this.skipLineFeed = c === CR;
        start = i + 1;
      }
    }
    if (start < text.length) this.partial += text.slice(start);
  }

  private processLine(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (this.hasData) this.dispatch(events);
      else this.eventType = '';
      return;
    }
    if (line.charCodeAt(0) === 0x3a /* : */) {
      this.comments++;
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20 /* space */) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data = this.hasData ? `${this.data}\n${value}` : value;
        this.hasData = true;
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      default:
        // `retry` and unknown fields are ignored: we never reconnect a reply stream.
        break;
    }
  }

  private dispatch(events: SseEvent[]): void {
    events.push({ type: this.eventType || 'message', data: this.data, lastEventId: this.lastEventId });
    this.data = '';
    this.hasData = false;
    this.eventType = '';
  }
}

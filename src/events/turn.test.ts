import { describe, expect, it } from 'vitest';
import { VoiceAgentError } from '../platform/errors.ts';
import { collectReply, isAbortError } from '../answering/responder.ts';
import { VoiceTurnEvent, createPageResponder, pageReplyStream, type PageReply } from './turn.ts';

function makeEvent(signal = new AbortController().signal): VoiceTurnEvent {
  return new VoiceTurnEvent({
    text: 'What is the weather?',
    history: [{ turnId: 1, role: 'user', content: 'Hi' }],
    turnId: 2,
    source: 'speech',
    signal,
  });
}

/** Dispatches on a plain EventTarget with `listener` attached; returns dispatchEvent's result. */
function dispatch(event: VoiceTurnEvent, listener: (e: VoiceTurnEvent) => void): boolean {
  const target = new EventTarget();
  target.addEventListener('voice-turn', listener as EventListener);
  return target.dispatchEvent(event);
}

async function* words(...parts: string[]): AsyncGenerator<string> {
  for (const part of parts) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    yield part;
  }
}

/** Dispatches, answers with `reply` from the listener, and plays the page responder to the end. */
async function answerWith(reply: PageReply, signal?: AbortSignal): Promise<string[]> {
  const event = makeEvent(signal);
  dispatch(event, (e) => e.respondWith(reply));
  const responder = event.pageResponder!;
  const deltas: string[] = [];
  for await (const delta of responder.respond({ messages: [], signal: signal ?? new AbortController().signal, turnId: 2 })) {
    deltas.push(delta);
  }
  return deltas;
}

describe('VoiceTurnEvent', () => {
  it('is a cancelable, bubbling, composed voice-turn event carrying the turn', () => {
    const event = makeEvent();
    expect(event.type).toBe('voice-turn');
    expect(event.bubbles).toBe(true);
    expect(event.composed).toBe(true);
    expect(event.cancelable).toBe(true);
    expect(event.detail.text).toBe('What is the weather?');
    expect(event.detail.history).toHaveLength(1);
  });

  it('without a listener answering, the outcome is default (the LLM answers) and there is no page responder', () => {
    const event = makeEvent();
    expect(dispatch(event, () => {})).toBe(true);
    expect(event.responded).toBe(false);
    expect(event.outcome).toBe('default');
    expect(event.pageResponder).toBeNull();
  });

  it('preventDefault alone means no reply at all', () => {
    const event = makeEvent();
    expect(dispatch(event, (e) => e.preventDefault())).toBe(false);
    expect(event.outcome).toBe('cancelled');
    expect(event.pageResponder).toBeNull();
  });

  it('respondWith marks the event answered (so the LLM is skipped) and prevents the default', () => {
    const event = makeEvent();
    expect(dispatch(event, (e) => e.respondWith('Sunny.'))).toBe(false);
    expect(event.responded).toBe(true);
    expect(event.outcome).toBe('page');
    expect(event.defaultPrevented).toBe(true);
  });

  it('a second respondWith throws a clear InvalidStateError, and the first answer stands', async () => {
    const event = makeEvent();
    let second: unknown;
    dispatch(event, (e) => {
      e.respondWith('First.');
      try {
        e.respondWith('Second.');
      } catch (error) {
        second = error;
      }
    });
    expect(second).toBeInstanceOf(DOMException);
    expect((second as DOMException).name).toBe('InvalidStateError');
    expect((second as DOMException).message).toMatch(/already called/);
    expect(await collectReply(event.pageResponder!.respond({ messages: [], signal: new AbortController().signal, turnId: 2 }))).toBe(
      'First.',
    );
  });

  it('respondWith after dispatch (from a timer, say) throws instead of being silently lost', () => {
    const event = makeEvent();
    dispatch(event, () => {});
    expect(() => event.respondWith('Too late.')).toThrow(/synchronously inside the event listener/);
    expect(event.responded).toBe(false);
  });

  it('respondWith refuses values it cannot play', () => {
    for (const bad of [42, null, undefined, { text: 'hi' }, ['a', 'b']]) {
      const event = makeEvent();
      let thrown: unknown;
      dispatch(event, (e) => {
        try {
          e.respondWith(bad as unknown as PageReply);
        } catch (error) {
          thrown = error;
        }
      });
      expect(thrown, String(bad)).toBeInstanceOf(TypeError);
      expect(event.responded).toBe(false);
    }
  });
});

describe('page responder', () => {
  it('plays a string', async () => {
    expect(await answerWith('It is sunny.')).toEqual(['It is sunny.']);
  });

  it('plays a Promise of a string once it resolves', async () => {
    const later = new Promise<string>((resolve) => setTimeout(() => resolve('Cloudy later.'), 20));
    expect(await answerWith(later)).toEqual(['Cloudy later.']);
  });

  it('streams an async iterable delta by delta, skipping empty strings', async () => {
    expect(await answerWith(words('It ', '', 'is ', 'raining.'))).toEqual(['It ', 'is ', 'raining.']);
  });

  it('an empty string answers with no text (and no error)', async () => {
    expect(await answerWith('')).toEqual([]);
  });

  it('a rejected Promise becomes responder-failed with the page’s message', async () => {
    const error = await answerWith(Promise.reject(new Error('weather API down'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VoiceAgentError);
    expect(error).toMatchObject({ code: 'responder-failed' });
    expect((error as Error).message).toContain('weather API down');
  });

  it('a Promise of something else, or an iterable yielding something else, becomes responder-failed', async () => {
    await expect(answerWith(Promise.resolve(42) as unknown as Promise<string>)).rejects.toMatchObject({
      code: 'responder-failed',
      message: expect.stringContaining('a number'),
    });
    async function* bad(): AsyncGenerator<unknown> {
      yield 'fine ';
      yield { oops: true };
    }
    await expect(answerWith(bad() as AsyncIterable<string>)).rejects.toMatchObject({ code: 'responder-failed' });
  });

  it('an iterable that throws part-way becomes responder-failed after the text before it', async () => {
    async function* failing(): AsyncGenerator<string> {
      yield 'Part one. ';
      throw new Error('backend hiccup');
    }
    const deltas: string[] = [];
    const error = await (async () => {
      for await (const d of pageReplyStream(failing(), new AbortController().signal)) deltas.push(d);
    })().catch((e: unknown) => e);
    expect(deltas).toEqual(['Part one. ']);
    expect(error).toMatchObject({ code: 'responder-failed', message: expect.stringContaining('backend hiccup') });
  });

  it('an abort ends a pending Promise at once with an AbortError', async () => {
    const controller = new AbortController();
    const never = new Promise<string>(() => {});
    const result = collectReply(pageReplyStream(never, controller.signal));
    setTimeout(() => controller.abort(), 10);
    const error = await result.catch((e: unknown) => e);
    expect(isAbortError(error)).toBe(true);
    expect(error).not.toBeInstanceOf(VoiceAgentError);
  });

  it('an abort mid-stream stops the page’s iterator: its finally block runs and it is asked for nothing more', async () => {
    const controller = new AbortController();
    let cleanedUp = false;
    let pulled = 0;
    async function* slow(): AsyncGenerator<string> {
      try {
        for (let i = 0; i < 100; i++) {
          pulled++;
          yield `w${i} `;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      } finally {
        cleanedUp = true;
      }
    }
    const deltas: string[] = [];
    const error = await (async () => {
      for await (const d of pageReplyStream(slow(), controller.signal)) {
        deltas.push(d);
        if (deltas.length === 3) controller.abort();
      }
    })().catch((e: unknown) => e);
    expect(isAbortError(error)).toBe(true);
    expect(deltas).toEqual(['w0 ', 'w1 ', 'w2 ']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(cleanedUp).toBe(true);
    expect(pulled).toBe(3);
  });

  it('an already aborted signal yields nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(collectReply(pageReplyStream('Hello', controller.signal))).rejects.toSatisfy(isAbortError);
  });

  it('the event hands out one responder for its one answer', () => {
    const event = makeEvent();
    dispatch(event, (e) => e.respondWith('x'));
    expect(event.pageResponder).toBe(event.pageResponder);
  });

  it('answers one turn only', () => {
    const responder = createPageResponder('once');
    const request = { messages: [], signal: new AbortController().signal, turnId: 1 };
    responder.respond(request);
    expect(() => responder.respond(request)).toThrow(/one turn only/);
  });
});

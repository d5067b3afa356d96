/**
 * The answering pieces together, the way the element will drive them: a conversation,
 * the `voice-turn` event, the page responder or the OpenAI responder against a real
 * scripted HTTP server, and `streamReply`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LlmServer } from '../../tests/e2e/support/llm-server.ts';
import { VoiceTurnEvent } from '../events/turn.ts';
import { Conversation } from './conversation.ts';
import { OpenAIResponder } from './openai-responder.ts';
import type { Responder } from './responder.ts';
import { streamReply, type ReplyOutcome } from './stream-reply.ts';

const llm = new LlmServer();
let baseUrl = '';
beforeAll(async () => {
  baseUrl = await llm.start();
});
afterAll(() => llm.close());
afterEach(() => llm.reset());

const SYSTEM = 'You are a helpful voice assistant.';

/** A minimal stand-in for the element's answering loop. */
class Loop {
  readonly conversation = new Conversation();
  readonly page = new EventTarget();
  readonly llmResponder: Responder = new OpenAIResponder({ url: baseUrl, model: 'm', stallTimeoutMs: 2000 });

  /**
   * Runs one turn. `interruptAfter`: the visitor talks over the reply after that many
   * deltas, having heard `heard` of them.
   */
  async turn(text: string, interrupt?: { after: number; heard: number }): Promise<ReplyOutcome | 'no-reply'> {
    const { conversation } = this;
    const turnId = conversation.beginTurn(text);
    const controller = new AbortController();
    const event = new VoiceTurnEvent({ text, history: conversation.historyBefore(turnId), turnId, source: 'speech', signal: controller.signal });
    this.page.dispatchEvent(event);
    if (event.outcome === 'cancelled') {
      conversation.endTurnWithoutReply(turnId);
      return 'no-reply';
    }
    const deltas: string[] = [];
    const outcome = await streamReply({
      responder: event.pageResponder ?? this.llmResponder,
      conversation,
      turnId,
      signal: controller.signal,
      systemPrompt: SYSTEM,
      onDelta: (delta) => {
        deltas.push(delta);
        if (interrupt && deltas.length === interrupt.after) controller.abort('barge-in');
      },
    });
    if (outcome.status === 'complete') conversation.finishReply(turnId, { heardText: outcome.text });
    else if (outcome.status === 'aborted') {
      conversation.finishReply(turnId, { interrupted: true, heardText: deltas.slice(0, interrupt?.heard ?? 0).join('') });
    } else conversation.failTurn(turnId, outcome.error);
    return outcome;
  }
}

describe('streamReply: a conversation across responders and faults', () => {
  it('keeps a consistent history through a page answer, a server failure and an interruption', async () => {
    const loop = new Loop();
    const seenHistory: number[] = [];
    loop.page.addEventListener('voice-turn', (event) => {
      const e = event as VoiceTurnEvent; // a plain EventTarget has no typed event map
      seenHistory.push(e.detail.history.length);
      if (/weather/i.test(e.detail.text)) e.respondWith(Promise.resolve('It is sunny.'));
    });
    llm.script(
      { text: 'Hi there, how can I help?' },
      { fault: { kind: 'status', status: 500 } },
      { text: 'Once upon a time there was a very long story that went on and on', tokenDelayMs: 30 },
      { text: 'You are welcome.' },
    );

    expect(await loop.turn('Hello')).toEqual({ status: 'complete', text: 'Hi there, how can I help?' });
    expect(await loop.turn('What is the weather?')).toEqual({ status: 'complete', text: 'It is sunny.' });
    expect(llm.requests).toHaveLength(1); // the page answered: no LLM request

    const failed = await loop.turn('Tell me a story');
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'llm-server-error', status: 500 } });

    const interrupted = await loop.turn('Tell me a long story', { after: 3, heard: 2 });
    expect(interrupted).toEqual({ status: 'aborted', text: 'Once upon a' });
    expect(await llm.requests[2]!.ended).toBe('client-closed');

    expect(await loop.turn('Thanks')).toEqual({ status: 'complete', text: 'You are welcome.' });

    // The page saw the turns before each one (a failed turn counts: it is in the history, marked).
    expect(seenHistory).toEqual([0, 2, 4, 6, 8]);
    // What the model was sent for the last turn: no failed turn, only the heard part of the interrupted one.
    expect(llm.requests[3]!.body!.messages).toEqual([
      { role: 'system', content: SYSTEM },
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi there, how can I help?' },
      { role: 'user', content: 'What is the weather?' },
      { role: 'assistant', content: 'It is sunny.' },
      { role: 'user', content: 'Tell me a long story' },
      { role: 'assistant', content: 'Once upon' },
      { role: 'user', content: 'Thanks' },
    ]);
    // And the history shows everything, marked.
    expect(loop.conversation.history.map((e) => [e.role, e.content, e.interrupted ?? false, e.failed?.code ?? null])).toEqual([
      ['user', 'Hello', false, null],
      ['assistant', 'Hi there, how can I help?', false, null],
      ['user', 'What is the weather?', false, null],
      ['assistant', 'It is sunny.', false, null],
      ['user', 'Tell me a story', false, 'llm-server-error'],
      ['assistant', '', false, 'llm-server-error'],
      ['user', 'Tell me a long story', false, null],
      ['assistant', 'Once upon', true, null],
      ['user', 'Thanks', false, null],
      ['assistant', 'You are welcome.', false, null],
    ]);
  });

  it('a page that cancels the turn gets no reply and no request', async () => {
    const loop = new Loop();
    loop.page.addEventListener('voice-turn', (e) => e.preventDefault());
    expect(await loop.turn('Just take a note')).toBe('no-reply');
    expect(llm.requests).toHaveLength(0);
    expect(loop.conversation.history).toHaveLength(1);
  });

  it('when a newer turn takes over, the old reply stops at once and its connection is closed', async () => {
    const conversation = new Conversation();
    const responder = new OpenAIResponder({ url: baseUrl });
    llm.script({ text: Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '), tokenDelayMs: 40 });
    const old = conversation.beginTurn('First');
    const seen: string[] = [];
    const outcome = await streamReply({
      responder,
      conversation,
      turnId: old,
      signal: new AbortController().signal, // nobody aborts: only the new turn stops it
      onDelta: (delta) => {
        seen.push(delta);
        if (seen.length === 2) conversation.beginTurn('Second');
      },
    });
    expect(outcome.status).toBe('aborted');
    expect(seen).toHaveLength(2);
    expect(await llm.requests[0]!.ended).toBe('client-closed');
    expect(llm.requests[0]!.tokensSent).toBeLessThan(10);
  });

  it('an exception from a page iterable becomes a failed outcome with responder-failed', async () => {
    const conversation = new Conversation();
    const turnId = conversation.beginTurn('Hi');
    const responder: Responder = {
      async *respond() {
        yield 'Hel';
        throw new Error('page bug');
      },
    };
    const outcome = await streamReply({ responder, conversation, turnId, signal: new AbortController().signal });
    expect(outcome).toMatchObject({ status: 'failed', text: 'Hel', error: { code: 'responder-failed' } });
    expect(conversation.pendingReply).toBe('Hel'); // the turn stays open for the caller to fail or finish
  });

  it('an AbortError the caller did not ask for is reported, not hidden', async () => {
    const conversation = new Conversation();
    const turnId = conversation.beginTurn('Hi');
    const responder: Responder = {
      async *respond() {
        throw new DOMException('aborted by itself', 'AbortError');
      },
    };
    const outcome = await streamReply({ responder, conversation, turnId, signal: new AbortController().signal });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'responder-failed' } });
  });
});

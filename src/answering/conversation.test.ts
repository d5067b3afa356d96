import { describe, expect, it } from 'vitest';
import { Conversation } from './conversation.ts';
import { VoiceAgentError } from '../platform/errors.ts';

/** A complete turn: question, reply streamed in two deltas, finished. */
function turn(c: Conversation, question: string, reply: string): number {
  const id = c.beginTurn(question);
  const half = Math.floor(reply.length / 2);
  c.appendReply(id, reply.slice(0, half));
  c.appendReply(id, reply.slice(half));
  c.finishReply(id);
  return id;
}

describe('Conversation: turns', () => {
  it('records a question and its streamed reply, with increasing turn ids', () => {
    const c = new Conversation();
    const first = turn(c, 'Hi', 'Hello! How can I help?');
    const second = turn(c, 'Time?', 'It is noon.');
    expect(second).toBe(first + 1);
    expect(c.history).toEqual([
      { turnId: first, role: 'user', content: 'Hi' },
      { turnId: first, role: 'assistant', content: 'Hello! How can I help?' },
      { turnId: second, role: 'user', content: 'Time?' },
      { turnId: second, role: 'assistant', content: 'It is noon.' },
    ]);
    expect(c.currentTurnId).toBeNull();
  });

  it('exposes the open turn and its reply so far', () => {
    const c = new Conversation();
    const id = c.beginTurn('Tell me a story', { source: 'text' });
    expect(c.currentTurnId).toBe(id);
    expect(c.isCurrent(id)).toBe(true);
    c.appendReply(id, 'Once upon');
    expect(c.pendingReply).toBe('Once upon');
    expect(c.history).toEqual([{ turnId: id, role: 'user', content: 'Tell me a story', source: 'text' }]);
  });

  it('an interrupted reply keeps only the heard prefix as content, with interrupted: true and the generated text', () => {
    const c = new Conversation();
    const id = c.beginTurn('Tell me about Paris');
    c.appendReply(id, 'Paris is the capital of France. ');
    c.appendReply(id, 'It has many museums.');
    const entry = c.finishReply(id, { interrupted: true, heardText: 'Paris is the capital' });
    expect(entry).toEqual({
      turnId: id,
      role: 'assistant',
      content: 'Paris is the capital',
      heard: 'Paris is the capital',
      interrupted: true,
      generated: 'Paris is the capital of France. It has many museums.',
    });
    // The model is told only what was heard.
    expect(c.messagesForRequest()).toEqual([
      { role: 'user', content: 'Tell me about Paris' },
      { role: 'assistant', content: 'Paris is the capital' },
    ]);
  });

  it('a reply that finished normally can carry what was heard', () => {
    const c = new Conversation();
    const id = c.beginTurn('Hi');
    c.appendReply(id, 'Hello **there**!');
    expect(c.finishReply(id, { heardText: 'Hello there!' })).toEqual({
      turnId: id,
      role: 'assistant',
      content: 'Hello **there**!',
      heard: 'Hello there!',
    });
  });

  it('a failed turn is marked on both entries, keeps only what was heard, and is left out of requests', () => {
    const c = new Conversation();
    turn(c, 'Hi', 'Hello!');
    const id = c.beginTurn('What is the weather?');
    c.appendReply(id, 'The weather today is');
    const error = new VoiceAgentError('llm-cut-off', 'The reply was cut off.');
    expect(c.failTurn(id, error, { heardText: 'The weather' })).toBe(true);
    const failed = { code: 'llm-cut-off', message: 'The reply was cut off.' };
    expect(c.history.slice(2)).toEqual([
      { turnId: id, role: 'user', content: 'What is the weather?', failed },
      { turnId: id, role: 'assistant', content: 'The weather', heard: 'The weather', failed },
    ]);
    // The next request is consistent: the failed question and half answer are not in it.
    const next = c.beginTurn('What is the weather in Paris?');
    expect(c.messagesForRequest('Be brief.')).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'What is the weather in Paris?' },
    ]);
    expect(c.isCurrent(next)).toBe(true);
  });

  it('a failure with nothing heard records an empty reply (nothing half-recorded from the stream)', () => {
    const c = new Conversation();
    const id = c.beginTurn('Hi');
    c.appendReply(id, 'Hel');
    c.failTurn(id, { code: 'llm-stalled', message: 'stalled' });
    expect(c.history[1]).toEqual({
      turnId: id,
      role: 'assistant',
      content: '',
      failed: { code: 'llm-stalled', message: 'stalled' },
    });
  });

  it('ignores late updates for a turn that is no longer open', () => {
    const c = new Conversation();
    const old = c.beginTurn('First question');
    c.appendReply(old, 'First ans');
    c.finishReply(old, { interrupted: true, heardText: 'First' });
    const current = c.beginTurn('Second question');

    expect(c.appendReply(old, 'wer, late delta')).toBe(false);
    expect(c.finishReply(old)).toBeNull();
    expect(c.failTurn(old, { code: 'llm-timeout', message: 'late' })).toBe(false);
    expect(c.endTurnWithoutReply(old)).toBe(false);
    expect(c.appendReply(current + 1, 'from the future')).toBe(false);

    expect(c.appendReply(current, 'Second answer')).toBe(true);
    c.finishReply(current);
    expect(c.history.map((e) => e.content)).toEqual(['First question', 'First', 'Second question', 'Second answer']);
    expect(c.history.some((e) => e.failed)).toBe(false);
  });

  it('a new turn while one is open closes the open one as interrupted with nothing heard', () => {
    const c = new Conversation();
    const first = c.beginTurn('Tell me a joke');
    c.appendReply(first, 'Why did the');
    c.beginTurn('Actually, a riddle');
    expect(c.history[1]).toEqual({
      turnId: first,
      role: 'assistant',
      content: '',
      heard: '',
      interrupted: true,
      generated: 'Why did the',
    });
    expect(c.appendReply(first, ' chicken')).toBe(false);
  });

  it('reset clears history and the open turn; ids keep counting so older turns stay stale', () => {
    const c = new Conversation();
    turn(c, 'Hi', 'Hello');
    const open = c.beginTurn('Pending');
    c.reset();
    expect(c.history).toEqual([]);
    expect(c.currentTurnId).toBeNull();
    expect(c.appendReply(open, 'late')).toBe(false);
    expect(c.finishReply(open)).toBeNull();
    const next = c.beginTurn('Fresh start');
    expect(next).toBeGreaterThan(open);
    expect(c.messagesForRequest()).toEqual([{ role: 'user', content: 'Fresh start' }]);
  });

  it('historyBefore gives the turns before one (the voice-turn event’s history)', () => {
    const c = new Conversation();
    turn(c, 'Hi', 'Hello');
    const id = c.beginTurn('Next');
    expect(c.historyBefore(id).map((e) => e.content)).toEqual(['Hi', 'Hello']);
  });

  it('endTurnWithoutReply records no reply entry', () => {
    const c = new Conversation();
    const id = c.beginTurn('Just dictating');
    expect(c.endTurnWithoutReply(id)).toBe(true);
    expect(c.history).toEqual([{ turnId: id, role: 'user', content: 'Just dictating' }]);
    expect(c.currentTurnId).toBeNull();
  });

  it('refuses an empty turn', () => {
    expect(() => new Conversation().beginTurn('   ')).toThrow(TypeError);
  });

  it('history is a snapshot of frozen entries', () => {
    const c = new Conversation();
    turn(c, 'Hi', 'Hello');
    const snapshot = c.history as unknown as object[];
    snapshot.length = 0;
    expect(c.history).toHaveLength(2);
    expect(Object.isFrozen(c.history[0])).toBe(true);
  });
});

describe('Conversation: messagesForRequest', () => {
  it('puts the system prompt first and the open turn’s question last, without its partial reply', () => {
    const c = new Conversation();
    turn(c, 'Hi', 'Hello!');
    const id = c.beginTurn('How are you?');
    c.appendReply(id, 'I am');
    expect(c.messagesForRequest('You are kind.')).toEqual([
      { role: 'system', content: 'You are kind.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'How are you?' },
    ]);
    expect(c.messagesForRequest('  ')[0]).toEqual({ role: 'user', content: 'Hi' });
  });

  it('keeps roles alternating: a reply interrupted before anything was heard is dropped and the questions merged', () => {
    const c = new Conversation();
    const first = c.beginTurn('What is the tallest mountain');
    c.appendReply(first, 'The tallest');
    c.finishReply(first, { interrupted: true, heardText: '' });
    c.beginTurn('in Europe?');
    expect(c.messagesForRequest()).toEqual([{ role: 'user', content: 'What is the tallest mountain\n\nin Europe?' }]);
  });

  it('an empty (but not interrupted) reply is not sent either', () => {
    const c = new Conversation();
    turn(c, 'Say nothing', '');
    c.beginTurn('Now say something');
    const messages = c.messagesForRequest();
    expect(messages.map((m) => m.role)).toEqual(['user']);
  });

  it('caps the request at maxRequestChars by leaving out the oldest turns, always keeping the newest question', () => {
    const c = new Conversation({ maxRequestChars: 50 });
    turn(c, 'q1 ' + 'a'.repeat(10), 'r1 ' + 'b'.repeat(10)); // 26 chars
    turn(c, 'q2 ' + 'c'.repeat(10), 'r2 ' + 'd'.repeat(10)); // 26 chars
    c.beginTurn('q3 ' + 'e'.repeat(10)); // 13 chars
    const messages = c.messagesForRequest('system prompts do not count');
    expect(messages.map((m) => m.content.slice(0, 2))).toEqual(['sy', 'q2', 'r2', 'q3']);

    const tiny = new Conversation({ maxRequestChars: 5 });
    turn(tiny, 'older', 'reply');
    tiny.beginTurn('a question longer than the cap');
    expect(tiny.messagesForRequest()).toEqual([{ role: 'user', content: 'a question longer than the cap' }]);
  });

  it('keeps at most maxTurns turns in history, dropping whole turns', () => {
    const c = new Conversation({ maxTurns: 3 });
    for (let i = 1; i <= 5; i++) turn(c, `q${i}`, `r${i}`);
    expect(c.history.map((e) => e.content)).toEqual(['q3', 'r3', 'q4', 'r4', 'q5', 'r5']);
    c.beginTurn('q6');
    expect(c.history.map((e) => e.content)).toEqual(['q4', 'r4', 'q5', 'r5', 'q6']);
    expect(c.messagesForRequest()[0]).toEqual({ role: 'user', content: 'q4' });
  });

  it('rejects nonsensical limits', () => {
    expect(() => new Conversation({ maxTurns: 0 })).toThrow(RangeError);
    expect(() => new Conversation({ maxRequestChars: 1.5 })).toThrow(RangeError);
  });
});

/**
 * The conversation loop in Node: the real responder over real HTTP against the scripted
 * LLM server, with a fake voice (it "speaks" each clause at once and records when).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useLlmServer } from '../../tests/e2e/support/llm-server.ts';
import type { VoiceResponseEndDetail } from '../events/response-end.ts';
import type { VoiceTurnEvent } from '../events/turn.ts';
import { APOLOGY, ConversationController } from './conversation-controller.ts';
import { DEFAULT_MAX_TOKENS } from './reply-limits.ts';

const fakeHost = { addController() {}, removeController() {}, requestUpdate() {}, updateComplete: Promise.resolve(true) };

function loop(onTurn?: (event: VoiceTurnEvent) => void) {
  const log: string[] = [];
  const spokenAt: { text: string; at: number }[] = [];
  const ends: VoiceResponseEndDetail[] = [];
  const errors: string[] = [];
  // Dispatched for real, as the element does: respondWith() only works during dispatch.
  const target = new EventTarget();
  if (onTurn) target.addEventListener('voice-turn', (event) => onTurn(event as VoiceTurnEvent));
  const controller = new ConversationController(fakeHost, {
    dispatchTurn: (event) => target.dispatchEvent(event),
    onReplyStart: () => log.push('reply-start'),
    onFirstDelta: () => {},
    // Fake voice: every clause is heard in full, at once.
    speak: async (text, hooks) => {
      spokenAt.push({ text, at: performance.now() });
      hooks.onResponse({ delta: text, text });
      hooks.onResponseEnd({ text, heardText: text, interrupted: false });
    },
    onResponse: () => {},
    onResponseEnd: (detail) => ends.push(detail),
    onReplyText: (text) => log.push(`caption: ${text}`),
    onError: (error) => errors.push(error.code),
    onReplyEnd: () => log.push('reply-end'),
  });
  return { controller, log, spokenAt, ends, errors };
}

describe('ConversationController', () => {
  const llm = useLlmServer(beforeEach, afterEach);

  it('speaks the first clause while the LLM is still streaming, and records the turn', async () => {
    const reply = 'Hello there, the museum opens at ten and closes at five every day of the week.';
    llm().script({ text: reply, tokenDelayMs: 60 });
    const { controller, log, spokenAt, ends } = loop();
    controller.settings = { llmUrl: llm().url, systemPrompt: 'Be brief.' };
    const started = performance.now();
    await controller.runTurn('when does the museum open?', 'speech');
    const finished = performance.now();
    expect(spokenAt.length).toBeGreaterThanOrEqual(2);
    expect(spokenAt[0]!.text).toBe('Hello there,');
    // The first clause went to the voice long before the reply was complete.
    expect(spokenAt[0]!.at - started).toBeLessThan((finished - started) / 2);
    expect(spokenAt.map((s) => s.text).join(' ')).toBe(reply);
    expect(ends).toEqual([{ text: reply, heardText: reply, interrupted: false }]);
    expect(log).toEqual(['reply-start', `caption: ${reply}`, 'reply-end']);
    expect(controller.history.map((e) => [e.role, e.content])).toEqual([
      ['user', 'when does the museum open?'],
      ['assistant', reply],
    ]);
    expect(llm().requests[0]!.body!.messages?.[0]).toEqual({ role: 'system', content: 'Be brief.' });
  });

  it('a failing LLM: typed error, apology caption, the turn marked failed and left out of the next request', async () => {
    llm().script({ fault: { kind: 'status', status: 503 } }, { text: 'Fine now.' });
    const { controller, log, errors } = loop();
    controller.settings = { llmUrl: llm().url };
    await controller.runTurn('first', 'text');
    expect(errors).toEqual(['llm-server-error']);
    expect(log).toContain(`caption: ${APOLOGY}`);
    expect(controller.history[0]).toMatchObject({ role: 'user', content: 'first', failed: { code: 'llm-server-error' } });
    await controller.runTurn('second', 'text');
    expect(llm().requests[1]!.body!.messages?.map((m) => m.content)).toEqual(['second']);
    expect(controller.history.at(-1)).toMatchObject({ role: 'assistant', content: 'Fine now.' });
  });

  it('page code answering voice-turn means no LLM request; preventDefault alone means no reply', async () => {
    const answered = loop((event) => event.respondWith('From the page.'));
    answered.controller.settings = { llmUrl: llm().url };
    await answered.controller.runTurn('hi', 'text');
    expect(answered.spokenAt.map((s) => s.text)).toEqual(['From the page.']);
    const cancelled = loop((event) => event.preventDefault());
    cancelled.controller.settings = { llmUrl: llm().url };
    await cancelled.controller.runTurn('hi', 'text');
    expect(cancelled.log).toEqual([]);
    expect(llm().requests).toHaveLength(0);
  });

  it('a newer turn cancels the answer under way: the old request is aborted and marked interrupted', async () => {
    llm().script({ text: 'one two three four five six seven eight nine ten', tokenDelayMs: 200 }, { text: 'Second.' });
    const { controller, log } = loop();
    controller.settings = { llmUrl: llm().url };
    const first = controller.runTurn('first', 'text');
    await llm().waitForRequests(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await controller.runTurn('second', 'text');
    await first;
    expect(await llm().requests[0]!.ended).toBe('client-closed');
    const entries = controller.history;
    // Nothing of the first answer was spoken yet (no clause was complete): heard nothing.
    expect(entries[1]).toMatchObject({ turnId: 1, role: 'assistant', content: '', interrupted: true });
    // The superseded turn does not end the newer one's `thinking`: one reply-end per
    // answer that was not replaced.
    expect(log.filter((line) => line === 'reply-start')).toHaveLength(2);
    expect(log.filter((line) => line === 'reply-end')).toHaveLength(1);
    expect(entries.at(-1)).toMatchObject({ role: 'assistant', content: 'Second.' });
  });

  it('cancel() (a barge-in) closes the turn at once with the heard part, which the next request carries', async () => {
    llm().script({ text: 'Well, the answer is long and it keeps on going for a while', tokenDelayMs: 80 }, { text: 'Sure.' });
    const { controller, spokenAt } = loop();
    controller.settings = { llmUrl: llm().url };
    const first = controller.runTurn('tell me', 'speech');
    await expect.poll(() => spokenAt.length).toBe(1); // the first clause was heard
    controller.cancel();
    const heard = spokenAt[0]!.text;
    expect('Well, the answer is long and it keeps on going for a while'.startsWith(heard)).toBe(true);
    expect(heard.length).toBeLessThan(30);
    // Recorded synchronously, before any newer turn can begin.
    expect(controller.history.at(-1)).toMatchObject({ role: 'assistant', content: heard, heard, interrupted: true });
    expect(controller.busy).toBe(false);
    await controller.runTurn('stop, something else', 'speech');
    await first;
    expect(await llm().requests[0]!.ended).toBe('client-closed');
    expect(llm().requests[1]!.body!.messages?.map((m) => [m.role, m.content])).toEqual([
      ['user', 'tell me'],
      ['assistant', heard],
      ['user', 'stop, something else'],
    ]);
    expect(controller.history.filter((e) => e.role === 'assistant').map((e) => e.content)).toEqual([heard, 'Sure.']);
  });

  it('precedence: page respondWith > llm-url > local-llm > dictation', async () => {
    llm().script({ text: 'From the server.' }, { text: 'From the server.' });
    const local = {
      calls: 0,
      async *respond() {
        local.calls++;
        yield 'From the device.';
      },
    };
    const page = loop((event) => {
      if (event.detail.text === 'page') event.respondWith('From the page.');
    });
    page.controller.settings = { llmUrl: llm().url, localResponder: local };
    await page.controller.runTurn('page', 'text');
    await page.controller.runTurn('server', 'text');
    page.controller.settings = { localResponder: local };
    await page.controller.runTurn('device', 'text');
    page.controller.settings = {};
    await page.controller.runTurn('dictation', 'text');
    expect(page.controller.history.map((e) => e.content)).toEqual([
      'page',
      'From the page.',
      'server',
      'From the server.',
      'device',
      'From the device.',
      'dictation',
    ]);
    expect(local.calls).toBe(1);
    expect(llm().requests).toHaveLength(1);
  });

  it('limits every llm-url reply: max_tokens is sent, the default when none is set', async () => {
    const { controller } = loop();
    controller.settings = { llmUrl: llm().url };
    await controller.runTurn('first', 'text');
    controller.settings = { llmUrl: llm().url, maxTokens: 40 };
    await controller.runTurn('second', 'text');
    expect(llm().requests.map((r) => r.body?.['max_tokens'])).toEqual([DEFAULT_MAX_TOKENS, 40]);
  });
});

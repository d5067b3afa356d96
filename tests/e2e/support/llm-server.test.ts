import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LlmServer, tokenize } from './llm-server.ts';

const llm = new LlmServer();
let baseUrl = '';
beforeAll(async () => {
  baseUrl = await llm.start();
});
afterAll(() => llm.close());
afterEach(() => llm.reset());

const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** Reads a streamed body, counting the chunks that arrived separately. */
async function readChunks(response: Response): Promise<{ text: string; chunks: number }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let chunks = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks++;
    text += decoder.decode(value, { stream: true });
  }
  return { text, chunks };
}

describe('LlmServer', () => {
  it('tokenize splits into word tokens that join back exactly', () => {
    for (const text of ['Hello there.', '  leading and trailing  ', 'one', '', 'a\nb\tc']) {
      expect(tokenize(text).join('')).toBe(text.trimEnd() === '' ? '' : text);
    }
    expect(tokenize('Hello there, friend.')).toEqual(['Hello', ' there,', ' friend.']);
  });

  it('streams OpenAI chat.completion.chunk events ending in finish_reason and [DONE], and records the request', async () => {
    llm.script({ text: 'Hi you' });
    const response = await post({ model: 'x', stream: true, messages: [{ role: 'user', content: 'yo' }] }, { 'X-Trace': 't1' });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const { text } = await readChunks(response);
    const events = text.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)) as { object: string; model: string; choices: { delta: { content?: string | null; role?: string }; finish_reason: string | null }[] });
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'x')).toBe(true);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]!.delta.content ?? '').join('')).toBe('Hi you');
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');

    const [request] = await llm.waitForRequests(1);
    expect(request!.headers['x-trace']).toBe('t1');
    expect(request!.body!.messages).toEqual([{ role: 'user', content: 'yo' }]);
    expect(request!.tokensSent).toBe(2);
    expect(await request!.ended).toBe('completed');
  });

  it('echoes the last user message when nothing is scripted', async () => {
    const { text } = await readChunks(await post({ messages: [{ role: 'user', content: 'ping' }] }));
    const content = text
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => (JSON.parse(e.slice(6)) as { choices: { delta: { content?: string | null } }[] }).choices[0]!.delta.content ?? '')
      .join('');
    expect(content).toBe('You said: ping');
  });

  it('splitWrites really delivers an event in many separate pieces', async () => {
    llm.script({ text: 'abc', splitWrites: true });
    const { text, chunks } = await readChunks(await post({ messages: [] }));
    expect(text).toContain('data: [DONE]');
    expect(chunks).toBeGreaterThan(20);
  });

  it('records a cut as server-cut and a fault status with its headers', async () => {
    llm.script({ text: 'a b c', fault: { kind: 'cut', afterTokens: 1 } }, { fault: { kind: 'status', status: 429, retryAfter: '3' } });
    const cut = await post({ messages: [] });
    await expect(readChunks(cut)).rejects.toThrow();
    expect(await llm.requests[0]!.ended).toBe('server-cut');
    const limited = await post({ messages: [] });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(limited.headers.get('access-control-expose-headers')).toContain('Retry-After');
  });

  it('serves a model list, 404s unknown routes, and reports a missing request clearly', async () => {
    expect(((await (await fetch(`${baseUrl}/models`)).json()) as { data: unknown[] }).data).toHaveLength(1);
    expect((await fetch(`${baseUrl}/completions`, { method: 'POST' })).status).toBe(404);
    await expect(llm.waitForRequests(1, 50)).rejects.toThrow(/expected 1 requests, got 0/);
  });
});

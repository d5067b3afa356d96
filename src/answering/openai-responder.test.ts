/**
 * The OpenAI responder against a real HTTP server (`tests/e2e/support/llm-server.ts`)
 * speaking the streaming protocol, with scripted replies and injected faults.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LlmServer, type ScriptedReply } from '../../tests/e2e/support/llm-server.ts';
import { VoiceAgentError } from '../platform/errors.ts';
import {
  OpenAIResponder,
  parseRetryAfterMs,
  redact,
  resolveChatCompletionsUrl,
  type OpenAIResponderOptions,
} from './openai-responder.ts';
import { collectReply, isAbortError, type ChatMessage } from './responder.ts';

const llm = new LlmServer();
let baseUrl = '';

beforeAll(async () => {
  baseUrl = await llm.start();
});
afterAll(() => llm.close());
afterEach(() => llm.reset());

const QUESTION: ChatMessage[] = [{ role: 'user', content: 'What is the capital of France?' }];
const REPLY = 'The capital of France is Paris, a city on the Seine.';

function responder(options: Partial<OpenAIResponderOptions> = {}): OpenAIResponder {
  return new OpenAIResponder({ url: baseUrl, model: 'test-model', ...options });
}

function ask(r: OpenAIResponder, signal = new AbortController().signal, messages = QUESTION) {
  return r.respond({ messages, signal, turnId: 1 });
}

/** Runs a reply to its end and returns the error it failed with (fails the test if none). */
async function failure(r: OpenAIResponder, reply: ScriptedReply): Promise<VoiceAgentError> {
  llm.script(reply);
  const deltas: string[] = [];
  try {
    for await (const delta of ask(r)) deltas.push(delta);
  } catch (error) {
    expect(error).toBeInstanceOf(VoiceAgentError);
    return error as VoiceAgentError;
  }
  throw new Error(`expected a failure, got the reply ${JSON.stringify(deltas.join(''))}`);
}

describe('OpenAIResponder: streaming', { timeout: 20_000 }, () => {
  it('streams the scripted reply as ordered deltas that join to it, and posts a correct request', async () => {
    llm.script({ text: REPLY });
    const r = responder({ systemPrompt: 'Answer briefly.', temperature: 0.2, maxTokens: 64 });
    const deltas: string[] = [];
    for await (const delta of ask(r)) deltas.push(delta);

    expect(deltas.join('')).toBe(REPLY);
    expect(deltas.length).toBe(REPLY.split(' ').length); // one per word token, no empty deltas
    expect(deltas.every((d) => d.length > 0)).toBe(true);

    const [request] = await llm.waitForRequests(1);
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe('/v1/chat/completions');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers.accept).toBe('text/event-stream');
    expect(request!.body).toEqual({
      model: 'test-model',
      temperature: 0.2,
      max_tokens: 64,
      stream: true,
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'What is the capital of France?' },
      ],
    });
    expect(await request!.ended).toBe('completed');
  });

  it('returns the finish reason (length = truncated by max_tokens) as the generator result', async () => {
    llm.script({ text: 'Cut short', finishReason: 'length' });
    const stream = ask(responder());
    let result = await stream.next();
    let text = '';
    while (!result.done) {
      text += result.value;
      result = await stream.next();
    }
    expect(text).toBe('Cut short');
    expect(result.value).toEqual({ finishReason: 'length' });
  });

  it('does not add the system prompt when the messages already start with a system message', async () => {
    llm.script({ text: 'ok' });
    const messages: ChatMessage[] = [{ role: 'system', content: 'Mine.' }, ...QUESTION];
    await collectReply(ask(responder({ systemPrompt: 'Other.' }), undefined, messages));
    expect(llm.requests[0]!.body!.messages).toEqual(messages);
  });

  it('delivers the first delta long before the server has finished sending', async () => {
    const tokens = 12;
    llm.script({ text: Array.from({ length: tokens }, (_, i) => `w${i}`).join(' '), tokenDelayMs: 100 });
    const startedAt = performance.now();
    let firstDeltaAt = 0;
    let count = 0;
    for await (const _delta of ask(responder())) {
      if (count++ === 0) firstDeltaAt = performance.now();
    }
    const request = llm.requests[0]!;
    expect(count).toBe(tokens);
    // The server wrote its last token ≥ 1.1 s after its first; we saw the first one well before the last was written.
    expect(request.lastTokenAt! - request.firstTokenAt!).toBeGreaterThanOrEqual(1000);
    expect(firstDeltaAt).toBeLessThan(request.lastTokenAt! - 700);
    expect(firstDeltaAt - startedAt).toBeLessThan(2000);
  });

  it('parses a stream written 3 bytes at a time with CRLF line ends, comments and non-ASCII text', async () => {
    const text = 'Grüße aus Köln — 你好 👋 ça va?';
    llm.script({ text, splitWrites: true, lineEnding: '\r\n', keepAliveComments: true });
    expect(await collectReply(ask(responder()))).toBe(text);
  });

  it('accepts a stream that ends with a finish_reason but no [DONE]', async () => {
    llm.script({ text: 'All good.', done: false });
    expect(await collectReply(ask(responder()))).toBe('All good.');
  });

  it('accepts a stream that ends with [DONE] but no finish_reason chunk', async () => {
    llm.script({ text: 'Also fine.', finishReason: null });
    expect(await collectReply(ask(responder()))).toBe('Also fine.');
  });

  it('accepts a base URL with a trailing slash or the full endpoint URL, and keeps the query', async () => {
    llm.script({ text: 'a' }, { text: 'b' });
    await collectReply(ask(responder({ url: `${baseUrl}/` })));
    await collectReply(ask(responder({ url: `${baseUrl}/chat/completions?api-version=1` })));
    expect(llm.requests.map((r) => r.url)).toEqual(['/v1/chat/completions', '/v1/chat/completions?api-version=1']);
  });
});

describe('OpenAIResponder: headers and credentials', () => {
  it('awaits getHeaders and getToken for every request; their headers reach the server', async () => {
    llm.script({ text: 'one' }, { text: 'two' });
    let calls = 0;
    const r = responder({
      headers: { 'X-Static': 'static', Authorization: 'Bearer replaced-by-token' },
      getHeaders: async ({ turnId }) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { 'X-Session': `session-${++calls}`, 'X-Turn': String(turnId) };
      },
      getToken: async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return `token-${calls}`;
      },
    });
    await collectReply(ask(r));
    await collectReply(ask(r));
    const [first, second] = llm.requests;
    expect(first!.headers['x-static']).toBe('static');
    expect(first!.headers['x-session']).toBe('session-1');
    expect(first!.headers['x-turn']).toBe('1');
    expect(first!.headers.authorization).toBe('Bearer token-1');
    expect(second!.headers['x-session']).toBe('session-2');
    expect(second!.headers.authorization).toBe('Bearer token-2');
  });

  it('reports a failing header callback as llm-unauthorized and sends nothing', async () => {
    const r = responder({
      getToken: () => Promise.reject(new Error('token endpoint said 500')),
    });
    await expect(collectReply(ask(r))).rejects.toMatchObject({ code: 'llm-unauthorized' });
    expect(llm.requests).toHaveLength(0);
  });

  it('never puts a header value into an error message, even when the server echoes it', async () => {
    const key = 'sk-test-SECRET1234567890';
    const r = responder({ headers: { Authorization: `Bearer ${key}`, 'X-Api-Key': 'other-secret-value' } });
    const error = await failure(r, {
      fault: {
        kind: 'status',
        status: 401,
        body: JSON.stringify({ error: { message: `Incorrect API key provided: ${key}; also other-secret-value.` } }),
      },
    });
    expect(error.code).toBe('llm-unauthorized');
    expect(error.message).toContain('HTTP 401');
    expect(error.message).toContain('Incorrect API key provided');
    expect(error.message).not.toContain('SECRET');
    expect(error.message).not.toContain('other-secret-value');
    expect(String(error.cause ?? '')).not.toContain('SECRET');
  });
});

describe('OpenAIResponder: failures become typed errors', () => {
  it.each([
    [401, 'llm-unauthorized', false],
    [403, 'llm-unauthorized', false],
    [500, 'llm-server-error', true],
    [503, 'llm-server-error', true],
    [404, 'llm-bad-request', false],
    [400, 'llm-bad-request', false],
  ] as const)('HTTP %i → %s', async (status, code, recoverable) => {
    const error = await failure(responder(), { fault: { kind: 'status', status } });
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.recoverable).toBe(recoverable);
    expect(error.message).toContain(`HTTP ${status}`);
    expect(error.message).toContain(`Scripted failure (HTTP ${status})`); // the server's own words
    expect(error.message).toContain(new URL(baseUrl).origin);
    expect(error.message).not.toContain('/v1'); // origin only, never the path
  });

  it('HTTP 429 → llm-rate-limited with Retry-After in ms (seconds and HTTP-date forms)', async () => {
    const seconds = await failure(responder(), { fault: { kind: 'status', status: 429, retryAfter: '7' } });
    expect(seconds.code).toBe('llm-rate-limited');
    expect(seconds.retryAfterMs).toBe(7000);
    expect(seconds.message).toContain('HTTP 429');
    expect(seconds.message).toContain('Try again in 7 s');
    expect(seconds.toDetail()).toMatchObject({ code: 'llm-rate-limited', status: 429, retryAfterMs: 7000 });

    const date = new Date(Date.now() + 30_000).toUTCString();
    const dated = await failure(responder(), { fault: { kind: 'status', status: 429, retryAfter: date } });
    expect(dated.retryAfterMs).toBeGreaterThan(25_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(30_000);

    const none = await failure(responder(), { fault: { kind: 'status', status: 429 } });
    expect(none.retryAfterMs).toBeUndefined();
  });

  it('an HTML error page is not quoted; a plain-text one is', async () => {
    const html = await failure(responder(), {
      fault: { kind: 'status', status: 502, contentType: 'text/html', body: '<html><body>Bad gateway</body></html>' },
    });
    expect(html.code).toBe('llm-server-error');
    expect(html.message).not.toContain('<');
    const text = await failure(responder(), {
      fault: { kind: 'status', status: 500, contentType: 'text/plain', body: 'model crashed\n\tout of memory' },
    });
    expect(text.message).toContain('HTTP 500: model crashed out of memory');
  });

  it('nobody listening → llm-unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = new OpenAIResponder({ url: `http://127.0.0.1:${port}/v1` });
    const error = await collectReply(ask(r)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'llm-unreachable' });
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
  });

  it('an endpoint that redirects: followed by default; with refuseRedirects (local-only) → local-only-violation, the target never asked', async () => {
    const redirecting = createServer((_req, res) => {
      res.writeHead(307, { Location: `${baseUrl}/chat/completions` }).end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/v1`;
    try {
      llm.script({ text: REPLY });
      expect(await collectReply(ask(new OpenAIResponder({ url })))).toBe(REPLY);
      expect(llm.requests).toHaveLength(1);
      llm.reset();

      const error = await collectReply(ask(new OpenAIResponder({ url, refuseRedirects: true }))).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'local-only-violation' });
      expect((error as Error).message).toContain(url.replace('/v1', ''));
      expect((error as Error).message).toContain('redirect');
      expect(llm.requests).toHaveLength(0);
    } finally {
      await new Promise<void>((resolve) => redirecting.close(() => resolve()));
    }
  });

  it('connection reset after some tokens → llm-cut-off, with the tokens already delivered', async () => {
    llm.script({ text: 'one two three four five', fault: { kind: 'cut', afterTokens: 3 } });
    const deltas: string[] = [];
    const error = await (async () => {
      for await (const delta of ask(responder())) deltas.push(delta);
    })().then(
      () => null,
      (e: unknown) => e,
    );
    expect(deltas.join('')).toBe('one two three');
    expect(error).toMatchObject({ code: 'llm-cut-off' });
  });

  it('response ended cleanly without [DONE] or finish_reason → llm-cut-off', async () => {
    const error = await failure(responder(), { text: 'one two three', fault: { kind: 'end-early', afterTokens: 2 } });
    expect(error.code).toBe('llm-cut-off');
  });

  it('a 200 HTML page → llm-bad-response naming the content type', async () => {
    const error = await failure(responder(), { fault: { kind: 'garbage' } });
    expect(error.code).toBe('llm-bad-response');
    expect(error.message).toContain('text/html');
  });

  it('a 200 JSON error body → llm-bad-response with the server message', async () => {
    const error = await failure(responder(), {
      fault: { kind: 'garbage', contentType: 'application/json', body: '{"error":"model not loaded"}' },
    });
    expect(error.code).toBe('llm-bad-response');
    expect(error.message).toContain('model not loaded');
  });

  it('a 200 non-streamed JSON completion (a proxy that ignored stream: true) is accepted whole', async () => {
    llm.script({
      fault: {
        kind: 'garbage',
        contentType: 'application/json',
        body: JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: 'Whole reply.' }, finish_reason: 'stop' }] }),
      },
    });
    expect(await collectReply(ask(responder()))).toBe('Whole reply.');
  });

  it('a non-JSON data event in the stream → llm-bad-response', async () => {
    const error = await failure(responder(), { text: 'a b c', fault: { kind: 'bad-event', afterTokens: 1 } });
    expect(error.code).toBe('llm-bad-response');
  });

  it('an in-stream chunk with a stray `message` field is not an error (only an `error` key is)', async () => {
    llm.script({
      text: 'a b',
      fault: {
        kind: 'bad-event',
        afterTokens: 1,
        data: '{"choices":[{"index":0,"delta":{"content":" x"},"finish_reason":"stop"}],"message":"hello"}',
      },
    });
    expect(await collectReply(ask(responder()))).toBe('a x');
  });

  it('an error body in FastAPI form ({detail}) is quoted', async () => {
    const error = await failure(responder(), {
      fault: { kind: 'status', status: 422, body: '{"detail":"messages: field required"}' },
    });
    expect(error.code).toBe('llm-bad-request');
    expect(error.message).toContain('HTTP 422: messages: field required');
  });

  it('an error object inside the stream → llm-server-error with its message', async () => {
    const error = await failure(responder(), {
      text: 'a b c',
      fault: { kind: 'error-event', afterTokens: 2, message: 'CUDA out of memory' },
    });
    expect(error.code).toBe('llm-server-error');
    expect(error.message).toContain('CUDA out of memory');
  });

  it('a URL that is not http(s) is refused when the responder is made', () => {
    expect(() => new OpenAIResponder({ url: 'javascript:alert(1)' })).toThrow(VoiceAgentError);
    expect(() => new OpenAIResponder({ url: 'not a url' })).toThrow(/not a usable http/);
  });
});

describe('OpenAIResponder: timeouts', { timeout: 20_000 }, () => {
  it('no response headers within connectTimeoutMs → llm-timeout, and the request is dropped', async () => {
    const r = responder({ connectTimeoutMs: 300 });
    const t0 = performance.now();
    const error = await failure(r, { fault: { kind: 'hang' } });
    const elapsed = performance.now() - t0;
    expect(error.code).toBe('llm-timeout');
    expect(error.message).toContain('0.3 s');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3000);
    expect(await llm.requests[0]!.ended).toBe('client-closed');
  });

  it('headers but no first token within firstTokenTimeoutMs → llm-timeout', async () => {
    const r = responder({ connectTimeoutMs: 5000, firstTokenTimeoutMs: 400 });
    const t0 = performance.now();
    const error = await failure(r, { fault: { kind: 'silent' } });
    expect(error.code).toBe('llm-timeout');
    expect(error.message).toContain('started no reply');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(390);
    expect(await llm.requests[0]!.ended).toBe('client-closed');
  });

  it('a role-only first chunk is not a first token: the first-token deadline still applies', async () => {
    // The server sends `delta: { role: 'assistant', content: '' }` at once, then its first word after 5 s.
    const r = responder({ firstTokenTimeoutMs: 400, stallTimeoutMs: 10_000 });
    const t0 = performance.now();
    const error = await failure(r, { text: 'late words', firstTokenDelayMs: 5000 });
    expect(error.code).toBe('llm-timeout');
    expect(performance.now() - t0).toBeLessThan(2500);
  });

  it('a first token that arrives in time is followed by the stall rule, not the first-token deadline', async () => {
    // First token at 100 ms, then tokens every 300 ms for ~1.6 s: longer than firstTokenTimeoutMs in total.
    llm.script({ text: 'a b c d e f', firstTokenDelayMs: 100, tokenDelayMs: 300 });
    expect(await collectReply(ask(responder({ firstTokenTimeoutMs: 800, stallTimeoutMs: 1000 })))).toBe('a b c d e f');
  });

  it('a slow but steady stream is not a stall: the stall timer restarts with every chunk', async () => {
    // 6 tokens 250 ms apart: 1.25 s in all, longer than the 1 s stall timeout.
    llm.script({ text: 'a b c d e f', tokenDelayMs: 250 });
    expect(await collectReply(ask(responder({ stallTimeoutMs: 1000 })))).toBe('a b c d e f');
  });

  it('keep-alive comments count as bytes for the stall timer (and without them the same gaps stall)', async () => {
    // Gaps of 1.2 s between tokens, stall timeout 0.7 s: comments every 0.2 s keep it alive…
    llm.script({ text: 'a b c', tokenDelayMs: 1200, keepAliveEveryMs: 200 });
    expect(await collectReply(ask(responder({ stallTimeoutMs: 700 })))).toBe('a b c');
    // …and the same gaps without comments are a stall.
    llm.script({ text: 'a b c', tokenDelayMs: 1200 });
    await expect(collectReply(ask(responder({ stallTimeoutMs: 700 })))).rejects.toMatchObject({ code: 'llm-stalled' });
  });

  it('the stream stops mid-reply for longer than stallTimeoutMs → llm-stalled after the delivered text', async () => {
    llm.script({ text: 'one two three four', fault: { kind: 'stall', afterTokens: 2 } });
    const deltas: string[] = [];
    const t0 = performance.now();
    const error = await (async () => {
      for await (const delta of ask(responder({ stallTimeoutMs: 400 }))) deltas.push(delta);
    })().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'llm-stalled' });
    expect(deltas.join('')).toBe('one two');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(390);
    expect(await llm.requests[0]!.ended).toBe('client-closed');
  });

  it('a slow consumer does not count as a stall (the timer runs only while waiting for the server)', async () => {
    llm.script({ text: 'a b c' });
    const deltas: string[] = [];
    for await (const delta of ask(responder({ stallTimeoutMs: 200 }))) {
      deltas.push(delta);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(deltas.join('')).toBe('a b c');
  });
});

describe('OpenAIResponder: abort', () => {
  it('an abort mid-stream ends the iteration with an AbortError (not a VoiceAgentError) and the server sees the connection close', async () => {
    llm.script({ text: Array.from({ length: 50 }, (_, i) => `w${i}`).join(' '), tokenDelayMs: 50 });
    const controller = new AbortController();
    const deltas: string[] = [];
    const error = await (async () => {
      for await (const delta of ask(responder(), controller.signal)) {
        deltas.push(delta);
        if (deltas.length === 3) controller.abort('barge-in');
      }
    })().then(
      () => null,
      (e: unknown) => e,
    );
    expect(isAbortError(error)).toBe(true);
    expect(error).not.toBeInstanceOf(VoiceAgentError);
    expect(deltas).toHaveLength(3);
    const request = llm.requests[0]!;
    expect(await request.ended).toBe('client-closed');
    // The server stopped well before the 50 tokens it had to send.
    expect(request.tokensSent).toBeLessThan(10);
  });

  it('an abort while waiting for headers ends with an AbortError and closes the connection', async () => {
    llm.script({ fault: { kind: 'hang' } });
    const controller = new AbortController();
    const stream = collectReply(ask(responder(), controller.signal));
    await llm.waitForRequests(1);
    controller.abort();
    await expect(stream).rejects.toSatisfy(isAbortError);
    expect(await llm.requests[0]!.ended).toBe('client-closed');
  });

  it('an abort wins over a timeout that fires because of it', async () => {
    llm.script({ fault: { kind: 'hang' } });
    const controller = new AbortController();
    const stream = collectReply(ask(responder({ connectTimeoutMs: 200 }), controller.signal));
    await llm.waitForRequests(1);
    controller.abort();
    await expect(stream).rejects.toSatisfy(isAbortError);
  });

  it('an already aborted signal sends no request', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(collectReply(ask(responder(), controller.signal))).rejects.toSatisfy(isAbortError);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(llm.requests).toHaveLength(0);
  });

  it('breaking out of the loop closes the connection too', async () => {
    llm.script({ text: Array.from({ length: 50 }, (_, i) => `w${i}`).join(' '), tokenDelayMs: 50 });
    for await (const _delta of ask(responder())) break;
    expect(await llm.requests[0]!.ended).toBe('client-closed');
  });

  it('a getHeaders callback receives a signal that aborts with the request', async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const r = responder({
      getHeaders: ({ signal }) => {
        seen = signal;
        return new Promise(() => {}); // never resolves: only the abort can end this
      },
    });
    const stream = collectReply(ask(r, controller.signal));
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    await expect(stream).rejects.toSatisfy(isAbortError);
    expect(seen?.aborted).toBe(true);
  });
});

describe('OpenAIResponder: the server sees what a browser would send', () => {
  it('a CORS preflight from a page origin is answered with the allow headers, including Private Network Access', async () => {
    const response = await fetch(`${baseUrl}/chat/completions`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://localhost:5173',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type',
        'Access-Control-Request-Private-Network': 'true',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(response.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-private-network')).toBe('true');
    expect(llm.preflights).toBe(1);
    expect(llm.requests).toHaveLength(0);
  });

  it('with cors = false the allow headers are missing (a browser would fail the fetch)', async () => {
    llm.cors = false;
    const response = await fetch(`${baseUrl}/chat/completions`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'POST' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('helpers', () => {
  it('resolveChatCompletionsUrl appends /chat/completions unless the path already ends with it', () => {
    const r = (url: string, base?: string) => resolveChatCompletionsUrl(url, base).href;
    expect(r('http://localhost:11434/v1')).toBe('http://localhost:11434/v1/chat/completions');
    expect(r('http://localhost:11434/v1/')).toBe('http://localhost:11434/v1/chat/completions');
    expect(r('http://localhost:8080')).toBe('http://localhost:8080/chat/completions');
    expect(r('https://api.example.com/v1/chat/completions')).toBe('https://api.example.com/v1/chat/completions');
    expect(r('https://api.example.com/v1/chat/completions/')).toBe('https://api.example.com/v1/chat/completions');
    expect(r('https://proxy.example.com/llm?team=a')).toBe('https://proxy.example.com/llm/chat/completions?team=a');
    expect(r('/api/llm', 'https://site.example/page.html')).toBe('https://site.example/api/llm/chat/completions');
    expect(() => r('/api/llm')).toThrow(VoiceAgentError);
    expect(() => r('ftp://example.com/v1')).toThrow(VoiceAgentError);
  });

  it('parseRetryAfterMs reads seconds and dates, and nothing else', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfterMs('3', now)).toBe(3000);
    expect(parseRetryAfterMs('1.5', now)).toBe(1500);
    expect(parseRetryAfterMs('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfterMs('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
  });

  it('redact removes sent header values and key-looking strings', () => {
    expect(redact('bad key abc12345 here', ['abc12345'])).toBe('bad key [redacted] here');
    expect(redact('Incorrect API key provided: sk-proj-ab***yz', [])).toBe('Incorrect API key provided: [redacted]');
  });
});

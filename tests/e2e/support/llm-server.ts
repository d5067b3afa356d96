/**
 * A real local HTTP server that speaks the OpenAI `/chat/completions` streaming protocol
 * (server-sent events), with scripted replies and injectable faults. Framework-free
 * (`node:http` only) so Vitest and Playwright specs can both use it.
 *
 * ```ts
 * const llm = new LlmServer();
 * const baseUrl = await llm.start();          // http://127.0.0.1:PORT/v1
 * llm.script({ text: 'Hello there.', tokenDelayMs: 50 }, { fault: { kind: 'status', status: 429, retryAfter: '7' } });
 * // … the page or a responder calls `${baseUrl}/chat/completions` …
 * llm.requests[0].body;                        // the JSON the client sent
 * await llm.requests[0].ended;                 // 'completed' | 'client-closed' | 'server-cut'
 * await llm.close();
 * ```
 *
 * Each POST takes the next scripted reply (`script()`), or `defaultReply` when none is
 * queued. Every request is recorded with its headers, body and what became of it: whether
 * the server finished it, cut it (a fault), or the client went away first (an abort).
 * Every response carries CORS headers (`Access-Control-Allow-Origin` echoing the page's
 * origin, `Access-Control-Allow-Private-Network` when asked), so a page on another origin
 * can call it; set `cors = false` to see how a browser treats a server that does not allow
 * the page (a failed fetch).
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** A fault to inject instead of (or in the middle of) a normal reply. */
export type LlmFault =
  /** Answer with this HTTP status (401, 403, 429, 500, 503, 404…) and a JSON error body (or `body`). */
  | { readonly kind: 'status'; readonly status: number; readonly body?: string; readonly contentType?: string; readonly retryAfter?: string }
  /** Send `afterTokens` tokens, then destroy the socket (a reset; no `[DONE]`, no finish_reason). */
  | { readonly kind: 'cut'; readonly afterTokens: number }
  /** Send `afterTokens` tokens, then end the response cleanly without `[DONE]` or finish_reason. */
  | { readonly kind: 'end-early'; readonly afterTokens: number }
  /** Send `afterTokens` tokens, then nothing while keeping the connection open (for `forMs`, default 60 s). */
  | { readonly kind: 'stall'; readonly afterTokens: number; readonly forMs?: number }
  /** Send response headers, then nothing at all (for `forMs`, default 60 s). */
  | { readonly kind: 'silent'; readonly forMs?: number }
  /** Never send response headers (until the client gives up or the server closes). */
  | { readonly kind: 'hang' }
  /** A 200 that is not an event stream (default: an HTML page). */
  | { readonly kind: 'garbage'; readonly body?: string; readonly contentType?: string }
  /** A 200 event stream carrying non-JSON `data:` after `afterTokens` tokens. */
  | { readonly kind: 'bad-event'; readonly afterTokens: number; readonly data?: string }
  /** Send `afterTokens` tokens, then an `{"error": {...}}` event and end (as vLLM/OpenAI do mid-stream). */
  | { readonly kind: 'error-event'; readonly afterTokens: number; readonly message: string };

/** One scripted reply. */
export interface ScriptedReply {
  /** The reply text, streamed word by word (each token keeps its leading space). */
  readonly text?: string;
  /** Explicit tokens instead of `text`. */
  readonly tokens?: readonly string[];
  /** Wait before sending response headers. */
  readonly headersDelayMs?: number;
  /** Wait after the headers before the first token. */
  readonly firstTokenDelayMs?: number;
  /** Wait before every token after the first. */
  readonly tokenDelayMs?: number;
  /** The final chunk's `finish_reason` (default `stop`); null sends no finish chunk. */
  readonly finishReason?: string | null;
  /** Send `data: [DONE]` at the end (default true). */
  readonly done?: boolean;
  /** Line ending of the event stream (default `\n`). */
  readonly lineEnding?: '\n' | '\r\n';
  /** Write every event in 3-byte pieces (separate socket writes), splitting JSON and UTF-8 characters. */
  readonly splitWrites?: boolean;
  /** Send a `: keep-alive` comment before every token. */
  readonly keepAliveComments?: boolean;
  /** While waiting between tokens (and while stalled), send a `: keep-alive` comment this often. */
  readonly keepAliveEveryMs?: number;
  readonly fault?: LlmFault;
}

/** What became of a request. */
export type RequestEnd = 'completed' | 'client-closed' | 'server-cut';

/** One chat request the server received. */
export interface RecordedRequest {
  readonly index: number;
  readonly method: string;
  /** Path and query. */
  readonly url: string;
  /** Lower-cased header names, as Node gives them. */
  readonly headers: IncomingHttpHeaders;
  /** The raw request body. */
  readonly rawBody: string;
  /** The parsed JSON body (undefined when it was not JSON). */
  readonly body: ChatRequestBody | undefined;
  /** The reply the server played for it. */
  readonly reply: ScriptedReply;
  /** `performance.now()` in this process when the request arrived. */
  readonly receivedAt: number;
  /** When the first / last token was written (undefined if none was). */
  firstTokenAt: number | undefined;
  lastTokenAt: number | undefined;
  /** Tokens written so far. */
  tokensSent: number;
  /** Settles once the exchange is over. */
  readonly ended: Promise<RequestEnd>;
  /** The settled value of `ended`, or undefined while running. */
  outcome: RequestEnd | undefined;
  /** When it ended. */
  endedAt: number | undefined;
}

/** The parts of a chat completions body the tests look at. */
export interface ChatRequestBody {
  readonly model?: string;
  readonly stream?: boolean;
  readonly messages?: readonly { readonly role: string; readonly content: string }[];
  readonly [key: string]: unknown;
}

export type ReplyScript = ScriptedReply | ((request: RecordedRequest) => ScriptedReply);

/** Splits a text into word tokens that join back to it. */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+\s*$|\s*\S+/g) ?? [];
}

export class LlmServer {
  /** Every chat request, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** CORS preflights (OPTIONS) answered. */
  preflights = 0;
  /** Answer with CORS headers (false: a browser page on another origin cannot read the replies). */
  cors = true;
  /** The reply when no scripted one is queued: echoes the last user message. */
  defaultReply: ReplyScript = (request) => {
    const last = [...(request.body?.messages ?? [])].reverse().find((m) => m.role === 'user');
    return { text: `You said: ${last?.content ?? ''}` };
  };

  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly queue: ReplyScript[] = [];
  private readonly waiters: (() => void)[] = [];
  private baseUrl = '';

  /** Queues replies for the next requests, in order. */
  script(...replies: ReplyScript[]): this {
    this.queue.push(...replies);
    return this;
  }

  /** Forgets recorded requests and queued replies (the server keeps running). */
  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
    this.preflights = 0;
    this.cors = true;
  }

  /** Starts listening on 127.0.0.1 (`port` 0 = any free port); resolves to the base URL `http://127.0.0.1:PORT/v1`. */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.server) return this.url;
    const server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.destroy();
      });
    });
    server.on('connection', (socket) => {
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    this.baseUrl = `http://${host}:${address.port}/v1`;
    return this.baseUrl;
  }

  /** The base URL (`http://127.0.0.1:PORT/v1`); `${url}/chat/completions` is the endpoint. */
  get url(): string {
    if (!this.server) throw new Error('LlmServer is not started');
    return this.baseUrl;
  }

  /** Stops the server and drops every open connection (stalled and hanging replies included). */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves once at least `count` chat requests have arrived. */
  async waitForRequests(count: number, timeoutMs = 10_000): Promise<RecordedRequest[]> {
    const deadline = performance.now() + timeoutMs;
    while (this.requests.length < count) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`LlmServer: expected ${count} requests, got ${this.requests.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.requests.slice(0, count);
  }

  private corsHeaders(req: IncomingMessage): Record<string, string> {
    if (!this.cors) return {};
    const headers: Record<string, string> = {
      'Access-Control-Allow-Origin': req.headers.origin ?? '*',
      'Access-Control-Expose-Headers': 'Retry-After',
      Vary: 'Origin',
    };
    if (req.headers['access-control-request-private-network'] === 'true') {
      headers['Access-Control-Allow-Private-Network'] = 'true';
    }
    return headers;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'OPTIONS') {
      this.preflights++;
      const headers: Record<string, string> = { ...this.corsHeaders(req), 'Content-Length': '0' };
      if (this.cors) {
        headers['Access-Control-Allow-Methods'] = 'POST, GET, OPTIONS';
        headers['Access-Control-Allow-Headers'] = req.headers['access-control-request-headers'] ?? '*';
        headers['Access-Control-Max-Age'] = '600';
      }
      res.writeHead(204, headers).end();
      return;
    }
    if (req.method === 'GET' && /\/models\/?$/.test(path)) {
      this.json(req, res, 200, { object: 'list', data: [{ id: 'scripted', object: 'model', owned_by: 'llm-server' }] });
      return;
    }
    if (req.method !== 'POST' || !/\/chat\/completions\/?$/.test(path)) {
      this.json(req, res, 404, { error: { message: `No route for ${req.method} ${path}`, type: 'not_found' } });
      return;
    }

    const rawBody = await readBody(req);
    let body: ChatRequestBody | undefined;
    try {
      body = JSON.parse(rawBody) as ChatRequestBody;
    } catch {
      body = undefined;
    }
    let settle!: (end: RequestEnd) => void;
    const ended = new Promise<RequestEnd>((resolve) => (settle = resolve));
    const partial = {
      index: this.requests.length,
      method: req.method,
      url: req.url ?? '/',
      headers: req.headers,
      rawBody,
      body,
      receivedAt: performance.now(),
      firstTokenAt: undefined,
      lastTokenAt: undefined,
      tokensSent: 0,
      ended,
      outcome: undefined,
      endedAt: undefined,
    };
    const script = this.queue.shift() ?? this.defaultReply;
    const reply = typeof script === 'function' ? script({ ...partial, reply: {} }) : script;
    const record: RecordedRequest = { ...partial, reply };
    const finish = (end: RequestEnd) => {
      if (record.outcome) return;
      record.outcome = end;
      record.endedAt = performance.now();
      settle(end);
    };
    // 'close' fires when the exchange is over; before the response ended, the client left.
    res.on('close', () => finish(res.writableFinished ? 'completed' : 'client-closed'));
    this.requests.push(record);
    for (const wake of this.waiters.splice(0)) wake();

    await this.play(req, res, record, reply, finish);
  }

  private async play(
    req: IncomingMessage,
    res: ServerResponse,
    record: RecordedRequest,
    reply: ScriptedReply,
    finish: (end: RequestEnd) => void,
  ): Promise<void> {
    const gone = () => res.destroyed || record.outcome !== undefined;
    const fault = reply.fault;
    if (fault?.kind === 'hang') return; // the 'close' listener records the client leaving
    await sleep(reply.headersDelayMs ?? 0, res);
    if (gone()) return;

    if (fault?.kind === 'status') {
      const headers: Record<string, string> = {
        ...this.corsHeaders(req),
        'Content-Type': fault.contentType ?? 'application/json',
      };
      if (fault.retryAfter !== undefined) headers['Retry-After'] = fault.retryAfter;
      const body =
        fault.body ??
        JSON.stringify({ error: { message: `Scripted failure (HTTP ${fault.status})`, type: 'scripted', code: fault.status } });
      res.writeHead(fault.status, headers).end(body);
      return;
    }
    if (fault?.kind === 'garbage') {
      res
        .writeHead(200, { ...this.corsHeaders(req), 'Content-Type': fault.contentType ?? 'text/html; charset=utf-8' })
        .end(fault.body ?? '<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>');
      return;
    }

    res.writeHead(200, {
      ...this.corsHeaders(req),
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
    });
    res.flushHeaders();
    if (fault?.kind === 'silent') {
      await sleep(fault.forMs ?? 60_000, res);
      if (!gone()) res.destroy();
      finish('server-cut');
      return;
    }

    const le = reply.lineEnding ?? '\n';
    const id = `chatcmpl-${record.index}`;
    const created = Math.floor(Date.now() / 1000);
    const model = record.body?.model ?? 'scripted';
    const chunk = (delta: Record<string, unknown>, finishReason: string | null) =>
      JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [{ index: 0, delta, finish_reason: finishReason }],
      });
    // Each write resolves once handed to the socket, so a fault that follows (a cut) comes
    // after the tokens before it, as on a real connection.
    const write = (data: string | Uint8Array) =>
      new Promise<void>((resolve) => {
        if (gone()) return resolve();
        res.write(data, () => resolve());
      });
    const send = async (data: string) => {
      const event = `data: ${data}${le}${le}`;
      if (!reply.splitWrites) return write(event);
      const bytes = Buffer.from(event, 'utf8');
      for (let i = 0; i < bytes.length && !gone(); i += 3) {
        await write(bytes.subarray(i, i + 3));
        // A macrotask between pieces so they leave as separate TCP segments.
        await sleep(1, res);
      }
    };

    /** Waits `ms`, sending keep-alive comments meanwhile when asked to. */
    const pause = async (ms: number) => {
      const every = reply.keepAliveEveryMs;
      if (!every || every <= 0) return sleep(ms, res);
      const until = performance.now() + ms;
      for (let left = ms; left > 0 && !gone(); left = until - performance.now()) {
        await sleep(Math.min(every, left), res);
        if (until - performance.now() > 0) await write(`: keep-alive${le}${le}`);
      }
    };

    const tokens = reply.tokens ?? tokenize(reply.text ?? '');
    const stopAfter =
      fault && 'afterTokens' in fault ? Math.min(fault.afterTokens, tokens.length) : tokens.length;
    await send(chunk({ role: 'assistant', content: '' }, null));
    for (let i = 0; i < stopAfter; i++) {
      await pause(i === 0 ? (reply.firstTokenDelayMs ?? 0) : (reply.tokenDelayMs ?? 0));
      if (gone()) return;
      if (reply.keepAliveComments) await write(`: keep-alive${le}${le}`);
      await send(chunk({ content: tokens[i] }, null));
      if (gone()) return;
      record.tokensSent++;
      record.lastTokenAt = performance.now();
      record.firstTokenAt ??= record.lastTokenAt;
    }

    switch (fault?.kind) {
      case 'cut':
        await sleep(20, res);
        res.destroy();
        finish('server-cut');
        return;
      case 'end-early':
        res.end();
        return;
      case 'stall':
        await pause(fault.forMs ?? 60_000);
        if (!gone()) res.destroy();
        finish('server-cut');
        return;
      case 'bad-event':
        await send(fault.data ?? '{"choices": [ this is not json');
        res.end();
        return;
      case 'error-event':
        await send(JSON.stringify({ error: { message: fault.message, type: 'server_error', code: 500 } }));
        res.end();
        return;
      default:
        break;
    }
    const finishReason = reply.finishReason === undefined ? 'stop' : reply.finishReason;
    if (finishReason !== null) await send(chunk({ content: null }, finishReason));
    if (reply.done ?? true) await send('[DONE]');
    if (!gone()) res.end();
  }

  private json(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { ...this.corsHeaders(req), 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Waits `ms`, or less if the response closes first. */
function sleep(ms: number, res: ServerResponse): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.on('close', done);
  });
}

type Hook = (fn: () => Promise<void>) => void;

/**
 * A fresh server for every test, started and closed by the runner's own hooks (Playwright's
 * `test.beforeEach`/`test.afterEach` or Vitest's `beforeEach`/`afterEach`, passed in so
 * this file depends on neither). Returns the current test's server.
 */
export function useLlmServer(beforeEach: Hook, afterEach: Hook): () => LlmServer {
  let server: LlmServer | null = null;
  beforeEach(async () => {
    server = new LlmServer();
    await server.start();
  });
  afterEach(async () => {
    await server?.close();
    server = null;
  });
  return () => {
    if (!server) throw new Error('useLlmServer: no test is running');
    return server;
  };
}

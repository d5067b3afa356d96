/**
 * A responder for any OpenAI-compatible `/chat/completions` endpoint with `stream: true`:
 * Ollama (`http://localhost:11434/v1`), the llama.cpp server (`http://localhost:8080/v1`),
 * vLLM, LM Studio (`http://localhost:1234/v1`), OpenAI, or the site's own proxy.
 *
 * Keys never belong in page markup: pass `headers` as a property from code, or better a
 * `getHeaders()` / `getToken()` callback that fetches a short-lived token from the site's
 * backend for every request (or point `url` at a backend proxy that holds the key).
 *
 * Failures become `VoiceAgentError`s with stable codes (see `errors.ts`):
 *
 * | What happened                                              | code                |
 * |------------------------------------------------------------|---------------------|
 * | HTTP 401 / 403, or the header/token callback threw         | `llm-unauthorized`  |
 * | HTTP 429 (`retryAfterMs` from `Retry-After`)               | `llm-rate-limited`  |
 * | HTTP 5xx, or an `error` object inside the stream           | `llm-server-error`  |
 * | any other HTTP 4xx (wrong path, unknown model, too long)   | `llm-bad-request`   |
 * | `fetch` failed: offline, DNS, refused, CORS, mixed content | `llm-unreachable`   |
 * | no response headers in `connectTimeoutMs`, or no first     | `llm-timeout`       |
 * |   text in `firstTokenTimeoutMs`                            |                     |
 * | no bytes for `stallTimeoutMs` after the first text         | `llm-stalled`       |
 * | connection closed/reset before `[DONE]` or `finish_reason` | `llm-cut-off`       |
 * | 200 but not an event stream / not JSON / a JSON error body | `llm-bad-response`  |
 * | a redirect, with `refuseRedirects` (`local-only`)          | `local-only-violation` |
 *
 * Messages are short, human, include the HTTP status and the server's origin (never its
 * path or query), and never contain a header value we sent (they are redacted from any
 * server text we quote). A deliberate abort (the request's signal) is not an error: the
 * stream throws an `AbortError` (see `isAbortError`) and the HTTP request is aborted.
 *
 * No automatic retries: a retry after text was spoken would repeat it, and before that the
 * element decides (it may apologise and keep listening instead).
 *
 * Browser notes: the request has `Content-Type: application/json`, so a server on another
 * origin gets a CORS preflight and must allow the page's origin and headers; it must also
 * list `Retry-After` in `Access-Control-Expose-Headers` or the browser hides it (then
 * `retryAfterMs` is undefined). Browsers report a CORS refusal exactly like a network
 * failure, hence one code (`llm-unreachable`) for both.
 *
 * @example
 * ```ts
 * const responder = new OpenAIResponder({
 *   url: 'http://localhost:11434/v1',            // Ollama
 *   model: 'qwen2.5:3b',
 *   systemPrompt: 'Answer in one or two short sentences.',
 *   getToken: () => fetch('/api/llm-token').then((r) => r.text()), // short-lived, from the site's backend
 * });
 * for await (const delta of responder.respond({ messages, signal, turnId })) speak(delta);
 * ```
 */
import { VoiceAgentError, describeCause } from '../platform/errors.ts';
import { fetchFollowingNoRedirect, isRedirect, redirectRefused } from '../platform/local-only.ts';
import { abortError, type ChatMessage, type Responder, type ResponderRequest } from './responder.ts';
import { SseParser } from './sse.ts';
import { httpError, interpretEvent, nonStreamedAnswer, readText } from './openai-wire.ts';

export { parseRetryAfterMs, redact } from './openai-wire.ts';

/** Headers as a plain object. */
export type HeaderRecord = Readonly<Record<string, string>>;

/** What the header and token callbacks are told about the request they authorise. */
export interface OpenAIRequestContext {
  /** Aborted when the reply is no longer wanted; a callback that fetches a token may pass it on. */
  readonly signal: AbortSignal;
  readonly turnId: number;
}

export interface OpenAIResponderOptions {
  /**
   * The endpoint. Rule: if the URL's path already ends with `/chat/completions` it is used
   * as is; otherwise `/chat/completions` is appended to its path (trailing slashes
   * dropped, query kept). So `http://localhost:11434/v1` and
   * `http://localhost:11434/v1/chat/completions` mean the same. A relative URL (a proxy on
   * the page's origin, e.g. `/api/llm`) is resolved against the document's URL. Only
   * `http:` and `https:` are accepted.
   */
  readonly url: string;
  /** The `model` field (`qwen2.5:3b`, `gpt-4o-mini`); omitted when unset (llama.cpp ignores it). */
  readonly model?: string;
  /** Sent as the first `system` message, unless the request's messages already start with one. */
  readonly systemPrompt?: string;
  /** Extra headers for every request. Set them from code, never from markup. */
  readonly headers?: HeaderRecord;
  /** Called before every request; its headers win over `headers`. Awaited (counts against `connectTimeoutMs`). */
  readonly getHeaders?: (context: OpenAIRequestContext) => HeaderRecord | Promise<HeaderRecord>;
  /** Called before every request; a non-empty result is sent as `Authorization: Bearer <token>`. */
  readonly getToken?: (context: OpenAIRequestContext) => string | null | undefined | Promise<string | null | undefined>;
  /** `temperature`, when set. */
  readonly temperature?: number;
  /** Sent as `max_tokens`, when set. Cap replies for speech (and cost). */
  readonly maxTokens?: number;
  /** More body fields (e.g. `{ stream_options: { include_usage: true } }`); cannot override `messages` / `stream`. */
  readonly extraBody?: Readonly<Record<string, unknown>>;
  /** From the start of `respond()` (header callbacks included) until response headers. Default 15 000; 0 = none. */
  readonly connectTimeoutMs?: number;
  /** From the start of `respond()` until the first non-empty text delta. Default 20 000; 0 = none. */
  readonly firstTokenTimeoutMs?: number;
  /** Longest silence (no bytes at all) between chunks after the first text. Default 10 000; 0 = none. */
  readonly stallTimeoutMs?: number;
  /** The `fetch` to use. Default: the global one as it was when the responder was made. */
  readonly fetch?: typeof fetch;
  /**
   * `local-only`: a redirect from the endpoint is not followed (it could carry the
   * conversation off the origin) but fails with `local-only-violation`. Default false.
   */
  readonly refuseRedirects?: boolean;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
export const DEFAULT_FIRST_TOKEN_TIMEOUT_MS = 20_000;
export const DEFAULT_STALL_TIMEOUT_MS = 10_000;

/** How a reply stream ended (the generator's return value; `for await` ignores it). */
export interface OpenAIReplyEnd {
  /** `stop`, `length` (hit `max_tokens`: the text is truncated), …; null when only `[DONE]` was sent. */
  readonly finishReason: string | null;
}

/** Largest non-streamed body we read (error bodies, JSON answers, mislabelled streams). */
const MAX_BODY_CHARS = 1_000_000;
/** Longest wait for an error body after an error status (the status alone is enough). */
const ERROR_BODY_TIMEOUT_MS = 2_000;
/** setTimeout's limit; larger values fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

type TimeoutKind = 'connect' | 'first-token' | 'stall' | 'after-finish' | 'error-body';

/** Resolves the endpoint URL by the rule documented on {@link OpenAIResponderOptions.url}. */
export function resolveChatCompletionsUrl(url: string, base: string | undefined = documentUrl()): URL {
  let parsed: URL;
  try {
    parsed = new URL(url.trim(), base);
  } catch {
    throw invalidUrl();
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalidUrl();
  const path = parsed.pathname.replace(/\/+$/, '');
  if (!/\/chat\/completions$/.test(path)) parsed.pathname = `${path}/chat/completions`;
  else parsed.pathname = path;
  return parsed;
}

function invalidUrl(): VoiceAgentError {
  return new VoiceAgentError('llm-bad-request', 'The language model URL is not a usable http(s) URL.', {
    recoverable: false,
  });
}

function documentUrl(): string | undefined {
  const location = (globalThis as { location?: { href?: string } }).location;
  return typeof location?.href === 'string' ? location.href : undefined;
}

/** Internal marker: the request's controller was aborted (by the caller or by one of our timers). */
class Interrupted extends Error {}

interface RunState {
  /** The first of our timers that fired (and aborted the request). */
  firedTimeout: TimeoutKind | null;
  /** What the request was doing: awaiting header callbacks, awaiting response headers, reading the body. */
  phase: 'headers' | 'connect' | 'body';
  /** Header values sent, to be redacted from any server text we quote. */
  secrets: string[];
}

/** A timeout option as milliseconds, Infinity when off (0, negative, not finite). */
function limit(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : Infinity;
}

export class OpenAIResponder implements Responder {
  /** The resolved endpoint. */
  readonly endpoint: URL;
  private readonly options: OpenAIResponderOptions;
  private readonly fetchImpl: typeof fetch;

  constructor(options: OpenAIResponderOptions) {
    this.options = { ...options };
    this.endpoint = resolveChatCompletionsUrl(options.url);
    // Keep the fetch that exists now: a host page may wrap window.fetch later.
    const baseFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.fetchImpl = options.refuseRedirects ? fetchFollowingNoRedirect(baseFetch) : baseFetch;
  }

  /** The JSON body sent for these messages (exposed for tests and request auditing). */
  buildBody(messages: readonly ChatMessage[]): Record<string, unknown> {
    const { model, systemPrompt, temperature, maxTokens, extraBody } = this.options;
    const all: ChatMessage[] = [];
    if (systemPrompt?.trim() && messages[0]?.role !== 'system') all.push({ role: 'system', content: systemPrompt });
    for (const m of messages) all.push({ role: m.role, content: m.content });
    return {
      ...extraBody,
      ...(model ? { model } : {}),
      ...(temperature === undefined ? {} : { temperature }),
      ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
      messages: all,
      stream: true,
    };
  }

  respond(request: ResponderRequest): AsyncGenerator<string, OpenAIReplyEnd, undefined> {
    return this.stream(request);
  }

  private async *stream(request: ResponderRequest): AsyncGenerator<string, OpenAIReplyEnd, undefined> {
    const { signal, turnId } = request;
    if (signal.aborted) throw abortError(signal);

    const connectTimeoutMs = limit(this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    const firstTokenTimeoutMs = limit(this.options.firstTokenTimeoutMs ?? DEFAULT_FIRST_TOKEN_TIMEOUT_MS);
    const stallTimeoutMs = limit(this.options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS);
    const startedAt = performance.now();
    const origin = this.endpoint.origin;

    // One controller aborts the fetch and its body: the caller's signal and our timers feed it.
    const controller = new AbortController();
    const onCallerAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onCallerAbort, { once: true });
    // Held in an object: TypeScript would otherwise narrow these `let`s through the closures.
    const run: RunState = { firedTimeout: null, phase: 'headers', secrets: [] };
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    let response: Response | undefined;

    /**
     * Settles with `promise`, or rejects with Interrupted as soon as the controller aborts
     * (the caller's signal) or `ms` passes (then the timeout is recorded and the request aborted).
     */
    const race = <T>(promise: PromiseLike<T>, ms: number, kind: TimeoutKind): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const onAbort = () => {
          cleanup();
          reject(new Interrupted());
        };
        const cleanup = () => {
          if (timer !== undefined) clearTimeout(timer);
          controller.signal.removeEventListener('abort', onAbort);
        };
        Promise.resolve(promise).then(
          (value) => {
            cleanup();
            resolve(value);
          },
          (error: unknown) => {
            cleanup();
            reject(error);
          },
        );
        if (controller.signal.aborted) return onAbort();
        controller.signal.addEventListener('abort', onAbort, { once: true });
        if (ms !== Infinity) {
          timer = setTimeout(
            () => {
              run.firedTimeout ??= kind;
              controller.abort();
            },
            Math.min(Math.max(0, ms), MAX_TIMER_MS),
          );
        }
      });
    /** Time left until `limitMs` after the start (Infinity when that limit is off). */
    const until = (limitMs: number) => (limitMs === Infinity ? Infinity : limitMs - (performance.now() - startedAt));

    try {
      // 1. Headers, including the page's callbacks (a token fetch counts against the connect timeout).
      const context: OpenAIRequestContext = { signal: controller.signal, turnId };
      const headers = await race(this.headers(context), until(connectTimeoutMs), 'connect');
      for (const [name, value] of Object.entries(headers)) {
        if (/^(content-type|accept)$/i.test(name)) continue;
        run.secrets.push(value);
        const bearer = /^\s*(?:bearer|basic|token)\s+(.+)$/i.exec(value);
        if (bearer?.[1]) run.secrets.push(bearer[1].trim());
      }

      // 2. The request, until response headers.
      run.phase = 'connect';
      const init: RequestInit = {
        method: 'POST',
        headers,
        body: JSON.stringify(this.buildBody(request.messages)),
        signal: controller.signal,
      };
      response = await race(this.fetchImpl(this.endpoint.href, init), until(connectTimeoutMs), 'connect');
      if (this.options.refuseRedirects && isRedirect(response)) throw redirectRefused(this.endpoint.origin, 'the language model');
      run.phase = 'body';

      if (!response.ok) {
        const body = await race(readText(response, 16_384), ERROR_BODY_TIMEOUT_MS, 'error-body').catch(() => '');
        throw httpError(response, body, origin, run.secrets);
      }

      const contentType = response.headers.get('content-type') ?? '';
      if (!/text\/event-stream/i.test(contentType) || !response.body) {
        // Not labelled as a stream: read it whole (bounded) and make what sense we can of it.
        const body = await race(readText(response, MAX_BODY_CHARS), until(firstTokenTimeoutMs), 'first-token');
        const text = nonStreamedAnswer(body, contentType, origin, run.secrets);
        if (text.value) yield text.value;
        return { finishReason: text.finishReason };
      }

      // 3. The event stream.
      reader = response.body.getReader();
      const parser = new SseParser();
      let gotText = false;
      let finishReason: string | null = null;
      for (;;) {
        const ms = finishReason !== null ? stallTimeoutMs : gotText ? stallTimeoutMs : until(firstTokenTimeoutMs);
        const kind: TimeoutKind = finishReason !== null ? 'after-finish' : gotText ? 'stall' : 'first-token';
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await race(reader.read(), ms, kind);
        } catch (error) {
          // The reply was complete (finish_reason) and only `[DONE]` is missing: that is fine.
          if (run.firedTimeout === 'after-finish' && !signal.aborted) return { finishReason };
          throw error;
        }
        const events = chunk.done ? parser.end() : parser.push(chunk.value);
        for (const event of events) {
          const step = interpretEvent(event, chunk.done, origin, run.secrets);
          if (step.kind === 'done') return { finishReason };
          if (step.text) {
            gotText = true;
            yield step.text;
          }
          if (step.finishReason) finishReason = step.finishReason;
        }
        if (chunk.done) {
          if (finishReason !== null) return { finishReason };
          throw new VoiceAgentError(
            'llm-cut-off',
            `The language model's reply from ${origin} was cut off: the connection closed before the reply was complete.`,
          );
        }
      }
    } catch (error) {
      throw classify(error, signal, run, { origin, connectTimeoutMs, firstTokenTimeoutMs, stallTimeoutMs });
    } finally {
      signal.removeEventListener('abort', onCallerAbort);
      // Release the connection whatever happened: done, failed, aborted, or the caller stopped iterating.
      if (reader) reader.cancel().catch(() => {});
      else response?.body?.cancel().catch(() => {});
      controller.abort();
    }
  }

  private async headers(context: OpenAIRequestContext): Promise<Record<string, string>> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'text/event-stream' };
    const assign = (extra: HeaderRecord | undefined) => {
      if (!extra) return;
      for (const [name, value] of Object.entries(extra)) {
        // Header names are case-insensitive: a later `authorization` replaces an earlier `Authorization`.
        for (const existing of Object.keys(headers)) if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing];
        headers[name] = String(value);
      }
    };
    assign(this.options.headers);
    try {
      if (this.options.getHeaders) assign(await this.options.getHeaders(context));
      if (this.options.getToken) {
        const token = await this.options.getToken(context);
        if (token) assign({ Authorization: `Bearer ${token}` });
      }
    } catch (error) {
      if (context.signal.aborted) throw new Interrupted();
      if (error instanceof VoiceAgentError) throw error;
      throw new VoiceAgentError(
        'llm-unauthorized',
        `Could not get the credentials for the language model: ${describeCause(error)}`,
        { cause: error },
      );
    }
    return headers;
  }
}

/** Maps whatever ended a request to the outcome the caller sees. */
function classify(
  error: unknown,
  signal: AbortSignal,
  run: RunState,
  c: { origin: string; connectTimeoutMs: number; firstTokenTimeoutMs: number; stallTimeoutMs: number },
): unknown {
  // A deliberate abort wins over anything that happened because of it.
  if (signal.aborted) return abortError(signal);
  if (error instanceof VoiceAgentError) return error;
  const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
  switch (run.firedTimeout) {
    case 'connect':
      return new VoiceAgentError(
        'llm-timeout',
        `The language model at ${c.origin} did not answer within ${seconds(c.connectTimeoutMs)}.`,
        { cause: error },
      );
    case 'first-token':
      return new VoiceAgentError(
        'llm-timeout',
        `The language model at ${c.origin} started no reply within ${seconds(c.firstTokenTimeoutMs)}.`,
        { cause: error },
      );
    case 'stall':
      return new VoiceAgentError(
        'llm-stalled',
        `The language model's reply from ${c.origin} stopped arriving (nothing for ${seconds(c.stallTimeoutMs)}).`,
        { cause: error },
      );
    default:
      break;
  }
  if (run.phase === 'connect') {
    // fetch rejects with a bare TypeError for every network-level failure; browsers do not
    // say whether it was DNS, a refused connection, CORS or mixed content (on purpose).
    return new VoiceAgentError(
      'llm-unreachable',
      `Could not reach the language model at ${c.origin} (offline, wrong address, or the server does not accept requests from this page).`,
      { cause: error },
    );
  }
  if (run.phase === 'body') {
    return new VoiceAgentError(
      'llm-cut-off',
      `The language model's reply from ${c.origin} was cut off: the connection was lost.`,
      { cause: error },
    );
  }
  return VoiceAgentError.from(error, 'unknown');
}

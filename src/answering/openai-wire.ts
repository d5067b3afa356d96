/**
 * The OpenAI chat-completions wire format, as the responder reads it: one SSE event or a
 * whole non-streamed body into text, an HTTP error into a typed {@link VoiceAgentError}
 * (with server details trimmed and any secret redacted), and bounded body reads.
 */
import { VoiceAgentError } from '../platform/errors.ts';
import { SseParser, type SseEvent } from './sse.ts';

/** How much of a server's own error text we quote. */
const MAX_DETAIL_CHARS = 200;

/**
 * Parses `Retry-After` (delay-seconds or an HTTP date) into milliseconds from `now`.
 * Returns undefined when absent or unreadable.
 */
export function parseRetryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}


type EventStep = { kind: 'done' } | { kind: 'chunk'; text: string; finishReason: string | null };

/** Interprets one SSE event of a chat completion stream. */
export function interpretEvent(event: SseEvent, atEnd: boolean, origin: string, secrets: readonly string[]): EventStep {
  const data = event.data.trim();
  if (data === '[DONE]') return { kind: 'done' };
  if (data === '') return { kind: 'chunk', text: '', finishReason: null };
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch (error) {
    if (atEnd) {
      // The last event was cut in the middle of its JSON.
      throw new VoiceAgentError(
        'llm-cut-off',
        `The language model's reply from ${origin} was cut off in the middle of a message.`,
        { cause: error },
      );
    }
    throw new VoiceAgentError(
      'llm-bad-response',
      `The language model at ${origin} sent an event that is not JSON.`,
      { cause: error },
    );
  }
  const detail = errorDetail(json, secrets);
  if (event.type === 'error' || detail !== null) {
    throw new VoiceAgentError(
      'llm-server-error',
      `The language model at ${origin} failed during the reply${detail ? `: ${detail}` : ''}.`,
    );
  }
  const choice = firstChoice(json);
  if (!choice) return { kind: 'chunk', text: '', finishReason: null };
  const delta = choice.delta as { content?: unknown } | null | undefined;
  const text =
    typeof delta?.content === 'string' ? delta.content : typeof choice.text === 'string' ? choice.text : '';
  const finishReason = typeof choice.finish_reason === 'string' && choice.finish_reason ? choice.finish_reason : null;
  return { kind: 'chunk', text, finishReason };
}

function firstChoice(json: unknown): Record<string, unknown> | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const choices = (json as { choices?: unknown }).choices;
  if (!Array.isArray(choices)) return undefined;
  const choice: unknown = choices[0];
  return typeof choice === 'object' && choice !== null ? (choice as Record<string, unknown>) : undefined;
}

/**
 * A server's own error text from JSON: `{error:{message}}` or `{error:"…"}`; for a whole
 * error body (`asBody`) also `{message}` / `{detail}` (FastAPI, some proxies). Null when
 * the JSON is not an error. Inside a stream only an `error` key counts.
 */
function errorDetail(json: unknown, secrets: readonly string[], asBody = false): string | null {
  if (typeof json !== 'object' || json === null) return null;
  const record = json as Record<string, unknown>;
  const error = record.error;
  const isError = error !== undefined && error !== null && error !== false;
  let text: unknown;
  if (typeof error === 'string') text = error;
  else if (typeof error === 'object' && error !== null) text = (error as { message?: unknown }).message ?? JSON.stringify(error);
  else if (isError) text = String(error);
  else if (asBody && !('choices' in record)) text = record.message ?? record.detail;
  if (typeof text === 'string' && text.trim() !== '') return tidy(text, secrets);
  return isError ? 'unknown error' : null;
}

/** Handles a 200 response that is not labelled `text/event-stream`. */
export function nonStreamedAnswer(
  body: string,
  contentType: string,
  origin: string,
  secrets: readonly string[],
): { value: string; finishReason: string | null } {
  const trimmed = body.trim();
  let json: unknown;
  let isJson = false;
  try {
    json = JSON.parse(trimmed);
    isJson = true;
  } catch {
    // not JSON
  }
  if (isJson) {
    const detail = errorDetail(json, secrets, true);
    if (detail !== null) {
      throw new VoiceAgentError('llm-bad-response', `The language model at ${origin} answered with an error: ${detail}.`);
    }
    // A server that ignored `stream: true` and sent the whole completion: accept it.
    const message = firstChoice(json)?.message as { content?: unknown } | undefined;
    if (typeof message?.content === 'string') {
      const finish = firstChoice(json)?.finish_reason;
      return { value: message.content, finishReason: typeof finish === 'string' ? finish : null };
    }
  } else if (/^(data|event|id|retry)?:/m.test(trimmed)) {
    // An event stream with the wrong content type (some proxies): parse it in one go.
    const parser = new SseParser();
    const events = [...parser.push(body), ...parser.end()];
    let value = '';
    let finishReason: string | null = null;
    for (const event of events) {
      const step = interpretEvent(event, false, origin, secrets);
      if (step.kind === 'done') return { value, finishReason };
      value += step.text;
      finishReason = step.finishReason ?? finishReason;
    }
    if (finishReason !== null) return { value, finishReason };
    throw new VoiceAgentError('llm-cut-off', `The language model's reply from ${origin} was cut off.`);
  }
  const label = contentType.split(';')[0]?.trim() || 'no content type';
  throw new VoiceAgentError(
    'llm-bad-response',
    `The language model at ${origin} did not answer with an event stream (${label}). Is the URL an OpenAI-compatible /chat/completions endpoint?`,
  );
}

export function httpError(response: Response, body: string, origin: string, secrets: readonly string[]): VoiceAgentError {
  const status = response.status;
  let detail: string | null = null;
  try {
    detail = errorDetail(JSON.parse(body), secrets, true);
  } catch {
    // Plain-text bodies are quoted; HTML error pages are not (they are noise).
    if (body.trim() && !/^\s*</.test(body)) detail = tidy(body, secrets);
  }
  const because = detail ? `HTTP ${status}: ${detail}` : `HTTP ${status}`;
  if (status === 401 || status === 403) {
    return new VoiceAgentError(
      'llm-unauthorized',
      `The language model at ${origin} refused the credentials (${because}).`,
      { status, recoverable: false },
    );
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'));
    const wait = retryAfterMs === undefined ? '' : ` Try again in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s.`;
    return new VoiceAgentError(
      'llm-rate-limited',
      `The language model at ${origin} is busy (rate limited, ${because}).${wait}`,
      { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
    );
  }
  if (status >= 500) {
    return new VoiceAgentError('llm-server-error', `The language model server at ${origin} failed (${because}).`, {
      status,
    });
  }
  return new VoiceAgentError(
    'llm-bad-request',
    `The language model at ${origin} rejected the request (${because}). Check the URL and the model name.`,
    { status, recoverable: false },
  );
}

/** Reads a body as text, stopping after `maxChars`. */
export async function readText(response: Response, maxChars: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (text.length >= maxChars) break;
    }
    text += decoder.decode();
  } finally {
    reader.cancel().catch(() => {});
  }
  return text.slice(0, maxChars);
}

/** One line, printable, bounded, secrets removed. */
function tidy(text: string, secrets: readonly string[]): string {
  const clean = redact(text, secrets)
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length > MAX_DETAIL_CHARS ? `${clean.slice(0, MAX_DETAIL_CHARS - 1)}…` : clean;
}

/** Removes every header value we sent (and API-key-looking strings) from server text. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  // Keys that servers echo back partly masked (`sk-abc***xyz`).
  return out.replace(/\b(?:sk|ek|rk|pk)-[A-Za-z0-9_*.\-]{4,}/g, '[redacted]');
}

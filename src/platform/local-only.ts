/**
 * `local-only`: the element may fetch nothing outside the page's origin. Every URL it is
 * about to fetch (model files, the voice, the LLM endpoint, the runtimes) is checked here
 * first; one that leaves the origin fails with `local-only-violation`, naming the
 * attribute that decided it, and is never requested (there is no hub fallback).
 *
 * DOM-free and unit-tested (`local-only.test.ts`).
 */
import { VoiceAgentError } from './errors.ts';

/** Where transformers.js models come from when no `model-base-url` is set. */
export const MODEL_HUB_URL = 'https://huggingface.co/';

/** One URL the element is about to fetch. */
export interface PlannedRequest {
  /** The attribute that decides this URL (`model-base-url`, `llm-url`). */
  readonly attribute: string;
  /** Absolute, or relative to `origin`. */
  readonly url: string;
  /** What would be fetched, in words ("the speech recognizer Xenova/whisper-tiny.en"). */
  readonly what: string;
}

/**
 * Whether fetching `url` stays on `origin`. A `data:` URL is no request; a `blob:` URL
 * carries its creator's origin. A URL that does not parse leaves (it cannot be shown to stay).
 */
export function staysOnOrigin(url: string, origin: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url, origin);
  } catch {
    return false;
  }
  if (parsed.protocol === 'data:') return true;
  return parsed.origin === origin;
}

/** The first of `requests` that would leave `origin`, or null when they all stay. */
export function firstOffOrigin(requests: readonly PlannedRequest[], origin: string): PlannedRequest | null {
  return requests.find((request) => !staysOnOrigin(request.url, origin)) ?? null;
}

/** The `local-only-violation` error for a request that would leave `origin`. */
export function localOnlyViolation(request: PlannedRequest, origin: string): VoiceAgentError {
  return new VoiceAgentError(
    'local-only-violation',
    `local-only is set, so ${request.what} was not fetched from ${request.url}: that is outside this page's origin (${origin}). ` +
      `Serve it from ${origin} and point ${request.attribute} there.`,
  );
}

/**
 * Throws `local-only-violation` for the first request that would leave the page's origin;
 * does nothing when `localOnly` is false. Call it before the fetch (or the worker load that
 * fetches).
 */
export function assertLocalOnly(localOnly: boolean | undefined, requests: readonly PlannedRequest[], origin: string = pageOrigin()): void {
  if (!localOnly) return;
  const offOrigin = firstOffOrigin(requests, origin);
  if (offOrigin) throw localOnlyViolation(offOrigin, origin);
}

/**
 * How a fetch under `local-only` treats redirects: it follows none. A file or endpoint on the
 * origin may redirect elsewhere (a host that sends model files on to a CDN, an LLM route
 * forwarded to a provider), and where a redirect leads cannot be seen before it is followed
 * (a `manual` fetch gets an opaque answer) — following it could send the request, and an
 * LLM request's conversation, off the origin.
 */
export const LOCAL_ONLY_REDIRECT: RequestRedirect = 'manual';

/** `baseFetch` following no redirect ({@link LOCAL_ONLY_REDIRECT}): every fetch the element makes under `local-only`. */
export function fetchFollowingNoRedirect(baseFetch: typeof fetch): typeof fetch {
  return (input, init) => baseFetch(input, { ...init, redirect: LOCAL_ONLY_REDIRECT });
}

/**
 * Whether a fetch made with {@link LOCAL_ONLY_REDIRECT} got a redirect: a browser hands back
 * an opaque redirect; Node's fetch (unit tests) the 3xx answer itself.
 */
export function isRedirect(response: Response): boolean {
  return response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400 && response.headers.has('location'));
}

/** The `local-only-violation` error for `url` (on the origin) that answered with a redirect. */
export function redirectRefused(url: string, what: string): VoiceAgentError {
  return new VoiceAgentError(
    'local-only-violation',
    `local-only is set, so ${what} was not fetched: ${url} answered with a redirect, and under local-only the element follows none ` +
      `(where a redirect leads cannot be seen before it is followed). Serve it at that address itself.`,
  );
}

/** The origin of the document (or of the worker) this code runs in. */
export function pageOrigin(): string {
  return globalThis.location?.origin ?? 'null';
}

/**
 * Every failure the element reports carries one of these codes (in `voice-error`'s
 * `detail.code` and in `VoiceAgentError.code`). Codes are stable API: page code may
 * switch on them. Messages are for people and may change.
 */
export type VoiceErrorCode =
  /** The visitor (or a site setting) blocked microphone access. */
  | 'mic-permission-denied'
  /** The permission prompt was closed without an answer. */
  | 'mic-permission-dismissed'
  /** The host page does not allow the microphone here (Permissions-Policy / iframe `allow`). */
  | 'mic-blocked-by-policy'
  /** No microphone is connected. */
  | 'mic-not-found'
  /** The microphone exists but another app or tab holds it, or the OS refused it. */
  | 'mic-busy'
  /** The requested device / constraints cannot be satisfied. */
  | 'mic-constraints'
  /** The microphone stopped delivering audio (unplugged, revoked, stopped from outside); re-acquired when a device appears or on the next press. */
  | 'mic-ended'
  /** Another `<voice-agent>` on the page took the microphone (one listens at a time); this one stopped listening. */
  | 'mic-taken-over'
  /**
   * The system suspended audio capture (a phone call, another app taking the audio device,
   * a frozen tab): the visitor is not heard until it runs again, by itself or on the next
   * click/tap/key press (`voice-recovered`). The turn under way is kept as far as it was heard.
   */
  | 'mic-interrupted'
  /** This browser or context (insecure http, old browser) has no microphone or AudioWorklet API. */
  | 'audio-unsupported'
  /** The browser's autoplay policy (or the system) keeps the output suspended until the visitor interacts; replies wait and play once it runs. */
  | 'audio-blocked'
  /** A model (or the runtime that runs it) could not be loaded. */
  | 'model-load-failed'
  /**
   * The browser ran out of memory loading a model (its worker is ended, which frees what it
   * held; the cached files are kept). The next turn tries again; a smaller model may fit.
   */
  | 'model-out-of-memory'
  /**
   * A model worker stopped unexpectedly (crashed, or stopped answering). The recognizer's
   * is restarted and its call retried once first: this is a second loss in one call.
   */
  | 'worker-failed'
  /** Speech recognition failed on a turn (the turn is dropped; the next one is tried). */
  | 'transcription-failed'
  /** The GPU path failed (unsupported op, out of memory, device lost); work moved to WASM. */
  | 'gpu-fallback'
  /** The `voice` attribute is not a Piper voice id (`en_US-joe-medium`). */
  | 'voice-invalid'
  /** Speaking failed after the voice had loaded (phonemizer or synthesis error). */
  | 'speech-failed'
  /** Too much text was waiting to be spoken: the rest of the reply is shown, not spoken. */
  | 'speech-queue-full'
  /** The language model refused the credentials (HTTP 401/403), or the page's header/token callback failed. Not retried. */
  | 'llm-unauthorized'
  /** The language model is rate-limited (HTTP 429); `retryAfterMs` holds its `Retry-After` when it sent one. */
  | 'llm-rate-limited'
  /** The language model server failed (HTTP 5xx, or an error object inside the stream). */
  | 'llm-server-error'
  /** The language model refused the request itself (another HTTP 4xx: wrong URL or model name, request too large), or its URL is unusable. */
  | 'llm-bad-request'
  /** The language model could not be reached (offline, DNS, connection refused, CORS rejected). */
  | 'llm-unreachable'
  /** The language model did not answer in time (no response headers, or no first token). */
  | 'llm-timeout'
  /** The reply stopped arriving part-way (no data for longer than the stall timeout). */
  | 'llm-stalled'
  /** The reply stream ended early: the connection closed without `[DONE]` or a `finish_reason`. */
  | 'llm-cut-off'
  /** The answer was not an OpenAI-style event stream (not SSE, not JSON, or a JSON error body). */
  | 'llm-bad-response'
  /** The page's own answer (`voice-turn` `respondWith`) or another responder failed. */
  | 'responder-failed'
  /** `local-only` is set and a URL the element would fetch (a model, the voice, `llm-url`) is outside the page's origin; it was not requested. The message names the attribute and the URL. */
  | 'local-only-violation'
  /**
   * The browser's storage quota is spent: a model file loaded but could not be kept in Cache
   * Storage for the next visit (nothing half-written is left; this visit is unaffected).
   * The message names the file. Free space, or clear the cache (`VoiceAgent.clearModelCache()`).
   */
  | 'storage-full'
  /** Anything we did not anticipate. */
  | 'unknown';

/** The payload of `voice-error`. */
export interface VoiceErrorDetail {
  readonly code: VoiceErrorCode;
  /** A human explanation, safe to show to the visitor. */
  readonly message: string;
  /** True when the element keeps working (e.g. text input) and the action may be retried. */
  readonly recoverable: boolean;
  /** The HTTP status behind the failure, when there was one (`llm-*` codes). */
  readonly status?: number;
  /** How long the server asked us to wait before trying again (`llm-rate-limited` with `Retry-After`). */
  readonly retryAfterMs?: number;
}

/** Options of the `VoiceAgentError` constructor. */
export interface VoiceAgentErrorOptions {
  /** Default true. */
  recoverable?: boolean;
  cause?: unknown;
  status?: number;
  retryAfterMs?: number;
}

/**
 * The one error class the element throws and reports. Static factories keep codes and
 * wording in one place.
 */
export class VoiceAgentError extends Error implements VoiceErrorDetail {
  readonly code: VoiceErrorCode;
  readonly recoverable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(code: VoiceErrorCode, message: string, options: VoiceAgentErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VoiceAgentError';
    this.code = code;
    this.recoverable = options.recoverable ?? true;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  /** The plain payload of `voice-error` (`status` / `retryAfterMs` only when present). */
  toDetail(): VoiceErrorDetail {
    return {
      code: this.code,
      message: this.message,
      recoverable: this.recoverable,
      ...(this.status === undefined ? {} : { status: this.status }),
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
    };
  }

  static modelLoadFailed(what: string, cause: unknown): VoiceAgentError {
    return new VoiceAgentError('model-load-failed', `Could not load ${what}: ${describeCause(cause)}`, { cause });
  }

  static workerFailed(what: string, cause: unknown): VoiceAgentError {
    return new VoiceAgentError('worker-failed', `The ${what} stopped unexpectedly: ${describeCause(cause)}`, {
      cause,
    });
  }

  /** Wraps anything thrown into a VoiceAgentError, keeping one that already is. */
  static from(error: unknown, fallbackCode: VoiceErrorCode = 'unknown'): VoiceAgentError {
    if (error instanceof VoiceAgentError) return error;
    // comlink re-throws worker errors as plain Errors carrying name/message only; the
    // workers put a VoiceErrorCode in `name` so it survives the trip.
    if (error instanceof Error && isVoiceErrorCode(error.name)) {
      return new VoiceAgentError(error.name, error.message, { cause: error });
    }
    return new VoiceAgentError(fallbackCode, describeCause(error), { cause: error });
  }
}

const VOICE_ERROR_CODES: ReadonlySet<string> = new Set<VoiceErrorCode>([
  'mic-permission-denied',
  'mic-permission-dismissed',
  'mic-blocked-by-policy',
  'mic-not-found',
  'mic-busy',
  'mic-constraints',
  'mic-ended',
  'mic-taken-over',
  'mic-interrupted',
  'audio-unsupported',
  'audio-blocked',
  'model-load-failed',
  'model-out-of-memory',
  'worker-failed',
  'transcription-failed',
  'gpu-fallback',
  'voice-invalid',
  'speech-failed',
  'speech-queue-full',
  'llm-unauthorized',
  'llm-rate-limited',
  'llm-server-error',
  'llm-bad-request',
  'llm-unreachable',
  'llm-timeout',
  'llm-stalled',
  'llm-cut-off',
  'llm-bad-response',
  'responder-failed',
  'local-only-violation',
  'storage-full',
  'unknown',
]);

export function isVoiceErrorCode(value: unknown): value is VoiceErrorCode {
  return typeof value === 'string' && VOICE_ERROR_CODES.has(value);
}

export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message || cause.name;
  if (typeof cause === 'string') return cause;
  try {
    return JSON.stringify(cause) ?? String(cause);
  } catch {
    return String(cause);
  }
}

/** What the page knew about the context when getUserMedia failed (for better wording). */
export interface MediaErrorContext {
  /** `window.isSecureContext`. */
  readonly secureContext: boolean;
  /** Whether the document runs inside an iframe. */
  readonly inIframe: boolean;
}

/**
 * Maps a `getUserMedia` rejection to a typed, human-worded error.
 *
 * Chrome reports a blocked permission, a dismissed prompt and a Permissions-Policy
 * refusal all as `NotAllowedError`; only the message tells them apart, so we read it.
 */
export function classifyMediaError(error: unknown, context: MediaErrorContext): VoiceAgentError {
  const name = error instanceof Error || isDomExceptionLike(error) ? (error as { name: string }).name : '';
  const message = error instanceof Error || isDomExceptionLike(error) ? (error as { message: string }).message : '';
  const typeHint = ' You can still type your message below.';
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError': {
      if (/dismiss/i.test(message)) {
        return new VoiceAgentError(
          'mic-permission-dismissed',
          'The microphone prompt was closed. Press the talk button and choose “Allow” to talk.' + typeHint,
          { cause: error },
        );
      }
      if (/policy/i.test(message) || (name === 'SecurityError' && context.inIframe)) {
        return new VoiceAgentError(
          'mic-blocked-by-policy',
          'This page does not allow microphone access here. The site must add allow="microphone" to the frame that contains the assistant.' +
            typeHint,
          { cause: error },
        );
      }
      return new VoiceAgentError(
        'mic-permission-denied',
        'Microphone access is blocked. Allow it in your browser’s site settings (the icon next to the address), then press the talk button again.' +
          typeHint,
        { cause: error },
      );
    }
    case 'NotFoundError':
    case 'DevicesNotFoundError':
      return new VoiceAgentError(
        'mic-not-found',
        'No microphone was found. Connect one and press the talk button again.' + typeHint,
        { cause: error },
      );
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return new VoiceAgentError(
        'mic-busy',
        'The microphone could not be started; another app or tab may be using it. Close it and press the talk button again.' +
          typeHint,
        { cause: error },
      );
    case 'OverconstrainedError':
    case 'ConstraintNotSatisfiedError':
      return new VoiceAgentError(
        'mic-constraints',
        'The selected microphone is not available. Press the talk button to use the default one.' + typeHint,
        { cause: error },
      );
    case 'TypeError':
      if (!context.secureContext) {
        return new VoiceAgentError(
          'audio-unsupported',
          'The microphone is only available on secure (https) pages.' + typeHint,
          { cause: error },
        );
      }
      break;
  }
  return new VoiceAgentError(
    'unknown',
    `The microphone could not be opened (${describeCause(error) || name || 'unknown error'}).` + typeHint,
    { cause: error },
  );
}

function isDomExceptionLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'name' in value && 'message' in value;
}

/** Thrown by the microphone's `open()` when `close()` was called before it finished: not a failure. */
export class MicOpenCancelled extends Error {
  constructor() {
    super('The microphone was closed while it was opening.');
    this.name = 'MicOpenCancelled';
  }
}

import { describe, expect, it } from 'vitest';
import { VoiceAgentError, classifyMediaError, isVoiceErrorCode } from './errors.ts';

const secure = { secureContext: true, inIframe: false };
const domError = (name: string, message = '') => Object.assign(new Error(message), { name });

describe('classifyMediaError', () => {
  it.each([
    ['NotAllowedError', 'Permission denied', secure, 'mic-permission-denied'],
    ['NotAllowedError', 'Permission dismissed', secure, 'mic-permission-dismissed'],
    ['NotAllowedError', 'Permission denied by permissions policy', secure, 'mic-blocked-by-policy'],
    ['SecurityError', '', { secureContext: true, inIframe: true }, 'mic-blocked-by-policy'],
    ['NotFoundError', 'Requested device not found', secure, 'mic-not-found'],
    ['NotReadableError', 'Could not start audio source', secure, 'mic-busy'],
    ['OverconstrainedError', '', secure, 'mic-constraints'],
    ['TypeError', "Cannot read properties of undefined (reading 'getUserMedia')", { secureContext: false, inIframe: false }, 'audio-unsupported'],
    ['WeirdError', 'something', secure, 'unknown'],
  ] as const)('%s "%s" → %s', (name, message, context, code) => {
    const error = classifyMediaError(domError(name, message), context);
    expect(error).toBeInstanceOf(VoiceAgentError);
    expect(error.code).toBe(code);
    expect(error.recoverable).toBe(true);
    // Every microphone failure tells the visitor that typing still works.
    expect(error.message).toContain('type your message');
  });

  it('keeps the original error as the cause', () => {
    const original = domError('NotFoundError');
    expect(classifyMediaError(original, secure).cause).toBe(original);
  });
});

describe('VoiceAgentError.from', () => {
  it('keeps a VoiceAgentError as is', () => {
    const error = new VoiceAgentError('mic-ended', 'gone');
    expect(VoiceAgentError.from(error)).toBe(error);
  });

  it('recovers the code a worker put in error.name (comlink keeps only name and message)', () => {
    const fromWorker = domError('model-load-failed', 'HTTP 404 for silero_vad_v5.onnx');
    const error = VoiceAgentError.from(fromWorker);
    expect(error.code).toBe('model-load-failed');
    expect(error.message).toBe('HTTP 404 for silero_vad_v5.onnx');
  });

  it('wraps anything else with the fallback code and a readable message', () => {
    expect(VoiceAgentError.from('boom', 'worker-failed').toDetail()).toEqual({
      code: 'worker-failed',
      message: 'boom',
      recoverable: true,
    });
    expect(VoiceAgentError.from({ reason: 1 }).message).toBe('{"reason":1}');
  });

  it('recognises only known codes', () => {
    expect(isVoiceErrorCode('mic-busy')).toBe(true);
    expect(isVoiceErrorCode('TypeError')).toBe(false);
  });

  it.each([
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
  ])('knows the answering code %s (so it survives a trip through a worker)', (code) => {
    expect(isVoiceErrorCode(code)).toBe(true);
    expect(VoiceAgentError.from(domError(code, 'x')).code).toBe(code);
  });
});

describe('VoiceAgentError details', () => {
  it('carries status and retryAfterMs into the voice-error detail only when present', () => {
    expect(new VoiceAgentError('llm-rate-limited', 'busy', { status: 429, retryAfterMs: 2000 }).toDetail()).toEqual({
      code: 'llm-rate-limited',
      message: 'busy',
      recoverable: true,
      status: 429,
      retryAfterMs: 2000,
    });
    const plain = new VoiceAgentError('llm-timeout', 'slow');
    expect(plain.toDetail()).toEqual({ code: 'llm-timeout', message: 'slow', recoverable: true });
    expect('status' in plain).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { VoiceAgentError } from './errors.ts';
import { MODEL_HUB_URL, assertLocalOnly, firstOffOrigin, staysOnOrigin } from './local-only.ts';

const ORIGIN = 'http://127.0.0.1:4173';

describe('staysOnOrigin', () => {
  it('keeps same-origin and relative URLs', () => {
    expect(staysOnOrigin('http://127.0.0.1:4173/models/x.onnx', ORIGIN)).toBe(true);
    expect(staysOnOrigin('/models/x.onnx', ORIGIN)).toBe(true);
    expect(staysOnOrigin('models/x.onnx', ORIGIN)).toBe(true);
  });

  it('rejects another port, host or scheme of the same host', () => {
    expect(staysOnOrigin('http://127.0.0.1:4174/v1', ORIGIN)).toBe(false);
    expect(staysOnOrigin('http://localhost:4173/v1', ORIGIN)).toBe(false);
    expect(staysOnOrigin('https://127.0.0.1:4173/v1', ORIGIN)).toBe(false);
    expect(staysOnOrigin(MODEL_HUB_URL, ORIGIN)).toBe(false);
    expect(staysOnOrigin('//cdn.example/x.wasm', ORIGIN)).toBe(false);
  });

  it('treats data: as no request and blob: by its creator', () => {
    expect(staysOnOrigin('data:application/wasm;base64,AA==', ORIGIN)).toBe(true);
    expect(staysOnOrigin(`blob:${ORIGIN}/0b5e`, ORIGIN)).toBe(true);
    expect(staysOnOrigin('blob:https://evil.example/0b5e', ORIGIN)).toBe(false);
  });

  it('rejects what does not parse', () => {
    expect(staysOnOrigin('http://[bad', ORIGIN)).toBe(false);
  });
});

describe('assertLocalOnly', () => {
  const local = { attribute: 'model-base-url', url: '/models/a.onnx', what: 'the voice' };
  const remote = { attribute: 'llm-url', url: 'http://127.0.0.1:9/v1/chat/completions', what: 'the language model' };

  it('finds the first request that leaves', () => {
    expect(firstOffOrigin([local, remote], ORIGIN)).toBe(remote);
    expect(firstOffOrigin([local], ORIGIN)).toBeNull();
  });

  it('throws local-only-violation naming the attribute and the URL', () => {
    let thrown: unknown;
    try {
      assertLocalOnly(true, [local, remote], ORIGIN);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(VoiceAgentError);
    const error = thrown as VoiceAgentError;
    expect(error.code).toBe('local-only-violation');
    expect(error.message).toContain('llm-url');
    expect(error.message).toContain(remote.url);
    expect(error.message).toContain(ORIGIN);
  });

  it('allows anything when local-only is off, and same-origin requests when on', () => {
    expect(() => assertLocalOnly(false, [remote], ORIGIN)).not.toThrow();
    expect(() => assertLocalOnly(true, [local], ORIGIN)).not.toThrow();
  });
});

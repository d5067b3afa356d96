import { describe, expect, it } from 'vitest';
import { VoiceAgentError } from '../platform/errors.ts';
import { LocalLlmResponder, type LocalLlmBackend } from './local-llm-responder.ts';
import type { LlmGenerateRequest, LlmGenerateResult } from '../platform/protocol.ts';
import { collectReply, isAbortError, type ChatMessage } from './responder.ts';

const MESSAGES: ChatMessage[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hello' },
];

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

/**
 * A fake of the LLM worker's API (no worker, no model): `generate` sends `words` one per
 * timer tick, like the worker's streamer does across the comlink boundary, and honours
 * `stop(id)` after the word in progress.
 */
class FakeLlmWorker implements LocalLlmBackend {
  loads = 0;
  readonly requests: LlmGenerateRequest[] = [];
  readonly stops: number[] = [];
  /** Words sent to `onText` so far (all generations). */
  sent = 0;
  loadError: Error | null = null;
  generateError: Error | null = null;

  constructor(private readonly words: readonly string[]) {}

  async load(): Promise<void> {
    this.loads++;
    await tick();
    if (this.loadError) throw this.loadError;
  }

  async generate(request: LlmGenerateRequest, onText: (text: string) => void): Promise<LlmGenerateResult> {
    this.requests.push(request);
    let tokens = 0;
    for (const word of this.words.slice(0, request.maxNewTokens)) {
      await tick();
      if (this.stops.includes(request.id)) break;
      onText(word);
      this.sent++;
      tokens++;
    }
    await tick();
    if (this.generateError) throw this.generateError;
    const stopped = this.stops.includes(request.id);
    return {
      prompt: '',
      promptTokens: 0,
      droppedMessages: 0,
      tokens,
      stoppedBy: stopped ? 'stopped' : tokens < this.words.length ? 'max-tokens' : 'eos',
      generateMs: 0,
      finishedAt: 0,
    };
  }

  async stop(id: number): Promise<void> {
    this.stops.push(id);
  }
}

function responder(worker: FakeLlmWorker, maxNewTokens = 64, results: LlmGenerateResult[] = []) {
  return new LocalLlmResponder(worker, {
    maxNewTokens: () => maxNewTokens,
    onGeneration: (_turnId, result) => results.push(result),
  });
}

describe('LocalLlmResponder', () => {
  it('streams the worker’s text in order, as it arrives, and ends when the generation ends', async () => {
    const worker = new FakeLlmWorker(['Hello', ' there,', ' how', ' are', ' you?']);
    const results: LlmGenerateResult[] = [];
    const seenBeforeNext: number[] = [];
    for await (const _delta of responder(worker, 64, results).respond({
      messages: MESSAGES,
      signal: new AbortController().signal,
      turnId: 1,
    })) {
      seenBeforeNext.push(worker.sent);
    }
    // Each delta was yielded before the fake had sent all words: streaming, not buffering.
    expect(seenBeforeNext[0]).toBeLessThan(5);
    expect(worker.requests).toEqual([{ id: 1, messages: MESSAGES, maxNewTokens: 64 }]);
    expect(results.map((r) => r.stoppedBy)).toEqual(['eos']);
    expect(worker.stops).toEqual([]);
  });

  it('yields exactly the text sent, in order', async () => {
    const worker = new FakeLlmWorker(['One', ' two', ' three.']);
    const text = await collectReply(responder(worker).respond({ messages: MESSAGES, signal: new AbortController().signal, turnId: 1 }));
    expect(text).toBe('One two three.');
  });

  it('passes the token limit and loads the model once per responder call', async () => {
    const worker = new FakeLlmWorker(['a', 'b', 'c', 'd']);
    const r = responder(worker, 2);
    expect(await collectReply(r.respond({ messages: MESSAGES, signal: new AbortController().signal, turnId: 1 }))).toBe('ab');
    expect(await collectReply(r.respond({ messages: MESSAGES, signal: new AbortController().signal, turnId: 2 }))).toBe('ab');
    expect(worker.requests.map((q) => [q.id, q.maxNewTokens])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(worker.loads).toBe(2); // the backend caches the model; the responder asks each time
  });

  it('an abort mid-reply throws an AbortError at once and tells the worker to stop', async () => {
    const worker = new FakeLlmWorker(Array.from({ length: 100 }, (_, i) => ` w${i}`));
    const abort = new AbortController();
    const got: string[] = [];
    let caught: unknown;
    try {
      for await (const delta of responder(worker).respond({ messages: MESSAGES, signal: abort.signal, turnId: 7 })) {
        got.push(delta);
        if (got.length === 3) abort.abort(new Error('barge-in'));
      }
    } catch (error) {
      caught = error;
    }
    expect(isAbortError(caught)).toBe(true);
    expect(got).toHaveLength(3);
    expect(worker.stops).toEqual([1]);
    // The fake worker honours stop: far fewer than the 64 allowed words were generated.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(worker.sent).toBeLessThan(10);
  });

  it('an abort while the model loads throws an AbortError and generates nothing', async () => {
    const worker = new FakeLlmWorker(['never']);
    const abort = new AbortController();
    const stream = responder(worker).respond({ messages: MESSAGES, signal: abort.signal, turnId: 1 });
    const pending = collectReply(stream);
    abort.abort();
    await expect(pending).rejects.toSatisfy(isAbortError);
    expect(worker.requests).toEqual([]);
  });

  it('leaving the loop early stops the generation', async () => {
    const worker = new FakeLlmWorker(['a', 'b', 'c', 'd', 'e', 'f']);
    for await (const delta of responder(worker).respond({ messages: MESSAGES, signal: new AbortController().signal, turnId: 1 })) {
      if (delta === 'b') break;
    }
    expect(worker.stops).toEqual([1]);
  });

  it('a failed load is model-load-failed, with the worker’s message (naming the file)', async () => {
    const worker = new FakeLlmWorker(['x']);
    const error = new Error('Could not load the language model m (wasm, q8), file model_quantized.onnx: 404');
    error.name = 'model-load-failed'; // as comlink delivers the worker's namedError
    worker.loadError = error;
    const failure = await collectReply(
      responder(worker).respond({ messages: MESSAGES, signal: new AbortController().signal, turnId: 1 }),
    ).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(VoiceAgentError);
    expect(failure).toMatchObject({ code: 'model-load-failed', message: expect.stringContaining('model_quantized.onnx') });
  });

  it('a load failure without a code is still model-load-failed', async () => {
    const worker = new FakeLlmWorker(['x']);
    worker.loadError = new Error('out of memory');
    const failure = await collectReply(
      responder(worker).respond({ messages: MESSAGES, signal: new AbortController().signal, turnId: 1 }),
    ).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'model-load-failed' });
  });

  it('a generation failure is responder-failed, after the text that came first', async () => {
    const worker = new FakeLlmWorker(['partial']);
    worker.generateError = new Error('onnxruntime: invalid input');
    const got: string[] = [];
    const failure = await (async () => {
      for await (const delta of responder(worker).respond({ messages: MESSAGES, signal: new AbortController().signal, turnId: 1 })) {
        got.push(delta);
      }
    })().catch((e: unknown) => e);
    expect(got).toEqual(['partial']);
    expect(failure).toMatchObject({ code: 'responder-failed', message: expect.stringContaining('invalid input') });
  });
});

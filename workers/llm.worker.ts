/**
 * Local LLM worker: a chat model through transformers.js (`text-generation`), on WebGPU or
 * WASM. One model per worker; the controller terminates the worker to change model.
 *
 * The chat template is applied here (`apply_chat_template` with `add_generation_prompt`),
 * so the prompt the model sees can be reported as is. Text streams to the main thread as
 * whole words form (`TextStreamer`, prompt and special tokens skipped). `stop(id)` flips an
 * `InterruptableStoppingCriteria`: generation ends after the token being computed.
 * Generations run one at a time, in call order.
 */
import * as Comlink from 'comlink';
import { InterruptableStoppingCriteria, TextStreamer, type TextGenerationPipeline } from '@huggingface/transformers';
import type { ChatMessage } from '../src/answering/responder.ts';
import type { LlmGenerateRequest, LlmGenerateResult, LlmLoadConfig, LlmWorkerApi } from '../src/platform/protocol.ts';
import { PipelineSlot } from './transformers-env.ts';
import { SerialQueue, namedError } from './worker-utils.ts';
import { withoutSpecialTokens } from './special-tokens.ts';

/** Used when the model's config does not say how long its context is. */
const DEFAULT_CONTEXT_TOKENS = 2048;

const slot = new PipelineSlot<TextGenerationPipeline, LlmLoadConfig>(
  'text-generation',
  (config) => `the language model ${config.model} (${config.device}, ${config.dtype})`,
  (generator) => {
    yieldBetweenTokens(generator);
    return generator('Hi', { max_new_tokens: 1, add_special_tokens: false } as never);
  },
);
const queue = new SerialQueue();
/** The generation running now, the newest id started, and the ids stopped before they started. */
let running: { id: number; criteria: InterruptableStoppingCriteria } | null = null;
let lastStarted = 0;
const stoppedEarly = new Set<number>();

/**
 * Lets queued messages (`stop(id)` above all) run between tokens. Without a task boundary
 * in the token loop, a `stop` sent mid-generation was read only after the last token
 * (seen on WASM in Chromium: each step's `await` settles through microtasks alone). A
 * MessageChannel round trip is a task boundary that costs microseconds (a timer would be
 * clamped to 4 ms).
 */
function yieldBetweenTokens(pipe: TextGenerationPipeline): void {
  const channel = new MessageChannel();
  const waiting: (() => void)[] = [];
  channel.port1.onmessage = () => waiting.shift()?.();
  const model = pipe.model as unknown as { forward(inputs: unknown): Promise<unknown> };
  const forward = model.forward.bind(model);
  model.forward = async (inputs) => {
    await new Promise<void>((resolve) => {
      waiting.push(resolve);
      channel.port2.postMessage(null);
    });
    return forward(inputs);
  };
}

/** The model's context length in tokens (config `max_position_embeddings`). */
function contextTokens(pipe: TextGenerationPipeline): number {
  const config = pipe.model.config as unknown as { max_position_embeddings?: number };
  return config.max_position_embeddings ?? DEFAULT_CONTEXT_TOKENS;
}

/**
 * The chat template applied to `messages`. The visitor's turns and the model's earlier
 * replies are untrusted: the model's control tokens are taken out of them (see
 * {@link withoutSpecialTokens}); the page author's system prompt is used as given.
 */
function chatPrompt(pipe: TextGenerationPipeline, messages: readonly ChatMessage[]): string {
  const special = pipe.tokenizer.all_special_tokens ?? [];
  const content = (m: ChatMessage) => (m.role === 'system' ? m.content : withoutSpecialTokens(m.content, special));
  return pipe.tokenizer.apply_chat_template(messages.map((m) => ({ role: m.role, content: content(m) })), {
    tokenize: false,
    add_generation_prompt: true,
  }) as string;
}

function countTokens(pipe: TextGenerationPipeline, text: string): number {
  return pipe.tokenizer.encode(text, { add_special_tokens: false }).length;
}

/**
 * The prompt for `messages`, leaving out the oldest turns (never the system message or
 * the last message) until prompt + reply fit the model's context.
 */
function fittedPrompt(
  pipe: TextGenerationPipeline,
  messages: readonly ChatMessage[],
  maxNewTokens: number,
): { prompt: string; promptTokens: number; droppedMessages: number } {
  const budget = contextTokens(pipe) - maxNewTokens;
  const system = messages[0]?.role === 'system' ? [messages[0]] : [];
  let rest = messages.slice(system.length);
  let dropped = 0;
  for (;;) {
    const prompt = chatPrompt(pipe, [...system, ...rest]);
    const promptTokens = countTokens(pipe, prompt);
    if (promptTokens <= budget || rest.length <= 1) return { prompt, promptTokens, droppedMessages: dropped };
    // Drop a whole exchange so roles keep alternating user, assistant, user, …
    const cut = rest.length >= 3 ? 2 : 1;
    rest = rest.slice(cut);
    dropped += cut;
  }
}

async function generate(request: LlmGenerateRequest, onText: (text: string) => void): Promise<LlmGenerateResult> {
  const { pipe, config } = slot;
  if (!pipe || !config) throw namedError('model-load-failed', 'The language model is not loaded.');
  const started = performance.now();
  const { prompt, promptTokens, droppedMessages } = fittedPrompt(pipe, request.messages, request.maxNewTokens);
  const result = (stoppedBy: LlmGenerateResult['stoppedBy'], tokens: number): LlmGenerateResult => ({
    prompt,
    promptTokens,
    droppedMessages,
    tokens,
    stoppedBy,
    generateMs: performance.now() - started,
    finishedAt: performance.timeOrigin + performance.now(),
  });
  lastStarted = Math.max(lastStarted, request.id);
  if (stoppedEarly.delete(request.id)) return result('stopped', 0);

  const criteria = new InterruptableStoppingCriteria();
  running = { id: request.id, criteria };
  let tokens = 0;
  let lastToken = -1n;
  const streamer = new TextStreamer(pipe.tokenizer, {
    skip_prompt: true,
    skip_special_tokens: true,
    callback_function: (text: string) => {
      if (text) void Promise.resolve(onText(text)).catch(() => {});
    },
    token_callback_function: (ids: bigint[]) => {
      tokens += ids.length;
      lastToken = ids.at(-1) ?? lastToken;
    },
  });
  try {
    await pipe(prompt, {
      // The template already added `<|im_start|>` and friends: no BOS on top.
      add_special_tokens: false,
      return_full_text: false,
      max_new_tokens: request.maxNewTokens,
      do_sample: false,
      streamer,
      stopping_criteria: [criteria],
    } as never);
  } catch (error) {
    throw namedError('responder-failed', `The on-device language model failed (${config.device}): ${String(error)}`);
  } finally {
    running = null;
  }
  const eos = ([] as unknown[]).concat(pipe.model.generation_config?.eos_token_id ?? []).map((id) => BigInt(id as number));
  const stoppedBy = criteria.interrupted ? 'stopped' : eos.includes(lastToken) ? 'eos' : 'max-tokens';
  return result(stoppedBy, tokens);
}

const api: LlmWorkerApi = {
  load(config, onProgress) {
    return slot.load(config, onProgress);
  },

  generate(request, onText) {
    return queue.run(() => generate(request, onText));
  },

  async stop(id) {
    if (running?.id === id) running.criteria.interrupt();
    else if (id > lastStarted) stoppedEarly.add(id); // queued: skip it when its turn comes
  },

  async dispose() {
    running?.criteria.interrupt();
    await queue.idle();
    await slot.dispose();
  },
};

Comlink.expose(api);

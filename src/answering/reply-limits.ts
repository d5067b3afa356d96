/**
 * How long a reply may be. Every responder that counts tokens is capped by `max-tokens`:
 * `llm-url` gets it as `max_tokens` in every request, and `local-llm` generates at most
 * the smaller of `max-tokens` and `local-llm-max-tokens` (kept: a model on the visitor's
 * CPU is slow, so it has its own, lower default). Page code (`respondWith`) counts no
 * tokens; its replies, like every other, are bounded by the speech queue's cap
 * (`src/speaking/speech-queue.ts`).
 */
import type { NumberOptionSpec } from '../platform/options.ts';

/** The longest reply, in tokens, unless `max-tokens` says otherwise (~1 500–2 000 characters of speech). */
export const DEFAULT_MAX_TOKENS = 512;

export const MAX_TOKENS: NumberOptionSpec = {
  attribute: 'max-tokens',
  min: 1,
  max: 32_768,
  defaultValue: DEFAULT_MAX_TOKENS,
};

/** The `local-llm` limit: `local-llm-max-tokens`, never above `max-tokens`. */
export function localMaxNewTokens(maxTokens: number, localMaxTokens: number): number {
  return Math.min(maxTokens, localMaxTokens);
}

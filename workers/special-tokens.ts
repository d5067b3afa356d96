/**
 * What the visitor says or types is untrusted text, and a chat template renders it into
 * the same string as the control tokens that mark whose turn is whose. The tokenizer then
 * turns any `<|im_end|>` or `<|im_start|>system` inside that text into the real control
 * tokens: a typed (or pasted) turn could close its own message and open a system one
 * (prompt injection). Taking the model's special tokens out of untrusted content first
 * leaves the role boundaries to the template alone.
 */
export function withoutSpecialTokens(text: string, specialTokens: readonly string[]): string {
  let cleaned = text;
  // Longest first, so a token that contains another is removed whole. Repeated until
  // nothing changes: removing one must not join the halves of another ("<|im_<|x|>end|>").
  const tokens = [...new Set(specialTokens.filter((token) => token.length > 0))].sort((a, b) => b.length - a.length);
  for (let before = ''; before !== cleaned; ) {
    before = cleaned;
    for (const token of tokens) cleaned = cleaned.split(token).join('');
  }
  return cleaned;
}

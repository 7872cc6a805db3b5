// Token accounting: what a response reports in `usage`.
import type { Usage } from '../types.js';

/** `cachedTokens`: prompt tokens served from the prefix cache, told only while prefix caching is on. */
export function usage(promptTokens: number, completionTokens: number, reasoningTokens: number, cachedTokens?: number): Usage {
  const u: Usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    completion_tokens_details: { reasoning_tokens: reasoningTokens },
  };
  if (cachedTokens !== undefined) u.prompt_tokens_details = { cached_tokens: cachedTokens };
  return u;
}

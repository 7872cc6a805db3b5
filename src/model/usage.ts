// Token accounting: what a response reports in `usage`.
import type { Usage } from '../types.js';

export function usage(promptTokens: number, completionTokens: number, reasoningTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    completion_tokens_details: { reasoning_tokens: reasoningTokens },
  };
}

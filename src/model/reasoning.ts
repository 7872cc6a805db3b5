// How many reasoning tokens precede an answer's content: one rule for every API that reasons (chat's
// `reasoning_effort`, Responses' `reasoning.effort`).
import type { ReasoningEffort, Settings } from '../types.js';

/** Model families that reason by default when reasoning_by_model is on (the later AIPerf mock's rule). */
const REASONING_FAMILY = /gpt-oss|qwen3|deepseek-r1/i;

export function reasoningTokens(effort: ReasoningEffort | undefined, s: Readonly<Settings>, model: string): number {
  switch (effort) {
    case 'none':
      return 0;
    case 'minimal':
    case 'low':
      return s.reasoning_tokens_low;
    case 'medium':
      return s.reasoning_tokens_medium;
    case 'high':
    case 'xhigh':
    case 'max':
      return s.reasoning_tokens_high;
    default:
      return s.reasoning_by_model && s.reasoning_tokens === 0 && REASONING_FAMILY.test(model) ? s.reasoning_tokens_medium : s.reasoning_tokens;
  }
}

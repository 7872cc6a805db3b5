// From the prompt's tokens to the output plan: how many tokens, which ones, and why the output stops.
// The plan is arithmetic over the prompt's ids; nothing is materialized per token.
import type { FinishReason } from '../types.js';
import type { LoadedTokenizer } from './tokenizers.js';

export interface PlanRequest {
  /** The echo: the prompt's token ids. */
  echo: readonly number[];
  /** max_completion_tokens, else max_tokens. */
  cap: number | undefined;
  ignoreEos: boolean;
  minTokens: number;
  reasoningTokens: number;
}

export interface OutputPlan {
  /** Token ids repeated in order when the output is longer than the echo. */
  readonly source: readonly number[];
  /** Reasoning tokens, sent first. */
  readonly reasoning: number;
  /** Content tokens, after the reasoning. */
  readonly content: number;
  readonly finishReason: FinishReason;
}

export function totalTokens(plan: OutputPlan): number {
  return plan.reasoning + plan.content;
}

/**
 * Token k of the output (k from 0). Reasoning cycles the source from its start; content starts the echo
 * afresh after the reasoning, so the visible answer is still the prompt.
 */
export function tokenAt(plan: OutputPlan, k: number): number {
  const src = plan.source;
  const i = k < plan.reasoning ? k : k - plan.reasoning;
  return src[i % src.length]!;
}

export function plan(req: PlanRequest, fallbackSource: () => readonly number[]): OutputPlan {
  const natural = req.reasoningTokens + req.echo.length;
  let total = Math.max(natural, req.minTokens);
  let finishReason: FinishReason = 'stop';
  if (req.cap !== undefined) {
    if (req.ignoreEos) total = req.cap;
    if (total >= req.cap) {
      // The cap ended the output unless the echo ended on the cap exactly by itself.
      if (req.ignoreEos || total > req.cap) finishReason = 'length';
      total = req.cap;
    }
  }
  const reasoning = Math.min(req.reasoningTokens, total);
  const needsCycling = total > req.echo.length || reasoning > 0;
  const source = req.echo.length > 0 || !needsCycling || total === 0 ? req.echo : fallbackSource();
  return { source, reasoning, content: total - reasoning, finishReason };
}

/** A fixed passage to repeat when a length is asked of an empty prompt. */
const PASSAGE =
  'The quick brown fox jumps over the lazy dog. Benchmarks measure what they are given; ' +
  'a steady mock gives them a steady answer, one token after another, on time.';

const passageIds = new WeakMap<LoadedTokenizer, readonly number[]>();

export function passageFor(tokenizer: LoadedTokenizer): readonly number[] {
  let ids = passageIds.get(tokenizer);
  if (!ids) {
    ids = tokenizer.encode(PASSAGE);
    passageIds.set(tokenizer, ids);
  }
  return ids;
}

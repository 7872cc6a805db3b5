// How much one request may ask for. The mock has no context window, but a request for 1e308 tokens, for a
// whole answer larger than memory, or for millions of choices must be refused at once with a 400 (as vLLM
// refuses max_tokens past its context), never fail half-way with a 500 or take the process down.
import { totalTokens, type OutputPlan } from './generation.js';

/** Choices in one answer: prompts × n. */
export const MAX_CHOICES = 2048;
/** Tokens of a streamed answer over all its choices (a stream is paced and bounded in memory; only time grows). */
export const MAX_STREAM_TOKENS = 2 ** 24;
/** Tokens of a non-streaming answer over all its choices: the whole body is built in memory. */
export const MAX_WHOLE_TOKENS = 2 ** 20;
/**
 * Bytes of text that one answer builds at once: the whole body, or a stream's echoed prompts (they go out in
 * its first frames). Escaped as JSON this stays far below V8's largest string.
 */
export const MAX_TEXT_BYTES = 32 * 2 ** 20;

export function outputTokens(plans: readonly OutputPlan[]): number {
  let n = 0;
  for (const p of plans) n += totalTokens(p);
  return n;
}

/**
 * An upper bound of the UTF-8 bytes of the plans' text (reasoning counted twice: it may fill two fields).
 * Output cycles through its source, so it is at most as many whole passes over the source as it needs, plus
 * the gap tokens that stand in for a field's last few. A field that ends within one pass reads only the
 * source's first tokens, so only as many as the longer field are summed (a 16 MiB prompt answered with a
 * few tokens costs a few lookups, not 4 million), once per distinct plan (the n choices of a prompt share one).
 */
export function textBytesBound(plans: readonly OutputPlan[], bytesOf: (id: number) => number): number {
  const sourceBytes = new Map<OutputPlan, number>();
  let bound = 0;
  for (const p of plans) {
    const n = p.source.length;
    if (n === 0) continue;
    let bytes = sourceBytes.get(p);
    if (bytes === undefined) {
      bytes = 0;
      const span = Math.min(n, Math.max(p.reasoning, p.content));
      for (let i = 0; i < span; i++) bytes += bytesOf(p.source[i]!);
      sourceBytes.set(p, bytes);
    }
    const gaps = 2 * (p.reasoning - p.reasoningGapAt) + (p.content - p.contentGapAt);
    bound += (2 * Math.ceil(p.reasoning / n) + Math.ceil(p.content / n)) * bytes + (gaps > 0 ? gaps * bytesOf(p.gap) : 0);
    if (bound > MAX_TEXT_BYTES) return bound;
  }
  return bound;
}

// The simulated model's log-probabilities: for each position of a sequence, how sure the model was of the
// token it chose, and which other tokens of the vocabulary came next. The mock "samples greedily": the chosen
// token is always the most likely one, so it heads the top list and every alternative is less likely.
//
// Values are a pure function of a request key (its seed, else its prompt) and the position, never of a
// global random state, so the same request gets the same numbers. At position `p`, with `u` and `v_j` uniform
// in [0, 1) drawn from a hash of (key, p) (and j):
//   chosen:         P = 1 - max(0.65 u⁴, 10⁻⁶)          (most positions near-certain, a few down to 0.35)
//   alternative j:  P_j = (1 - P) · 2^-j · (0.6 + 0.4 v_j)   for j = 1, 2, …
// logprob = ln P. The alternatives share the chosen token's leftover mass, so the listed probabilities sum
// to less than 1; P_{j+1} < 2^-(j+1) ≤ 0.6 · 2^-j ≤ P_j keeps them strictly descending, and
// P_1 < 0.65 · 0.5 < 0.35 ≤ P keeps the chosen token first. Every value is finite and below 0.
//
// Alternatives are ordinary vocabulary tokens (not added/special ones) whose bytes are whole characters,
// drawn by hash, distinct by text from each other and from the chosen token (the legacy completions API keys
// them by text).
import type { TokenPieces } from './detokenizer.js';

export interface RankedToken {
  readonly id: number;
  readonly logprob: number;
}

export interface PositionLogprobs {
  /** The chosen token's log-probability. */
  readonly logprob: number;
  /** The `count` most likely tokens, the chosen one first. */
  readonly top: readonly RankedToken[];
}

/** The most alternatives any API asks for (chat's top_logprobs ≤ 20). */
export const MAX_TOP = 20;
/** Candidates drawn per position before giving up on filling the list (an odd vocabulary). */
const MAX_DRAWS = 8 * MAX_TOP;
/** The least mass left to the alternatives: keeps their ln finite and the chosen token's below 0. */
const MIN_REST = 1e-6;

/** A 32-bit mix (murmur3's finalizer) of two words. */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ Math.imul(b + 0x9e3779b9, 0x85ebca6b), 0xcc9e2d51);
  h ^= h >>> 15;
  h = Math.imul(h, 0x1b873593);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const unit = (h: number): number => h / 4294967296;

/**
 * The key of a request's values: its seed when it gives one, else a hash of its prompt's ids (the same
 * prompt gets the same values).
 */
export function logprobKey(seed: number | null | undefined, prompt: readonly number[]): number {
  if (seed !== null && seed !== undefined) return mix(0x5eed, seed >>> 0 ^ Math.floor(seed / 4294967296));
  let h = mix(0x9a0b, prompt.length);
  for (const id of prompt) h = mix(h, id);
  return h;
}

/** Per vocabulary: the ids an alternative may be (below the first id it lacks), found once. */
const spans = new WeakMap<TokenPieces, number>();

function vocabularySpan(pieces: TokenPieces): number {
  let span = spans.get(pieces);
  if (span === undefined) {
    // The vocabulary's ids are dense from 0: find its end by doubling, then bisecting.
    let hi = 1;
    while (pieces.has(hi) && hi < 1 << 24) hi *= 2;
    let lo = hi >>> 1;
    while (lo + 1 < hi) {
      const mid = (lo + hi) >>> 1;
      if (pieces.has(mid)) lo = mid;
      else hi = mid;
    }
    span = lo + 1;
    spans.set(pieces, span);
  }
  return span;
}

/**
 * A token's text decoded alone, as vLLM and OpenAI show it in logprobs: bytes that hold only part of a
 * character decode to U+FFFD.
 */
export function tokenText(pieces: TokenPieces, id: number): string {
  const whole = pieces.text(id);
  if (whole !== null) return whole;
  const b = pieces.bytes(id);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}

/** Characters as Python counts them (code points), for text offsets: a surrogate pair is one. */
export function codePoints(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) if ((text.charCodeAt(i) & 0xfc00) === 0xdc00) n--;
  return n;
}

/** Special tokens look like `<|im_start|>`, `<think>` or `<s>`: never offered as an alternative. */
const SPECIAL = /^<[^<>\s]*>$/;

export class LogprobModel {
  readonly #span: number;

  constructor(
    private readonly pieces: TokenPieces,
    private readonly key: number,
  ) {
    this.#span = vocabularySpan(pieces);
  }

  /** The log-probabilities at `position`, where `id` was chosen, with the `count` most likely tokens. */
  at(position: number, id: number, count: number): PositionLogprobs {
    const h = mix(this.key, position);
    const rest = Math.max(0.65 * unit(h) ** 4, MIN_REST);
    const logprob = Math.log(1 - rest);
    if (count <= 0) return { logprob, top: [] };
    const top: RankedToken[] = [{ id, logprob }];
    // The chosen token as the wire shows it (U+FFFD for part of a character): no alternative may share it.
    const chosen = tokenText(this.pieces, id);
    const seen = new Set<string>([chosen]);
    for (let draw = 0; top.length < Math.min(count, MAX_TOP + 1) && draw < MAX_DRAWS; draw++) {
      const candidate = mix(h, 0x10000 + draw) % this.#span;
      if (candidate === id || !this.pieces.has(candidate)) continue;
      const text = this.pieces.text(candidate);
      if (text === null || text === '' || seen.has(text) || SPECIAL.test(text)) continue;
      seen.add(text);
      const j = top.length;
      top.push({ id: candidate, logprob: Math.log(rest * 2 ** -j * (0.6 + 0.4 * unit(mix(h, j)))) });
    }
    return { logprob, top };
  }
}

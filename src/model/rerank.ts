// Relevance of passages to a query, as the three ranking APIs report it. A real reranker is a cross-encoder;
// the mock stands in with word overlap, so that scores are deterministic and still mean something: a passage
// holding more of the query's words ranks higher, one sharing none ranks last. Pure functions, no I/O.

/** Words of a text: runs of letters and digits, lower-cased, each counted once. */
export function words(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) out.add(m[0]);
  return out;
}

/**
 * How relevant a passage is to a query, from 0 (no word in common) to 1 (the same words). Mostly the share
 * of the query's words that the passage holds (a long passage that answers the query is not penalised for
 * its length), plus a little of their Jaccard index, so that of two passages holding the whole query the one
 * with fewer other words ranks first.
 */
export function relevance(query: ReadonlySet<string>, passage: ReadonlySet<string>): number {
  if (query.size === 0 || passage.size === 0) return 0;
  let shared = 0;
  for (const w of query) if (passage.has(w)) shared++;
  const union = query.size + passage.size - shared;
  return 0.8 * (shared / query.size) + 0.2 * (shared / union);
}

/** The widest logit: relevance 0 maps to -LOGIT_SPAN and 1 to +LOGIT_SPAN, as a reranker's raw scores spread. */
export const LOGIT_SPAN = 10;

/** A relevance as a raw reranker score (NIM's `logit`, TEI's `raw_scores`): unbounded in form, here in ±10. */
export const logitOf = (r: number): number => LOGIT_SPAN * (2 * r - 1);

/** A raw score as a probability, as TEI (without raw_scores) and Cohere report relevance. */
export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export interface Ranked {
  /** The passage's position in the request. */
  readonly index: number;
  readonly logit: number;
}

/** Every passage with its logit, most relevant first; equal scores keep the request's order. */
export function rank(query: string, passages: readonly string[]): Ranked[] {
  const q = words(query);
  const ranked = passages.map((p, index): Ranked => ({ index, logit: logitOf(relevance(q, words(p))) }));
  return ranked.sort((a, b) => b.logit - a.logit || a.index - b.index);
}

/** Cohere bills one search unit per query of up to this many documents (after long ones are split). */
export const DOCUMENTS_PER_SEARCH_UNIT = 100;
/** Cohere splits a document longer than this many tokens, query included, into chunks billed as documents. */
export const TOKENS_PER_CHUNK = 500;

/**
 * Cohere's search units for one query: each document counts once per started chunk of TOKENS_PER_CHUNK
 * tokens (the query's tokens counted with each document), every DOCUMENTS_PER_SEARCH_UNIT such documents
 * cost a unit, and a request costs at least one.
 */
export function searchUnits(queryTokens: number, documentTokens: readonly number[]): number {
  let chunks = 0;
  for (const t of documentTokens) chunks += Math.max(1, Math.ceil((queryTokens + t) / TOKENS_PER_CHUNK));
  return Math.max(1, Math.ceil(chunks / DOCUMENTS_PER_SEARCH_UNIT));
}

// The answers of the three ranking APIs, each as its own server writes it (field names and order included),
// from passages already ranked by model/rerank.ts.
import { randomUUID } from 'node:crypto';
import { sigmoid, type Ranked } from '../model/rerank.js';
import type { CohereDocument, CohereRerankResponse, RankingResponse, TeiRerankResponse } from '../types.js';

/** NVIDIA NIM: every passage with its raw logit, and the tokens read. */
export function nimRanking(ranked: readonly Ranked[], promptTokens: number): RankingResponse {
  return {
    rankings: ranked.map(({ index, logit }) => ({ index, logit })),
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

export interface TeiOptions {
  /** The raw score instead of its sigmoid. */
  readonly rawScores: boolean;
  /** The texts, when the request asked for them (`return_text`). */
  readonly texts?: readonly string[] | undefined;
}

/** Hugging Face TEI: a bare array; TEI writes `index`, then `text` when asked for, then `score`. */
export function teiRanks(ranked: readonly Ranked[], o: TeiOptions): TeiRerankResponse {
  return ranked.map(({ index, logit }) => {
    const score = o.rawScores ? logit : sigmoid(logit);
    return o.texts ? { index, text: o.texts[index]!, score } : { index, score };
  });
}

export interface CohereOptions {
  readonly version: '1' | '2';
  /** Results to answer at most (all when undefined). */
  readonly topN?: number | undefined;
  readonly searchUnits: number;
  /** Each result's document, when the request asked for them (`return_documents`). */
  readonly document?: ((index: number) => CohereDocument) | undefined;
}

/**
 * Cohere: `results` cut to top_n, an id, and `meta` with the API version and the billed search units. v2
 * writes `results` first and reports `is_experimental`; v1 writes `id` first and puts `document` first in a
 * result, as their documentation shows.
 */
export function cohereRerank(ranked: readonly Ranked[], o: CohereOptions): CohereRerankResponse {
  const results = ranked.slice(0, o.topN ?? ranked.length).map(({ index, logit }) => {
    const relevance_score = sigmoid(logit);
    if (!o.document) return { index, relevance_score };
    return o.version === '1' ? { document: o.document(index), index, relevance_score } : { index, relevance_score, document: o.document(index) };
  });
  const billed_units = { search_units: o.searchUnits };
  const id = randomUUID();
  return o.version === '1'
    ? { id, results, meta: { api_version: { version: '1' }, billed_units } }
    : { results, id, meta: { api_version: { version: '2', is_experimental: false }, billed_units } };
}

// POST /v2/rerank: Cohere's Rerank API v2, in Cohere's shapes.
import { ApiError } from '../http/errors.js';
import { searchUnits } from '../model/rerank.js';
import { cohereRerank as cohereBody } from '../wire/rankings.js';
import { serveRanking, type Counted } from './rankings.js';
import type { Deps, OperationHandler } from './deps.js';
import type { CohereRerankRequest } from '../types.js';

/** Cohere's default `max_tokens_per_doc`. */
export const MAX_TOKENS_PER_DOC = 4096;

/** Cohere's refusals: a 400 whose message says "invalid request". */
export const cohereRefusals = {
  empty: (): ApiError => new ApiError(400, 'invalid request: list of documents must not be empty', 'documents'),
  tooMany: (n: number, max: number): ApiError => new ApiError(400, `invalid request: too many documents: got ${n}, at most ${max} are accepted`, 'documents'),
};

/** Search units as Cohere bills them, each document's tokens cut to max_tokens_per_doc first. */
export function billed(c: Counted, maxTokensPerDoc: number | undefined): number {
  const cap = maxTokensPerDoc ?? MAX_TOKENS_PER_DOC;
  return searchUnits(c.queryTokens, c.passageTokens.map((t) => Math.min(t, cap)));
}

export default function cohereRerank(deps: Deps): OperationHandler {
  return async (ctx) => {
    const body = ctx.state.body as CohereRerankRequest;
    await serveRanking(ctx, deps, {
      model: body.model,
      query: body.query,
      passages: body.documents,
      ...cohereRefusals,
      body: (c) =>
        cohereBody(c.ranked, {
          version: '2',
          topN: body.top_n,
          searchUnits: billed(c, body.max_tokens_per_doc),
          document: body.return_documents === true ? (i) => ({ text: body.documents[i]! }) : undefined,
        }),
    });
  };
}

// POST /v1/ranking: NVIDIA NIM's reranking API (NeMo Retriever), in NIM's shapes.
import { ApiError } from '../http/errors.js';
import { nimRanking } from '../wire/rankings.js';
import { serveRanking } from './rankings.js';
import type { Deps, OperationHandler } from './deps.js';
import type { RankingRequest } from '../types.js';

export default function createRanking(deps: Deps): OperationHandler {
  return async (ctx) => {
    const body = ctx.state.body as RankingRequest;
    await serveRanking(ctx, deps, {
      model: body.model,
      query: body.query.text,
      passages: body.passages.map((p) => p.text),
      // NIM's FastAPI answers a body it cannot accept with 422.
      empty: () => new ApiError(422, 'passages: must not be empty', 'passages'),
      tooMany: (n, max) => new ApiError(422, `passages: at most ${max} passages are accepted, got ${n}`, 'passages'),
      body: (c) => nimRanking(c.ranked, c.promptTokens),
    });
  };
}

// POST /rerank: Hugging Face Text Embeddings Inference's rerank API, in TEI's shapes. TEI serves one model,
// named by nothing in the request: the fallback tokenizer stands for it.
import { ApiError } from '../http/errors.js';
import { teiRanks } from '../wire/rankings.js';
import { serveRanking } from './rankings.js';
import type { Deps, OperationHandler } from './deps.js';
import type { TeiRerankRequest } from '../types.js';

export default function teiRerank(deps: Deps): OperationHandler {
  return async (ctx) => {
    const body = ctx.state.body as TeiRerankRequest;
    await serveRanking(ctx, deps, {
      model: ctx.state.settings.fallback_tokenizer,
      query: body.query,
      passages: body.texts,
      // TEI's own words and error types: `empty` is a 400, a batch too large a 413 `validation`.
      empty: () => new ApiError(400, '`texts` cannot be empty', 'texts', 'empty'),
      tooMany: (n, max) => new ApiError(413, `batch size ${n} > maximum allowed batch size ${max}`, 'texts', 'validation'),
      body: (c) => teiRanks(c.ranked, { rawScores: body.raw_scores === true, texts: body.return_text === true ? body.texts : undefined }),
    });
  };
}

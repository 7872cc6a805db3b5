// POST /v1/rerank: Cohere's Rerank API v1. As v2, but the model is optional, a document may be an object
// (its `text`, or its `rank_fields`, is ranked) and `return_documents` gives each document back as sent.
import { badRequest } from '../http/errors.js';
import { cohereRerank as cohereBody } from '../wire/rankings.js';
import { serveRanking } from './rankings.js';
import { billed, cohereRefusals } from './cohereRerank.js';
import type { Deps, OperationHandler } from './deps.js';
import type { CohereDocument, CohereRerankV1Request } from '../types.js';

/** The text a document is ranked on: itself, its `text`, or its rank_fields as `field: value` lines. */
function textOf(doc: string | CohereDocument, i: number, rankFields: readonly string[] | undefined): string {
  if (typeof doc === 'string') return doc;
  if (rankFields && rankFields.length > 0) {
    return rankFields.filter((f) => typeof doc[f] === 'string').map((f) => `${f}: ${doc[f] as string}`).join('\n');
  }
  if (typeof doc['text'] === 'string') return doc['text'];
  throw badRequest(`documents[${i}]: a document object needs a string field text, or rank_fields naming its fields to rank on`, `documents[${i}]`);
}

export default function cohereRerankV1(deps: Deps): OperationHandler {
  return async (ctx) => {
    const body = ctx.state.body as CohereRerankV1Request;
    const passages = body.documents.map((d, i) => textOf(d, i, body.rank_fields));
    await serveRanking(ctx, deps, {
      model: body.model ?? ctx.state.settings.fallback_tokenizer,
      query: body.query,
      passages,
      ...cohereRefusals,
      body: (c) =>
        cohereBody(c.ranked, {
          version: '1',
          topN: body.top_n,
          searchUnits: billed(c, undefined),
          document: body.return_documents === true ? (i) => documentOf(body.documents[i]!) : undefined,
        }),
    });
  };
}

const documentOf = (doc: string | CohereDocument): CohereDocument => (typeof doc === 'string' ? { text: doc } : doc);

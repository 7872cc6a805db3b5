// POST /rag/api/prompt: SOLIDO RAG, as AIPerf's solido_rag endpoint type sends it and the later AIPerf mock answers
// it: generated content (the chat engine's echo of the query), made-up sources, and the request's filters and
// inference_model echoed back.
import { createHash } from 'node:crypto';
import { serveFixtureText } from './fixtureText.js';
import type { Deps, OperationHandler } from './deps.js';
import type { SolidoRagRequest, SolidoRagResponse } from '../types.js';

/** Sources per answer at most (one per query text). */
const MAX_SOURCES = 3;

export default function solidoRagPrompt(deps: Deps): OperationHandler {
  return async (ctx) => {
    const body = ctx.state.body as SolidoRagRequest;
    const query = body.query.join(' ');
    await serveFixtureText(ctx, deps, {
      model: body.inference_model,
      prompt: query,
      maxTokens: body.max_tokens,
      ignoreEos: body.ignore_eos,
      body: (content): SolidoRagResponse => ({
        content,
        sources: sourcesFor(query, Math.min(MAX_SOURCES, body.query.length)),
        filters: body.filters ?? null,
        inference_model: body.inference_model,
      }),
    });
  };
}

/** Deterministic made-up documents: ids from a hash of the query, falling scores, the query's start as content. */
function sourcesFor(query: string, count: number): SolidoRagResponse['sources'] {
  return Array.from({ length: count }, (_, i) => ({
    id: `doc_${createHash('sha256').update(`${query}|source${i}`).digest('hex').slice(0, 8)}`,
    title: `Document ${i + 1}`,
    score: Math.round((0.9 - i * 0.1) * 10) / 10,
    content: `Source content for query: ${query.slice(0, 50)}...`,
  }));
}

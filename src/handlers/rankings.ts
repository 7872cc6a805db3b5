// Shared by the ranking handlers (NIM, TEI, Cohere v2 and v1): the bounds on passages, token counts with the
// model's real tokenizer, the latency (ranking_base_latency + ranking_per_passage_latency × passages) and one
// answer through respondOnce, so faults, the queue, X-Mock-* headers, metrics and shutdown work as for chat.
// Each API supplies its own refusals (status and words) and the body of its answer.
import { rank, type Ranked } from '../model/rerank.js';
import type { ApiError } from '../http/errors.js';
import type { AppContext } from '../http/request.js';
import { respondOnce } from './respond.js';
import { tokenizerFor, type Deps } from './deps.js';

/** Passages one request may rank: Cohere's documented most per request, for every API. */
export const MAX_PASSAGES = 1000;

/** What a request is ranked from, counted with the model's tokenizer. */
export interface Counted {
  /** Most relevant first. */
  readonly ranked: readonly Ranked[];
  readonly queryTokens: number;
  /** Tokens of each passage, in the request's order. */
  readonly passageTokens: readonly number[];
  /** What a cross-encoder reads: the query once per passage, plus every passage. */
  readonly promptTokens: number;
}

export interface RankingJob {
  /** The model: its tokenizer counts the tokens (else the fallback's), and it names the request in the metrics. */
  readonly model: string;
  readonly query: string;
  readonly passages: readonly string[];
  /** This API's refusal of a request without passages. */
  empty(): ApiError;
  /** This API's refusal of more than `max` passages. */
  tooMany(count: number, max: number): ApiError;
  /** This API's answer. */
  body(counted: Counted): object;
}

export async function serveRanking(ctx: AppContext, deps: Deps, job: RankingJob): Promise<void> {
  const n = job.passages.length;
  if (n === 0) throw job.empty();
  if (n > MAX_PASSAGES) throw job.tooMany(n, MAX_PASSAGES);
  // Tokenizing waits its turn under overload, so /health and the streams in flight are served meanwhile.
  await deps.slices.turn();
  const s = ctx.state.settings;
  const tokenizer = tokenizerFor(deps, job.model, s);
  const queryTokens = (await tokenizer.encodeAsync(job.query)).length;
  const passageTokens: number[] = [];
  for (const p of job.passages) {
    await deps.slices.turn();
    passageTokens.push((await tokenizer.encodeAsync(p)).length);
  }
  const promptTokens = passageTokens.reduce((sum, t) => sum + queryTokens + t, 0);
  await respondOnce(ctx, deps, {
    model: job.model,
    promptTokens,
    latency: s.ranking_base_latency + s.ranking_per_passage_latency * n,
    body: () => job.body({ ranked: rank(job.query, job.passages), queryTokens, passageTokens, promptTokens }),
  });
}

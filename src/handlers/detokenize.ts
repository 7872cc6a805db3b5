// POST /detokenize: vLLM's route back from token ids to text, with the real tokenizer.
import { answerJson } from '../http/answer.js';
import { tokenizerFor, type Deps, type OperationHandler } from './deps.js';
import { vllmBadRequest } from './tokenize.js';
import type { DetokenizeRequest, DetokenizeResponse } from '../types.js';

export default function detokenize(deps: Deps): OperationHandler {
  return async (ctx) => {
    await deps.slices.turn();
    const { settings } = ctx.state;
    const body = ctx.state.body as DetokenizeRequest;
    const tokenizer = tokenizerFor(deps, body.model ?? settings.fallback_tokenizer, settings);
    const { pieces } = tokenizer;
    const unknown = body.tokens.find((id) => !pieces.has(id));
    if (unknown !== undefined) throw vllmBadRequest(`Token id ${unknown} is out of vocabulary`, 'tokens');
    // The ids' bytes joined, then decoded once: a character split over two tokens comes out whole.
    const parts = body.tokens.map((id) => pieces.bytes(id));
    const answer: DetokenizeResponse = { prompt: new TextDecoder().decode(Buffer.concat(parts)) };
    answerJson(ctx, answer);
  };
}

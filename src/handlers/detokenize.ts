// POST /detokenize: vLLM's route back from token ids to text, with the real tokenizer.
import { answerJson } from '../http/answer.js';
import { tokenizerFor, type Deps, type OperationHandler } from './deps.js';
import { vllmBadRequest } from './tokenize.js';
import { decodeIds, unknownTokenId } from '../model/prompt.js';
import type { DetokenizeRequest, DetokenizeResponse } from '../types.js';

export default function detokenize(deps: Deps): OperationHandler {
  return async (ctx) => {
    await deps.slices.turn();
    const { settings } = ctx.state;
    const body = ctx.state.body as DetokenizeRequest;
    const tokenizer = tokenizerFor(deps, body.model ?? settings.fallback_tokenizer, settings);
    const unknown = unknownTokenId(tokenizer, body.tokens);
    if (unknown !== undefined) throw vllmBadRequest(`Token id ${unknown} is out of vocabulary`, 'tokens');
    const answer: DetokenizeResponse = { prompt: decodeIds(tokenizer, body.tokens) };
    answerJson(ctx, answer);
  };
}

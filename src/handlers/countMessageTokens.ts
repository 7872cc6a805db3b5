// POST /v1/messages/count_tokens: the input_tokens a Messages request would report without prompt caching.
import { answerJson } from '../http/answer.js';
import { countInput, messageInput } from '../model/messageInput.js';
import { tokenizerFor, type Deps, type OperationHandler } from './deps.js';
import type { CountMessageTokensRequest, MessageTokensCount } from '../types.js';

export default function countMessageTokens(deps: Deps): OperationHandler {
  return async (ctx) => {
    await deps.slices.turn();
    const body = ctx.state.body as CountMessageTokensRequest;
    ctx.set('request-id', ctx.state.requestId);
    const tokenizer = tokenizerFor(deps, body.model, ctx.state.settings);
    const counted = await countInput(tokenizer, { ...messageInput(body.system, body.messages), marks: [] });
    const answer: MessageTokensCount = { input_tokens: counted.tokens };
    answerJson(ctx, answer);
  };
}

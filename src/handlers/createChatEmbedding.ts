// POST /v1/chat/embeddings: a chat conversation, rendered with the model's chat template, embedded as one input.
import { chatText } from '../model/embeddingInputs.js';
import { serveEmbeddings } from './createEmbedding.js';
import { tokenizerFor, type Deps, type OperationHandler } from './deps.js';
import type { ChatEmbeddingRequest } from '../types.js';

export default function createChatEmbedding(deps: Deps): OperationHandler {
  return async (ctx) => {
    await deps.slices.turn();
    const body = ctx.state.body as ChatEmbeddingRequest;
    const tokenizer = tokenizerFor(deps, body.model, ctx.state.settings);
    const inputs = [chatText(tokenizer, body.messages)];
    await serveEmbeddings(ctx, deps, tokenizer, { model: body.model, inputs, format: body.encoding_format, dimensions: body.dimensions });
  };
}

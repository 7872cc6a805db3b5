// POST /tokenize: vLLM's tokenizer route. A prompt, or a chat rendered by the model's chat template (the text
// a chat completion counts as its prompt), as token ids of the real tokenizer.
import { ApiError } from '../http/errors.js';
import { answerJson } from '../http/answer.js';
import { templateMessages } from '../model/prompt.js';
import type { LoadedTokenizer } from '../model/tokenizers.js';
import { tokenizerFor, type Deps, type OperationHandler } from './deps.js';
import type { ChatMessage, TokenizeRequest, TokenizeResponse } from '../types.js';

/** vLLM's validation errors: `type: BadRequestError` with the status as `code`. */
export const vllmBadRequest = (message: string, param: string | null = null): ApiError => new ApiError(400, message, param, 400, 'BadRequestError');

/**
 * The chat as vLLM renders it for /tokenize. To continue the final message vLLM renders without the
 * generation prompt and cuts the text right after that message's content, so the model goes on writing it.
 */
function renderedChat(
  tokenizer: LoadedTokenizer,
  messages: readonly ChatMessage[],
  addGenerationPrompt: boolean,
  continueFinal: boolean,
  tools: readonly object[] | undefined,
): string {
  if (addGenerationPrompt && continueFinal) {
    throw vllmBadRequest('Cannot set both `continue_final_message` and `add_generation_prompt` to True.');
  }
  const templated = templateMessages(messages);
  let text: string | undefined;
  try {
    text = tokenizer.renderChat(templated, addGenerationPrompt, tools);
  } catch (err) {
    throw vllmBadRequest(err instanceof Error ? err.message : String(err), 'messages');
  }
  // Without a template (--no-tokenizer) the text is the messages' own, as a chat's echo counts it.
  if (text === undefined) return templated.map((m) => m.content).join('\n');
  if (continueFinal) {
    const last = templated[templated.length - 1]!.content;
    const at = last === '' ? -1 : text.lastIndexOf(last);
    if (at >= 0) text = text.slice(0, at + last.length);
  }
  return text;
}

export default function tokenize(deps: Deps): OperationHandler {
  return async (ctx) => {
    await deps.slices.turn();
    const { settings } = ctx.state;
    const body = ctx.state.body as TokenizeRequest;
    const tokenizer = tokenizerFor(deps, body.model ?? settings.fallback_tokenizer, settings);
    let text: string;
    let special: boolean;
    if ('messages' in body) {
      text = renderedChat(tokenizer, body.messages, body.add_generation_prompt ?? true, body.continue_final_message ?? false, body.tools ?? undefined);
      special = body.add_special_tokens ?? false;
    } else {
      text = body.prompt;
      special = body.add_special_tokens ?? true;
    }
    const ids = await tokenizer.encodeAsync(text);
    const tokens = special ? [...tokenizer.specialTokens.prefix, ...ids, ...tokenizer.specialTokens.suffix] : [...ids];
    const answer: TokenizeResponse = {
      count: tokens.length,
      max_model_len: settings.max_model_len,
      tokens,
      token_strs: body.return_token_strs === true ? tokens.map((id) => tokenizer.tokenString(id) ?? '') : null,
    };
    answerJson(ctx, answer);
  };
}

// The context window (max_model_len): what vLLM refuses before it generates, and the cap it takes when the
// request gives none. Messages are vLLM's as its validation errors render them on the wire: the text, then
// the parameter and value in parentheses; the error's `param` names the parameter and `type` is BadRequestError.
import { ApiError } from '../http/errors.js';

const VLLM_BAD_REQUEST = 'BadRequestError';

/** vLLM's error body carries the HTTP status as its `code`. */
function refusal(text: string, parameter: string, value: number): ApiError {
  return new ApiError(400, `${text} (parameter=${parameter}, value=${value})`, parameter, 400, VLLM_BAD_REQUEST);
}

/**
 * Checks one prompt of `promptTokens` against the window and returns the output cap in force: the requested
 * `maxTokens`, or what is left of the window when none was given (as vLLM does). Throws vLLM's 400 when the
 * prompt does not leave room: longer than the window, as long as it with no cap, or prompt + cap over it.
 */
export function fitContext(promptTokens: number, maxTokens: number | undefined, maxModelLen: number): number {
  const tooLong = (): ApiError =>
    refusal(
      `This model's maximum context length is ${maxModelLen} tokens. However, your request has ${promptTokens} input tokens. Please reduce the length of the input messages.`,
      'input_tokens',
      promptTokens,
    );
  if (promptTokens > maxModelLen) throw tooLong();
  if (maxTokens === undefined) {
    if (promptTokens >= maxModelLen) throw tooLong();
    return maxModelLen - promptTokens;
  }
  if (promptTokens + maxTokens > maxModelLen) {
    throw refusal(
      `'max_tokens' or 'max_completion_tokens' is too large: ${maxTokens}. This model's maximum context length is ${maxModelLen} tokens and your request has ${promptTokens} input tokens (${maxTokens} > ${maxModelLen} - ${promptTokens}).`,
      'max_tokens',
      maxTokens,
    );
  }
  return maxTokens;
}

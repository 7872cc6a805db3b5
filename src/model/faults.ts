// Fault injection: errors on purpose, reproducibly, each in OpenAI's shape. A share of requests fails
// (error_rate, drawn from error_types) and a share of streams is cut (stream_abort_rate); a request can also
// force either with X-Mock-Error / X-Mock-Abort-After.
import { ApiError } from '../http/errors.js';
import type { Random } from './random.js';
import type { Schemas, Settings } from '../types.js';

export type ErrorCode = Schemas['ErrorCode'];

/** The error of a forced or drawn fault, as the real service would word it. */
export function faultError(code: ErrorCode, promptTokens: number): ApiError {
  switch (code) {
    case 400:
      return new ApiError(
        400,
        `This model's maximum context length is ${Math.max(1, promptTokens - 1)} tokens. However, your request has ${promptTokens} input tokens. Please reduce the length of the input.`,
        'messages',
        'context_length_exceeded',
      );
    case 401:
      return new ApiError(401, 'Incorrect API key provided.', null, 'invalid_api_key', 'invalid_request_error');
    case 429:
      return new ApiError(429, 'Rate limit reached for requests. Please try again in 1s.', null, 'rate_limit_exceeded', 'requests').withHeaders({
        'retry-after': '1',
      });
    case 500:
      return new ApiError(500, 'The server had an error while processing your request.', null, null, 'server_error');
    case 503:
      return new ApiError(503, 'The server is overloaded. Please try again later.', null, 'service_unavailable', 'server_error').withHeaders({
        'retry-after': '1',
      });
  }
}

/** The error this request draws, if any (always one draw, so later draws stay reproducible). */
export function drawFault(r: Random, s: Pick<Settings, 'error_rate' | 'error_types'>): ErrorCode | undefined {
  const u = r.next();
  // error_rate is a percentage (the later AIPerf mock's --error-rate); the draw is a share.
  const share = s.error_rate / 100;
  if (u >= share) return undefined;
  // Reuse the draw: below the share it is uniform in [0, share).
  const i = Math.min(s.error_types.length - 1, Math.floor((u / share) * s.error_types.length));
  return s.error_types[i];
}

/** After how many tokens this stream is cut, if it is (stream_abort_rate percent of streams, uniform over its length). */
export function drawAbort(r: Random, s: Pick<Settings, 'stream_abort_rate'>, tokens: number): number | undefined {
  const u = r.next();
  const share = s.stream_abort_rate / 100;
  if (u >= share) return undefined;
  return Math.floor((u / share) * tokens);
}

// Every error the server answers is one of these: OpenAI's error shape with its HTTP status.
import type { ErrorBody } from '../types.js';

const TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  404: 'invalid_request_error',
  405: 'invalid_request_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
  503: 'server_error',
};

export class ApiError extends Error {
  /** Response headers that go with this error (Retry-After on a 429 or 503). */
  headers: Record<string, string> = {};

  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | number | null = null,
    readonly type: string = TYPE_BY_STATUS[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error'),
  ) {
    super(message);
  }

  withHeaders(headers: Record<string, string>): this {
    Object.assign(this.headers, headers);
    return this;
  }

  get body(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** Any thrown value as an ApiError: ours pass through, anything else is a 500 that hides internals. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(500, 'The server had an internal error while processing the request.', null, null, 'server_error');
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null): ApiError =>
  new ApiError(400, message, param, code);

/** A request the server will not finish because it is stopping; `connection: close` sends keep-alive clients elsewhere. */
export const shuttingDown = (): ApiError =>
  new ApiError(503, 'The server is shutting down.', null, 'server_shutting_down', 'server_error').withHeaders({ connection: 'close' });

const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']);

/**
 * A socket error that only says the client left (mid-answer, with a reset, or half-way through its request:
 * Node's parser then reports HPE_INVALID_EOF_STATE): not the server's fault.
 */
export function isClientGone(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (CLIENT_GONE.has(code) || code.startsWith('HPE_'));
}

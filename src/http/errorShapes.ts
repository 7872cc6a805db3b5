// Each API answers errors in its own server's shape. Every error is thrown as an ApiError (status, message,
// code); an operation's `x-error-shape` in openapi.yaml names the shape its errors are written in, and the
// status a request refused by the contract's schema gets (OpenAI and Cohere say 400, FastAPI and axum 422).
import { ApiError } from './errors.js';
import type { AnthropicErrorResponse } from '../types.js';

export type ErrorShapeName = 'openai' | 'tei' | 'cohere' | 'nim' | 'tgi' | 'anthropic';

export interface ErrorShape {
  /** The error for a request that the contract's schema refuses (a field missing, mistyped or out of range). */
  invalid(message: string, param: string | null): ApiError;
  /** The JSON body of an error answered on this shape's routes; `requestId` is the request's X-Request-ID. */
  body(e: ApiError, requestId?: string): object;
  /** Headers this API sends with every error (Anthropic's `request-id`). */
  headers?(requestId: string): Record<string, string>;
  /** The status this API answers the error with, where it differs from the error's own (TGI's 424). */
  status?(e: ApiError): number;
}

/** Hugging Face TEI's (and TGI's) error types; each goes with one status in TEI. */
const TEI_TYPES = new Set(['unhealthy', 'backend', 'overloaded', 'validation', 'tokenizer', 'empty']);
const TEI_TYPE_BY_STATUS: Readonly<Record<number, string>> = { 422: 'tokenizer', 424: 'backend', 429: 'overloaded', 503: 'unhealthy' };

/**
 * Hugging Face TGI's kinds of failure: its error_type, its status and the words its message starts with. An
 * error's code names the kind when it is one of TGI's; otherwise the status does (a refused request is TGI's
 * 422 `validation`, a failed one its 424 `generation`, a full queue its 429 `overloaded`).
 */
const TGI_KINDS: Readonly<Record<string, { status: number; prefix: string }>> = {
  validation: { status: 422, prefix: 'Input validation error: ' },
  generation: { status: 424, prefix: 'Request failed during generation: ' },
  overloaded: { status: 429, prefix: 'Model is overloaded: ' },
  incomplete_generation: { status: 500, prefix: 'Incomplete generation: ' },
  unhealthy: { status: 503, prefix: '' },
};
const TGI_TYPE_BY_STATUS: Readonly<Record<number, string>> = { 400: 'validation', 413: 'validation', 415: 'validation', 422: 'validation', 424: 'generation', 429: 'overloaded', 503: 'unhealthy', 401: 'unauthorized', 404: 'not_found', 405: 'method_not_allowed' };

function tgiType(e: ApiError): string {
  if (typeof e.code === 'string' && Object.hasOwn(TGI_KINDS, e.code)) return e.code;
  return TGI_TYPE_BY_STATUS[e.status] ?? (e.status >= 500 ? 'generation' : 'validation');
}

/** Anthropic's error types, each going with one status; the others follow from the status. */
const ANTHROPIC_TYPE_BY_STATUS: Readonly<Record<number, AnthropicErrorType>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  503: 'overloaded_error',
  529: 'overloaded_error',
};

export type AnthropicErrorType = AnthropicErrorResponse['error']['type'];

/** The `error.type` Anthropic gives an error of this status. */
export function anthropicErrorType(status: number): AnthropicErrorType {
  return ANTHROPIC_TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

/** Anthropic's error body, also the data of a stream's `event: error`. */
export function anthropicErrorBody(e: ApiError, requestId?: string): AnthropicErrorResponse {
  return { type: 'error', error: { type: anthropicErrorType(e.status), message: e.message }, request_id: requestId ?? null };
}

export const ERROR_SHAPES: Readonly<Record<ErrorShapeName, ErrorShape>> = {
  // OpenAI's `{error: {message, type, param, code}}`, the server's own.
  openai: {
    invalid: (message, param) => new ApiError(400, message, param),
    body: (e) => e.body,
  },
  // TEI's `{error, error_type}`: the error's code when it names a TEI type (`empty`, `validation`), else the
  // type TEI gives the status. A body TEI cannot parse is axum's 422.
  tei: {
    invalid: (message, param) => new ApiError(422, message, param, 'validation'),
    body: (e) => ({
      error: e.message,
      error_type: typeof e.code === 'string' && TEI_TYPES.has(e.code) ? e.code : (TEI_TYPE_BY_STATUS[e.status] ?? (e.status >= 500 ? 'backend' : 'validation')),
    }),
  },
  // Cohere's `{message}`; its refusals of a request read "invalid request: ...".
  cohere: {
    invalid: (message, param) => new ApiError(400, message, param),
    body: (e) => ({ message: e.status === 400 && !e.message.startsWith('invalid request') ? `invalid request: ${e.message}` : e.message }),
  },
  // Hugging Face TGI's `{error, error_type}`, with TGI's statuses and the words its messages start with. Body,
  // auth and route errors (400 for a body that is not JSON, 413, 415, 401, 404, 405) keep their status, as
  // TGI's web framework answers them.
  tgi: {
    invalid: (message, param) => new ApiError(422, message, param, 'validation'),
    status: (e) => {
      const kind = TGI_KINDS[tgiType(e)];
      const framework = [401, 404, 405, 413, 415].includes(e.status) || e.code === 'invalid_json';
      return kind && !framework ? kind.status : e.status;
    },
    body: (e) => {
      const error_type = tgiType(e);
      const prefix = TGI_KINDS[error_type]?.prefix ?? '';
      return { error: e.message.startsWith(prefix) ? e.message : prefix + e.message, error_type };
    },
  },
  // NVIDIA NIM's FastAPI services: `{object: "error", message, detail, type}`, 422 for a body it cannot validate.
  nim: {
    invalid: (message, param) => new ApiError(422, message, param),
    body: (e) => ({ object: 'error', message: e.message, detail: {}, type: e.type }),
  },
  // Anthropic's `{type: "error", error: {type, message}, request_id}`, the type by status (see above); a body
  // the contract refuses is its 400 invalid_request_error.
  anthropic: {
    invalid: (message, param) =>
      new ApiError(400, param === 'anthropic-version' ? 'anthropic-version: header is required' : message.replace(/: is required$/, ': Field required'), param),
    body: anthropicErrorBody,
    headers: (requestId) => ({ 'request-id': requestId }),
  },
};

export function isErrorShapeName(name: unknown): name is ErrorShapeName {
  return typeof name === 'string' && Object.hasOwn(ERROR_SHAPES, name);
}

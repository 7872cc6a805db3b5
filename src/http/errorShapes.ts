// Each API answers errors in its own server's shape. Every error is thrown as an ApiError (status, message,
// code); an operation's `x-error-shape` in openapi.yaml names the shape its errors are written in, and the
// status a request refused by the contract's schema gets (OpenAI and Cohere say 400, FastAPI and axum 422).
import { ApiError } from './errors.js';

export type ErrorShapeName = 'openai' | 'tei' | 'cohere' | 'nim';

export interface ErrorShape {
  /** The error for a request that the contract's schema refuses (a field missing, mistyped or out of range). */
  invalid(message: string, param: string | null): ApiError;
  /** The JSON body of an error answered on this shape's routes. */
  body(e: ApiError): object;
}

/** Hugging Face TEI's (and TGI's) error types; each goes with one status in TEI. */
const TEI_TYPES = new Set(['unhealthy', 'backend', 'overloaded', 'validation', 'tokenizer', 'empty']);
const TEI_TYPE_BY_STATUS: Readonly<Record<number, string>> = { 422: 'tokenizer', 424: 'backend', 429: 'overloaded', 503: 'unhealthy' };

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
      error_type: e.code !== null && TEI_TYPES.has(e.code) ? e.code : (TEI_TYPE_BY_STATUS[e.status] ?? (e.status >= 500 ? 'backend' : 'validation')),
    }),
  },
  // Cohere's `{message}`; its refusals of a request read "invalid request: ...".
  cohere: {
    invalid: (message, param) => new ApiError(400, message, param),
    body: (e) => ({ message: e.status === 400 && !e.message.startsWith('invalid request') ? `invalid request: ${e.message}` : e.message }),
  },
  // NVIDIA NIM's FastAPI services: `{object: "error", message, detail, type}`, 422 for a body it cannot validate.
  nim: {
    invalid: (message, param) => new ApiError(422, message, param),
    body: (e) => ({ object: 'error', message: e.message, detail: {}, type: e.type }),
  },
};

export function isErrorShapeName(name: unknown): name is ErrorShapeName {
  return typeof name === 'string' && Object.hasOwn(ERROR_SHAPES, name);
}

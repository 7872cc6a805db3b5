// GET /v1/responses/{response_id}: a response this process stored, as it was answered.
import { ApiError } from '../http/errors.js';
import { answerJson } from '../http/answer.js';
import { storedResponses } from '../model/storedResponses.js';
import type { OperationHandler } from './deps.js';

export default function getResponse(): OperationHandler {
  return (ctx, params) => {
    const id = params['response_id'] ?? '';
    const stored = storedResponses.get(id);
    if (!stored) throw new ApiError(404, `Response with id '${id}' not found.`, null, null);
    answerJson(ctx, stored.response);
  };
}

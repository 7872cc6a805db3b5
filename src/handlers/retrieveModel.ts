// GET /v1/models/{model}: one served model, or 404.
import { ApiError } from '../http/errors.js';
import { refuseWhenDisabled, servedModels } from './listModels.js';
import type { Deps, OperationHandler } from './deps.js';
import { answerJson } from '../http/answer.js';

export default function retrieveModel(deps: Deps): OperationHandler {
  return (ctx, params) => {
    refuseWhenDisabled(ctx.state.settings, ctx.method, ctx.path);
    // The router sees the id with its slash escaped (see app.ts).
    const id = decodeURIComponent(params['model'] ?? '');
    const model = servedModels(deps, ctx.state.settings).find((m) => m.id === id);
    if (!model) throw new ApiError(404, `The model '${id}' does not exist.`, 'model', 'model_not_found');
    answerJson(ctx, model);
  };
}

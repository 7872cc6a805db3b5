// GET /v1/models: the preloaded models and the fallback, in OpenAI's list shape.
import { ApiError } from '../http/errors.js';
import type { Deps, OperationHandler } from './deps.js';
import type { Model, ModelList, Settings } from '../types.js';
import { answerJson } from '../http/answer.js';

export const OWNER = 'aiperf-mock-server';

/** The models served under their own tokenizer: the preloaded ones that loaded, and the fallback. */
export function servedModels(deps: Deps, settings: Readonly<Settings>): Model[] {
  const names = [...new Set([...settings.tokenizer_models, settings.fallback_tokenizer])];
  return names
    .filter((n) => deps.tokenizers.get(n) !== undefined)
    .map((id) => ({ id, object: 'model', created: deps.startedAt, owned_by: OWNER }));
}

/** With disable_models_endpoint, the models routes answer as on a server that has none. */
export function refuseWhenDisabled(settings: Readonly<Settings>, method: string, path: string): void {
  if (settings.disable_models_endpoint) throw new ApiError(404, `No route for ${method} ${path}.`, null, 'not_found');
}

export default function listModels(deps: Deps): OperationHandler {
  return (ctx) => {
    refuseWhenDisabled(ctx.state.settings, ctx.method, ctx.path);
    const body: ModelList = { object: 'list', data: servedModels(deps, ctx.state.settings) };
    answerJson(ctx, body);
  };
}

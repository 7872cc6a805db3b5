// GET /v1/models: the preloaded models and the fallback, in OpenAI's list shape with vLLM's extra fields.
import { createHash } from 'node:crypto';
import { ApiError } from '../http/errors.js';
import { servedModelIds, type Deps, type OperationHandler } from './deps.js';
import { adapterFor, baseModelOf } from '../model/loraAdapters.js';
import type { Model, ModelList, Settings } from '../types.js';
import { answerJson } from '../http/answer.js';

/** vLLM names itself the owner of every model it serves; clients that tell engines apart read it. */
export const OWNER = 'vllm';

/**
 * vLLM's fixed permission entry. Its id is random per request in vLLM; here it is derived from the model and
 * the start time, so two listings of one server agree (clients only check the prefix).
 */
function permission(id: string, created: number): Model['permission'][number] {
  const hex = createHash('sha256').update(`${id}\n${created}`).digest('hex').slice(0, 32);
  return {
    id: `modelperm-${hex}`,
    object: 'model_permission',
    created,
    allow_create_engine: false,
    allow_sampling: true,
    allow_logprobs: true,
    allow_search_indices: false,
    allow_view: true,
    allow_fine_tuning: false,
    organization: '*',
    group: null,
    is_blocking: false,
  };
}

/**
 * The models served: the preloaded ones that loaded and the fallback, each under its own tokenizer; then the
 * LoRA adapters, as vLLM lists them (root their path, parent their base model, no max_model_len).
 */
export function servedModels(deps: Deps, settings: Readonly<Settings>): Model[] {
  const names = servedModelIds(deps, settings);
  const bases = names.map((id): Model => ({
      id,
      object: 'model',
      created: deps.startedAt,
      owned_by: OWNER,
      root: id,
      parent: null,
      max_model_len: settings.max_model_len,
      permission: [permission(id, deps.startedAt)],
    }));
  const adapters = settings.lora_modules
    .filter((a) => adapterFor(settings, a.name) === a)
    .map((a): Model => ({
      id: a.name,
      object: 'model',
      created: deps.startedAt,
      owned_by: OWNER,
      root: a.path,
      parent: baseModelOf(a, names) ?? null,
      max_model_len: null,
      permission: [permission(a.name, deps.startedAt)],
    }));
  return [...bases, ...adapters];
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

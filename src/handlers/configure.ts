// POST /configure: change settings at run time, validated whole and applied all at once or not at all.
import { badRequest } from '../http/errors.js';
import { SettingError } from '../settings.js';
import type { Deps, OperationHandler } from './deps.js';
import type { ConfigureRequest, Schemas, SettingName, Settings } from '../types.js';

/** Validates the merged settings, loads every tokenizer they name, then applies them; throws a 400 otherwise. */
export async function reconfigure(deps: Deps, patch: ConfigureRequest): Promise<Readonly<Settings>> {
  let next: Settings;
  try {
    next = deps.store.merge(patch);
  } catch (err) {
    if (err instanceof SettingError) throw badRequest(err.message, err.setting);
    throw err;
  }
  const wanted: Array<[string, SettingName]> = (patch.tokenizer_models ?? []).map((m) => [m, 'tokenizer_models']);
  if (patch.fallback_tokenizer !== undefined) wanted.push([patch.fallback_tokenizer, 'fallback_tokenizer']);
  const results = await Promise.allSettled(wanted.map(([name]) => deps.tokenizers.load(name)));
  const failed = results.findIndex((r) => r.status === 'rejected');
  if (failed >= 0) {
    const [name, param] = wanted[failed]!;
    const reason = (results[failed] as PromiseRejectedResult).reason as Error;
    throw badRequest(`The tokenizer '${name}' cannot be loaded: ${reason.message}. Nothing was changed.`, param);
  }
  const applied = deps.store.apply(next);
  deps.log.info(`settings changed: ${JSON.stringify(patch)}`);
  return applied;
}

export default function configure(deps: Deps): OperationHandler {
  return async (ctx) => {
    const settings = await reconfigure(deps, (ctx.state.body ?? {}) as ConfigureRequest);
    const body: Schemas['ConfigureResponse'] = { status: 'ok', settings };
    ctx.body = body;
  };
}

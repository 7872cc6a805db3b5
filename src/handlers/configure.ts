// POST /configure: change settings at run time, validated whole and applied all at once or not at all.
import { ApiError, badRequest } from '../http/errors.js';
import { publicSettings, SettingError } from '../settings.js';
import type { Deps, OperationHandler } from './deps.js';
import type { ConfigureRequest, Schemas, SettingName, Settings } from '../types.js';
import { answerJson } from '../http/answer.js';

/** Checks a patch against the settings in force and loads every tokenizer it names; throws a 400 otherwise. */
async function prepare(deps: Deps, patch: ConfigureRequest): Promise<Settings> {
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
  return next;
}

/** Applies a patch in this process only (a worker applying what the primary relays, or a single process). */
export async function applyHere(deps: Deps, patch: ConfigureRequest): Promise<Readonly<Settings>> {
  const applied = deps.store.apply(await prepare(deps, patch));
  if (patch.startup_delay !== undefined) deps.delayReadiness(patch.startup_delay);
  deps.log.info(`settings changed: ${JSON.stringify(patch)}`);
  return applied;
}

/** Validates and loads here first, so a bad patch is refused before any process changes; then applies it everywhere. */
export async function reconfigure(deps: Deps, patch: ConfigureRequest): Promise<Readonly<Settings>> {
  if (!deps.broadcast) return applyHere(deps, patch);
  await prepare(deps, patch);
  try {
    await deps.broadcast(patch);
  } catch (err) {
    throw new ApiError(500, `The settings could not be applied on every worker: ${(err as Error).message}`);
  }
  return deps.store.current;
}

export default function configure(deps: Deps): OperationHandler {
  return async (ctx) => {
    const settings = await reconfigure(deps, (ctx.state.body ?? {}) as ConfigureRequest);
    const body: Schemas['ConfigureResponse'] = { status: 'ok', settings: publicSettings(settings) };
    answerJson(ctx, body);
  };
}

// POST /v1/load_lora_adapter: vLLM's run-time loading of a LoRA adapter, with vLLM's texts and errors. Loading
// changes the lora_modules setting through /configure's path, so that with --workers every worker serves the
// adapter before the answer goes out.
import { ApiError } from '../http/errors.js';
import { reconfigure } from './configure.js';
import type { Deps, OperationHandler } from './deps.js';
import type { AppContext } from '../http/request.js';
import type { LoadLoraAdapterRequest, LoraModule } from '../types.js';

/** vLLM's refusal of a request it finds wrong (400, type InvalidUserInput, the status as the code). */
export const invalidUserInput = (message: string): ApiError => new ApiError(400, message, null, 400, 'InvalidUserInput');

/**
 * Without run-time changes (--no-configure) the adapter routes answer as vLLM's do when
 * VLLM_ALLOW_RUNTIME_LORA_UPDATING is not set: they are not there.
 */
export function refuseWithoutRuntimeUpdates(ctx: AppContext): void {
  if (!ctx.state.settings.configure) throw new ApiError(404, `No route for ${ctx.method} ${ctx.path}.`, null, 'not_found');
}

// One change of the adapters at a time in this process, as vLLM holds a lock per adapter name: two loads of
// one name cannot both pass the "already loaded" check.
const changing = new WeakMap<Deps, Promise<unknown>>();

/**
 * Applies `change` to the adapters in force once the changes before it are done; `change` returns the new
 * list, or throws to refuse. With --workers, changes taken by two workers at once are not ordered between
 * them: the later broadcast wins.
 */
export function changeAdapters(deps: Deps, change: (current: readonly LoraModule[]) => LoraModule[]): Promise<void> {
  const run = async (): Promise<void> => {
    const next = change(deps.store.current.lora_modules);
    await reconfigure(deps, { lora_modules: next });
  };
  const done = (changing.get(deps) ?? Promise.resolve()).then(run, run);
  changing.set(deps, done.catch(() => undefined));
  return done;
}

export function answerText(ctx: AppContext, text: string): void {
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = text;
}

export default function loadLoraAdapter(deps: Deps): OperationHandler {
  return async (ctx) => {
    refuseWithoutRuntimeUpdates(ctx);
    const body = ctx.state.body as LoadLoraAdapterRequest;
    const { lora_name: name, lora_path: path } = body;
    if (!name || !path) throw invalidUserInput("Both 'lora_name' and 'lora_path' must be provided.");
    await changeAdapters(deps, (current) => {
      const at = current.findIndex((m) => m.name === name);
      if (at >= 0 && body.load_inplace !== true) throw invalidUserInput(`The lora adapter '${name}' has already been loaded.`);
      // Loaded in place, the adapter keeps its place in the listing, with its new path.
      return at >= 0 ? current.map((m, i) => (i === at ? { name, path } : m)) : [...current, { name, path }];
    });
    deps.log.info(`Loaded new LoRA adapter: name '${name}', path '${path}'`);
    answerText(ctx, `Success: LoRA adapter '${name}' added successfully.`);
  };
}

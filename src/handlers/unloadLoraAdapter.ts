// POST /v1/unload_lora_adapter: vLLM's run-time unloading of a LoRA adapter, by name, with vLLM's texts and
// errors. Requests to it that are running finish; it is no longer listed nor served as an adapter.
import { ApiError } from '../http/errors.js';
import { answerText, changeAdapters, invalidUserInput, refuseWithoutRuntimeUpdates } from './loadLoraAdapter.js';
import type { Deps, OperationHandler } from './deps.js';
import type { UnloadLoraAdapterRequest } from '../types.js';

export default function unloadLoraAdapter(deps: Deps): OperationHandler {
  return async (ctx) => {
    refuseWithoutRuntimeUpdates(ctx);
    const { lora_name: name } = ctx.state.body as UnloadLoraAdapterRequest;
    if (!name) throw invalidUserInput("'lora_name' needs to be provided to unload a LoRA adapter.");
    await changeAdapters(deps, (current) => {
      if (!current.some((m) => m.name === name)) throw new ApiError(404, `The lora adapter '${name}' cannot be found.`, null, 404, 'NotFoundError');
      return current.filter((m) => m.name !== name);
    });
    deps.log.info(`Removed LoRA adapter: name '${name}'`);
    answerText(ctx, `Success: LoRA adapter '${name}' removed successfully.`);
  };
}

// GET /version: vLLM's route. It names the vLLM release whose wire this server copies, not this package's
// version, because clients read it to choose how to talk to vLLM.
import { answerJson } from '../http/answer.js';
import type { Deps, OperationHandler } from './deps.js';
import type { VersionResponse } from '../types.js';

/** The vLLM release whose messages and shapes are reproduced (VLLMValidationError's "(parameter=..., value=...)"). */
export const VLLM_VERSION = '0.12.0';

export default function getVersion(_deps: Deps): OperationHandler {
  return (ctx) => {
    const body: VersionResponse = { version: VLLM_VERSION };
    answerJson(ctx, body);
  };
}

// GET /vllm/metrics: vLLM's families alone, from the same measured counts as /metrics.
import { enginePage } from '../telemetry/serve.js';
import type { Deps, OperationHandler } from './deps.js';

export default function getVllmMetrics(deps: Deps): OperationHandler {
  return enginePage(deps, 'vllm');
}

// GET /trtllm/metrics: trtllm-serve's names, from the same measured counts as /metrics.
import { enginePage } from '../telemetry/serve.js';
import type { Deps, OperationHandler } from './deps.js';

export default function getTrtllmMetrics(deps: Deps): OperationHandler {
  return enginePage(deps, 'trtllm');
}

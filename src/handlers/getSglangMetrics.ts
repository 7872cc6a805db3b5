// GET /sglang/metrics: SGLang's names, from the same measured counts as /metrics.
import { enginePage } from '../telemetry/serve.js';
import type { Deps, OperationHandler } from './deps.js';

export default function getSglangMetrics(deps: Deps): OperationHandler {
  return enginePage(deps, 'sglang');
}

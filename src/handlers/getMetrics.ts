// GET /metrics: vLLM's metric names, then the later AIPerf mock's own; with --workers, summed over all workers.
import { enginePage } from '../telemetry/serve.js';
import type { Deps, OperationHandler } from './deps.js';

export default function getMetrics(deps: Deps): OperationHandler {
  return enginePage(deps, 'metrics');
}

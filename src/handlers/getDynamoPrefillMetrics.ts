// GET /dynamo_component/prefill/metrics: a Dynamo prefill worker's names, from the same measured counts as /metrics.
import { enginePage } from '../telemetry/serve.js';
import type { Deps, OperationHandler } from './deps.js';

export default function getDynamoPrefillMetrics(deps: Deps): OperationHandler {
  return enginePage(deps, 'dynamoPrefill');
}

// GET /dynamo_component/decode/metrics: a Dynamo decode worker's names, from the same measured counts as /metrics.
import { enginePage } from '../telemetry/serve.js';
import type { Deps, OperationHandler } from './deps.js';

export default function getDynamoDecodeMetrics(deps: Deps): OperationHandler {
  return enginePage(deps, 'dynamoDecode');
}

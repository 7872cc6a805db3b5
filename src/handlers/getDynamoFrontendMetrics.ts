// GET /dynamo_frontend/metrics: the Dynamo frontend's names, from the same measured counts as /metrics.
import { enginePage } from '../telemetry/serve.js';
import type { Deps, OperationHandler } from './deps.js';

export default function getDynamoFrontendMetrics(deps: Deps): OperationHandler {
  return enginePage(deps, 'dynamoFrontend');
}

// GET /metrics: Prometheus text with vLLM's metric names; with --workers, summed over all workers.
import type { Deps, OperationHandler } from './deps.js';

export default function getMetrics(deps: Deps): OperationHandler {
  return async (ctx) => {
    ctx.type = deps.metrics.contentType;
    ctx.body = deps.clusterMetrics ? await deps.clusterMetrics() : await deps.metrics.text();
  };
}

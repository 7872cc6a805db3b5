// GET /dcgm{index}/metrics: GPU telemetry as NVIDIA's DCGM exporter writes it, following the simulated load.
import { dcgmPage } from '../telemetry/serve.js';
import type { Deps, OperationHandler } from './deps.js';

export default function getDcgmMetrics(deps: Deps): OperationHandler {
  return dcgmPage(deps);
}

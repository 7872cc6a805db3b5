// What the scrape handlers share: the counts (this process's, or with --workers the sum over all workers),
// the rates over the last window, and per server the DCGM exporters, whose boards must stay the same
// from one scrape to the next.
import { decodeSnapshot } from './transport.js';
import { RateWindow } from './rates.js';
import { DcgmFleet } from './dcgm.js';
import { groupBy, total, type Snapshot } from './cell.js';
import { CONTENT_TYPE } from './exposition.js';
import { PAGES, type PageInput, type PageName } from './engines.js';
import { isWorker } from '../cluster.js';
import { ApiError } from '../http/errors.js';
import type { Deps, OperationHandler } from '../handlers/deps.js';
import type { Metrics } from '../metrics.js';

interface State {
  rates: RateWindow;
  fleet: DcgmFleet;
}

// One per server (keyed by its Metrics): a process may hold several servers (tests, scripts).
const states = new WeakMap<Metrics, State>();

function stateOf(deps: Deps): State {
  let s = states.get(deps.metrics);
  if (!s) {
    // Without dcgm_seed the boards still must be the same in every worker: the primary's pid names the server.
    const instanceSeed = isWorker() ? process.ppid : process.pid;
    states.set(deps.metrics, (s = { rates: new RateWindow(deps.metrics.startedAt), fleet: new DcgmFleet(instanceSeed) }));
  }
  return s;
}

interface Measured {
  input: PageInput;
  /** Mean GPU load over the last dcgm_window_sec, 0 to 1. */
  load: number;
}

async function measure(deps: Deps): Promise<Measured> {
  const snapshot: Snapshot = deps.clusterMetrics ? decodeSnapshot(await deps.clusterMetrics()) : deps.metrics.snapshot();
  const s = deps.store.current;
  const tokens = new Map<string, number>();
  for (const [model, c] of groupBy(snapshot.cells, (c) => c.model)) tokens.set(model, c.generationTokens);
  const rates = stateOf(deps).rates.observe(snapshot.busy, tokens, s.dcgm_window_sec);
  return {
    input: {
      snapshot,
      kvCapacity: s.kv_cache_tokens,
      // With the KV cache on, each process has its own: the pages read the blocks held over all of theirs.
      kvBlocks: s.enable_kv_cache ? Math.floor(s.kv_cache_tokens / s.block_size) * (deps.clusterMetrics ? Math.max(1, s.workers) : 1) : undefined,
      tokensPerSecond: rates.tokensPerSecond,
      uptime: Math.max(0, Date.now() / 1000 - deps.startedAt),
      // With --workers, the adapters' state of the worker that answers the scrape (each worker has its own).
      ...(s.lora_modules.length > 0 ? { lora: { maxLoras: s.max_loras, running: deps.loras.running, waiting: deps.loras.waiting, now: Date.now() / 1000 } } : {}),
    },
    load: rates.load,
  };
}

/** A handler that answers one engine's page. */
export function enginePage(deps: Deps, name: PageName): OperationHandler {
  return async (ctx) => {
    const { input } = await measure(deps);
    ctx.type = CONTENT_TYPE;
    ctx.body = PAGES[name](input);
  };
}

/** GET /dcgm{index}/metrics: exporter `index` (1 to dcgm_num_endpoints); any other is 404. */
export function dcgmPage(deps: Deps): OperationHandler {
  return async (ctx, params) => {
    const s = deps.store.current;
    const index = Number(params['index']);
    if (!Number.isInteger(index) || index < 1 || index > s.dcgm_num_endpoints) {
      throw new ApiError(404, `There is no DCGM exporter ${params['index']}: dcgm_num_endpoints is ${s.dcgm_num_endpoints}.`, null, 'not_found');
    }
    const { input, load } = await measure(deps);
    const kvUsage = Math.min(1, Math.max(0, total(input.snapshot.cells).kvTokens) / s.kv_cache_tokens);
    ctx.type = CONTENT_TYPE;
    ctx.body = stateOf(deps).fleet.exporter(index, s).render({ load, busy: input.snapshot.busy, kvUsage, wallMs: Date.now() });
  };
}

// What the server measured, per kind of request: one cell per (endpoint, model, streamed or not). Every
// metrics page (vLLM's names, SGLang's, TRT-LLM's, Dynamo's, the later AIPerf mock's, the GPU telemetry) is
// computed from these counts when it is scraped; with --workers, from their sum over every worker.
import { Hist, QUANTITIES, QUANTITY_NAMES, type Quantity } from './buckets.js';

/** The plain counts of a cell, by name (what the cluster transport sums). */
export const SCALARS = [
  /** Requests that passed fault injection (served, or refused later by the queue or a shutdown). */
  'requests',
  'running',
  'waiting',
  /** Running, no token sent yet. */
  'prefilling',
  /** Prompt tokens of the prefilling requests. */
  'promptPrefilling',
  /** Prompt tokens of the running requests. */
  'promptRunning',
  /** Requests that began generating. */
  'admitted',
  'promptTokens',
  'generationTokens',
  /** Tokens sent by requests that have ended: generationTokens minus these is what running requests hold. */
  'doneTokens',
  'stop',
  'length',
  'abort',
  /** KV-cache blocks the running requests hold, when the engine model's KV cache is on (enable_kv_cache). */
  'kvBlocks',
  /** Requests preempted to free KV-cache blocks (enable_preemption). */
  'preemptions',
  /** Prompt tokens found in the prefix cache (enable_prefix_caching). */
  'prefixHits',
] as const;

export type Scalar = (typeof SCALARS)[number];

export class Cell {
  requests = 0;
  running = 0;
  waiting = 0;
  prefilling = 0;
  promptPrefilling = 0;
  promptRunning = 0;
  admitted = 0;
  promptTokens = 0;
  generationTokens = 0;
  doneTokens = 0;
  stop = 0;
  length = 0;
  abort = 0;
  kvBlocks = 0;
  preemptions = 0;
  prefixHits = 0;
  /** Requests answered with an error, by "status code" (e.g. "503 service_unavailable"). */
  readonly failures = new Map<string, number>();
  readonly hist: Record<Quantity, Hist>;

  constructor(
    readonly endpoint: string,
    readonly model: string,
    readonly stream: boolean,
  ) {
    this.hist = Object.fromEntries(QUANTITY_NAMES.map((q) => [q, new Hist(QUANTITIES[q])])) as Record<Quantity, Hist>;
  }

  /** Tokens the running requests hold in the KV cache: their prompts and what they have generated so far. */
  get kvTokens(): number {
    return this.promptRunning + this.generationTokens - this.doneTokens;
  }

  get finished(): number {
    return this.stop + this.length + this.abort;
  }

  get failed(): number {
    let n = 0;
    for (const v of this.failures.values()) n += v;
    return n;
  }

  add(o: Cell): this {
    for (const k of SCALARS) this[k] += o[k];
    for (const [k, v] of o.failures) this.failures.set(k, (this.failures.get(k) ?? 0) + v);
    for (const q of QUANTITY_NAMES) this.hist[q].add(o.hist[q]);
    return this;
  }
}

/** What every page is computed from. */
export interface Snapshot {
  readonly cells: readonly Cell[];
  /**
   * Seconds of full GPU load since start, summed over workers: the integral over time of
   * min(1, tokens per second ÷ dcgm_min_throughput).
   */
  readonly busy: number;
}

/** The cells summed by a key (a model, an endpoint...), in the order each key first appears. */
export function groupBy(cells: readonly Cell[], key: (c: Cell) => string): Map<string, Cell> {
  const out = new Map<string, Cell>();
  for (const c of cells) {
    const k = key(c);
    let sum = out.get(k);
    if (!sum) out.set(k, (sum = new Cell(c.endpoint, c.model, c.stream)));
    sum.add(c);
  }
  return out;
}

/** Everything summed. */
export function total(cells: readonly Cell[]): Cell {
  const sum = new Cell('', '', false);
  for (const c of cells) sum.add(c);
  return sum;
}

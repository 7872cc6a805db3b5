// What the server measures of each inference request, from what it actually sent: plain counts per
// (endpoint, model, streamed) cell, cheap enough for the per-token path. The pages that show them (the
// Prometheus texts of /metrics, the engines' pages and the GPU telemetry) live in src/telemetry/; with
// --workers the primary sums every worker's counts through prom-client's cluster aggregator.
import { Cell, type Snapshot } from './telemetry/cell.js';
import { encodeSnapshot, TRANSPORT_METRIC } from './telemetry/transport.js';
import { ApiError } from './http/errors.js';
import type { Settings } from './types.js';

/** Distinct model_name labels kept; the rest are counted under OTHER_MODELS. */
export const MAX_MODELS = 256;
const MAX_MODEL_NAME = 256;
export const OTHER_MODELS = '__other__';

export type FinishedReason = 'stop' | 'length' | 'abort';

/** What the GPU load integral needs from the settings. */
type LoadSettings = Pick<Settings, 'workers' | 'dcgm_min_throughput' | 'dcgm_auto_load'>;

/**
 * The GPU load integral (see Snapshot.busy): brought up to date at each request's start and end and at each
 * scrape, so a burst counts over the time it lasted, not over the whole gap between scrapes.
 */
class LoadIntegral {
  /** Tokens sent by this process. */
  tokens = 0;
  busy = 0;
  #at = performance.now();
  #tokensAt = 0;

  constructor(private readonly settings: () => Readonly<LoadSettings>) {}

  /**
   * Adds the load since the last tick: min(share, tokens per second ÷ dcgm_min_throughput) × seconds, where
   * share is 1 ÷ workers, so the workers' integrals sum to at most the time elapsed (full load).
   */
  tick(now: number): void {
    const dt = (now - this.#at) / 1000;
    if (dt <= 0) return;
    const s = this.settings();
    const rate = (this.tokens - this.#tokensAt) / dt;
    this.busy += s.dcgm_auto_load ? Math.min(1 / Math.max(1, s.workers), rate / s.dcgm_min_throughput) * dt : 0;
    this.#at = now;
    this.#tokensAt = this.tokens;
  }
}

export class Metrics {
  readonly #cells = new Map<string, Cell>();
  readonly #models = new Set<string>();
  readonly #load: LoadIntegral;
  /** performance.now() when this server's counting began: where rates over a window may start from. */
  readonly startedAt = performance.now();

  constructor(settings?: () => Readonly<LoadSettings>) {
    this.#load = new LoadIntegral(settings ?? (() => ({ workers: 1, dcgm_min_throughput: 100, dcgm_auto_load: true })));
  }

  /** The cell of one kind of request; model names past MAX_MODELS (or absurd ones) share one. */
  cell(model: string, endpoint = '', stream = false): Cell {
    // Model names come from requests: past MAX_MODELS (or for absurd names) they share one label, so no
    // client can grow the server's memory, or a scrape, without bound.
    if (model !== OTHER_MODELS && !this.#models.has(model)) {
      if (this.#models.size >= MAX_MODELS || model.length > MAX_MODEL_NAME) return this.cell(OTHER_MODELS, endpoint, stream);
      this.#models.add(model);
    }
    const key = `${endpoint}\u0000${stream ? 's' : 'u'}\u0000${model}`;
    let c = this.#cells.get(key);
    if (!c) this.#cells.set(key, (c = new Cell(endpoint, model, stream)));
    return c;
  }

  /** Starts the record of one request, at its arrival (performance.now()), once it passed fault injection. */
  request(model: string, arrival: number, endpoint = '', stream = false): RequestMetrics {
    const c = this.cell(model, endpoint, stream);
    c.requests++;
    return new RequestMetrics(c, this.#load, arrival);
  }

  /** This process's counts, with the GPU load integral brought up to now. The cells are live: read only. */
  snapshot(): Snapshot {
    this.#load.tick(performance.now());
    return { cells: [...this.#cells.values()], busy: this.#load.busy };
  }

  /**
   * In a --workers child: lets the primary's aggregator read this worker's counts (one summable gauge
   * family, see telemetry/transport.ts). prom-client is loaded only here: a single process never needs it.
   */
  async shareWithPrimary(): Promise<void> {
    const { AggregatorRegistry, Registry } = await import('prom-client');
    const registry = new Registry();
    const get = () => ({ name: TRANSPORT_METRIC, help: 'Counts of one worker, for the primary to sum.', type: 'gauge', aggregator: 'sum', values: encodeSnapshot(this.snapshot()) });
    registry.registerMetric({ name: TRANSPORT_METRIC, help: '', type: 'gauge', aggregator: 'sum', get, reset: () => undefined } as unknown as Parameters<typeof registry.registerMetric>[0]);
    // Constructing one installs prom-client's worker-side listener for the primary's requests.
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([registry]);
  }
}

/** One request's record; every call is a few additions, cheap enough for the per-token path. */
export class RequestMetrics {
  #state: 'new' | 'waiting' | 'running' | 'done' = 'new';
  #prompt = 0;
  #prefilling = false;
  #tokens = 0;
  #frames = 0;
  #admittedAt = 0;
  #firstAt = 0;
  #last = 0;

  constructor(
    private readonly c: Cell,
    private readonly load: LoadIntegral,
    private readonly arrival: number,
  ) {}

  queued(): void {
    if (this.#state !== 'new') return;
    this.#state = 'waiting';
    this.c.waiting++;
  }

  /** Generation begins (after the queue, if any). */
  admitted(now: number, promptTokens: number): void {
    if (this.#state === 'waiting') this.c.waiting--;
    if (this.#state === 'done' || this.#state === 'running') return;
    this.#state = 'running';
    this.#prompt = promptTokens;
    this.#prefilling = true;
    this.#admittedAt = now;
    this.load.tick(now);
    const c = this.c;
    c.running++;
    c.prefilling++;
    c.promptPrefilling += promptTokens;
    c.promptRunning += promptTokens;
    c.admitted++;
    c.hist.queue.observe((now - this.arrival) / 1000);
    c.promptTokens += promptTokens;
    c.hist.promptTokens.observe(promptTokens);
  }

  /** KV-cache blocks held by this request changed by `delta` (enable_kv_cache). */
  holdBlocks(delta: number): void {
    this.c.kvBlocks += delta;
  }

  /** `tokens` prompt tokens were found in the prefix cache (enable_prefix_caching). */
  prefixHits(tokens: number): void {
    this.c.prefixHits += tokens;
  }

  /** Preempted (enable_preemption): the request waits again, as vLLM counts it, until it is `resumed`. */
  preempted(): void {
    if (this.#state !== 'running') return;
    this.#state = 'waiting';
    this.c.running--;
    this.c.promptRunning -= this.#prompt;
    this.c.waiting++;
    this.c.preemptions++;
  }

  /** Admitted again after a preemption. */
  resumed(): void {
    if (this.#state !== 'waiting') return;
    this.#state = 'running';
    this.c.waiting--;
    this.c.running++;
    this.c.promptRunning += this.#prompt;
  }

  /** `tokens` tokens left the server at `now` in one write. */
  sent(tokens: number, now: number): void {
    const c = this.c;
    if (this.#frames++ === 0) {
      c.hist.ttft.observe((now - this.arrival) / 1000);
      this.#firstAt = now;
      if (this.#prefilling) {
        c.hist.prefill.observe((now - this.#admittedAt) / 1000);
        this.#endPrefill();
      }
    } else if (tokens > 0) c.hist.itl.observe((now - this.#last) / 1000);
    if (tokens > 1) c.hist.itl.observeZeros(tokens - 1);
    c.generationTokens += tokens;
    this.load.tokens += tokens;
    // A record already over holds nothing in the KV cache.
    if (this.#state === 'done') c.doneTokens += tokens;
    this.#tokens += tokens;
    this.#last = now;
  }

  finished(reason: FinishedReason, now: number): void {
    if (this.#state === 'done') return;
    const wasRunning = this.#leave();
    this.load.tick(now);
    const c = this.c;
    c[reason]++;
    c.hist.e2e.observe((now - this.arrival) / 1000);
    c.hist.generationTokens.observe(this.#tokens);
    if (this.#frames > 0) {
      c.hist.decode.observe((this.#last - this.#firstAt) / 1000);
      if (this.#tokens > 1) c.hist.tpot.observe((this.#last - this.#firstAt) / 1000 / (this.#tokens - 1));
    }
    if (wasRunning) c.hist.inference.observe(((this.#frames > 0 ? this.#last : now) - this.#admittedAt) / 1000);
  }

  /**
   * The request ends with an error answer (an injected fault, a full queue, a shutdown): it counts among the
   * failures by status and code, not among the served. Returns the error, to be thrown on.
   */
  failed(err: unknown): unknown {
    if (this.#state === 'done') return err;
    this.#leave();
    const e = err instanceof ApiError ? err : undefined;
    const key = `${e?.status ?? 500} ${e?.code ?? e?.type ?? 'server_error'}`;
    this.c.failures.set(key, (this.c.failures.get(key) ?? 0) + 1);
    return err;
  }

  #endPrefill(): void {
    this.#prefilling = false;
    this.c.prefilling--;
    this.c.promptPrefilling -= this.#prompt;
  }

  /** Leaves the gauges (waiting, running, KV) for good; true when the request was running. */
  #leave(): boolean {
    const c = this.c;
    const wasRunning = this.#state === 'running';
    if (this.#state === 'waiting') c.waiting--;
    if (wasRunning) {
      c.running--;
      c.promptRunning -= this.#prompt;
      if (this.#prefilling) this.#endPrefill();
    }
    c.doneTokens += this.#tokens;
    this.#state = 'done';
    return wasRunning;
  }
}

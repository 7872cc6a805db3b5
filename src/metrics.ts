// Prometheus metrics with vLLM's names and `model_name` label, measured from what the server sent.
// prom-client renders them and aggregates them across --workers; the values themselves live in plain
// per-model cells, because the per-token path must not pay for prom-client's label hashing.
import { AggregatorRegistry, Registry } from 'prom-client';

class Buckets {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }

  /** n observations of 0 s: tokens that left in the same write as the one before them. */
  observeZeros(n: number): void {
    this.counts[0]! += n;
    this.count += n;
  }
}

// vLLM's buckets, with finer steps below 10 ms for a mock whose latencies are often that small.
const TTFT = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
const ITL = [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
const E2E = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];
const QUEUE = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
const TOKENS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

class ModelCell {
  running = 0;
  waiting = 0;
  promptTokens = 0;
  generationTokens = 0;
  readonly success = new Map<string, number>();
  readonly ttft = new Buckets(TTFT);
  readonly itl = new Buckets(ITL);
  readonly e2e = new Buckets(E2E);
  readonly queue = new Buckets(QUEUE);
  readonly promptHist = new Buckets(TOKENS);
  readonly generationHist = new Buckets(TOKENS);
}

type Kind = 'gauge' | 'counter' | 'histogram';

/** Distinct model_name labels kept; the rest are counted under OTHER_MODELS. */
export const MAX_MODELS = 256;
const MAX_MODEL_NAME = 256;
export const OTHER_MODELS = '__other__';

interface MetricValue {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

export type FinishedReason = 'stop' | 'length' | 'abort';

export class Metrics {
  readonly #cells = new Map<string, ModelCell>();
  readonly registry = new Registry();

  constructor() {
    const scalar = (name: string, help: string, type: Kind, read: (c: ModelCell) => number) =>
      this.#register(name, help, type, () => [...this.#cells].map(([model, c]) => ({ labels: { model_name: model }, value: read(c) })));
    const histogram = (name: string, help: string, read: (c: ModelCell) => Buckets) =>
      this.#register(name, help, 'histogram', () => [...this.#cells].flatMap(([model, c]) => histogramValues(name, model, read(c))));

    scalar('vllm:num_requests_running', 'Requests generating now.', 'gauge', (c) => c.running);
    scalar('vllm:num_requests_waiting', 'Requests waiting in the queue.', 'gauge', (c) => c.waiting);
    scalar('vllm:prompt_tokens_total', 'Prompt tokens of the requests that began generating.', 'counter', (c) => c.promptTokens);
    scalar('vllm:generation_tokens_total', 'Tokens sent.', 'counter', (c) => c.generationTokens);
    this.#register('vllm:request_success_total', 'Requests that finished, by finish reason.', 'counter', () =>
      [...this.#cells].flatMap(([model, c]) => [...c.success].map(([reason, n]) => ({ labels: { model_name: model, finished_reason: reason }, value: n }))),
    );
    histogram('vllm:time_to_first_token_seconds', 'Time from arrival to the first token sent.', (c) => c.ttft);
    histogram('vllm:inter_token_latency_seconds', 'Time between consecutive tokens sent.', (c) => c.itl);
    histogram('vllm:e2e_request_latency_seconds', 'Time from arrival to the last token sent.', (c) => c.e2e);
    histogram('vllm:request_queue_time_seconds', 'Time spent waiting for a generation slot.', (c) => c.queue);
    histogram('vllm:request_prompt_tokens', 'Prompt tokens per request.', (c) => c.promptHist);
    histogram('vllm:request_generation_tokens', 'Tokens sent per request.', (c) => c.generationHist);
  }

  #register(name: string, help: string, type: Kind, values: () => MetricValue[]): void {
    this.registry.registerMetric({
      name,
      help,
      type,
      aggregator: 'sum',
      get: () => ({ name, help, type, values: values(), aggregator: 'sum' }),
      reset: () => undefined,
    } as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  cell(model: string): ModelCell {
    let c = this.#cells.get(model);
    if (!c) {
      // Model names come from requests: past MAX_MODELS (or for absurd names) they share one label, so no
      // client can grow the server's memory, or a scrape, without bound.
      if (model !== OTHER_MODELS && (this.#cells.size >= MAX_MODELS || model.length > MAX_MODEL_NAME)) return this.cell(OTHER_MODELS);
      c = new ModelCell();
      this.#cells.set(model, c);
    }
    return c;
  }

  /** Starts the record of one request, at its arrival (performance.now()). */
  request(model: string, arrival: number): RequestMetrics {
    return new RequestMetrics(this.cell(model), arrival);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** In a --workers child: let the primary's aggregator read this worker's registry. */
  shareWithPrimary(): void {
    // Constructing one installs prom-client's worker-side listener for the primary's requests.
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([this.registry]);
  }
}

function histogramValues(name: string, model: string, b: Buckets): MetricValue[] {
  const out: MetricValue[] = [];
  let cumulative = 0;
  for (let i = 0; i < b.bounds.length; i++) {
    cumulative += b.counts[i]!;
    out.push({ metricName: `${name}_bucket`, labels: { le: b.bounds[i]!, model_name: model }, value: cumulative });
  }
  out.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', model_name: model }, value: b.count });
  out.push({ metricName: `${name}_sum`, labels: { model_name: model }, value: b.sum });
  out.push({ metricName: `${name}_count`, labels: { model_name: model }, value: b.count });
  return out;
}

/** One request's record; every call is a few additions, cheap enough for the per-token path. */
export class RequestMetrics {
  #state: 'new' | 'waiting' | 'running' | 'done' = 'new';
  #tokens = 0;
  #frames = 0;
  #last = 0;

  constructor(
    private readonly c: ModelCell,
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
    this.c.running++;
    this.c.queue.observe((now - this.arrival) / 1000);
    this.c.promptTokens += promptTokens;
    this.c.promptHist.observe(promptTokens);
  }

  /** `tokens` tokens left the server at `now` in one write. */
  sent(tokens: number, now: number): void {
    if (this.#frames++ === 0) this.c.ttft.observe((now - this.arrival) / 1000);
    else if (tokens > 0) this.c.itl.observe((now - this.#last) / 1000);
    if (tokens > 1) this.c.itl.observeZeros(tokens - 1);
    this.c.generationTokens += tokens;
    this.#tokens += tokens;
    this.#last = now;
  }

  finished(reason: FinishedReason, now: number): void {
    if (this.#state === 'waiting') this.c.waiting--;
    if (this.#state === 'running') this.c.running--;
    if (this.#state === 'done') return;
    this.#state = 'done';
    this.c.success.set(reason, (this.c.success.get(reason) ?? 0) + 1);
    this.c.e2e.observe((now - this.arrival) / 1000);
    this.c.generationHist.observe(this.#tokens);
  }
}

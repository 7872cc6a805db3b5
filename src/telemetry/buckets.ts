// Histogram bucket bounds (seconds or tokens), as each engine's exporter declares them. The server keeps one
// histogram per measured quantity over the union of every engine's bounds, so each page's cumulative counts
// are exact at its own bounds: `le=b` is the sum of the union's buckets up to b.

/** vLLM's buckets (the /metrics names), with finer steps below 10 ms for a mock whose latencies are often that small. */
export const VLLM = {
  ttft: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560],
  itl: [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80],
  e2e: [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680],
  queue: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560],
  tokens: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000],
} as const;

/** The later AIPerf mock's own histograms: fine, for a server that answers in microseconds. */
export const AIPERF = {
  latency: [0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  ttft: [0.00001, 0.000025, 0.00005, 0.000075, 0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5],
  itl: [0.000001, 0.0000025, 0.000005, 0.0000075, 0.00001, 0.000025, 0.00005, 0.000075, 0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
} as const;

/** SGLang's tokenizer-manager and scheduler histograms. */
export const SGLANG = {
  ttft: [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400],
  itl: [0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.06, 0.08, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8],
  e2e: [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200, 1800, 2400],
  queue: [0, 0.1, 0.2, 0.5, 1, 2, 3, 4, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1200, 1400, 1600, 1800, 2000, 2500, 3000],
} as const;

/** trtllm-serve's MetricsCollector defaults. */
export const TRTLLM = {
  e2e: [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680],
  ttft: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560],
  tpot: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80],
  prefill: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 640, 2560],
} as const;

/** NVIDIA Dynamo: the frontend's histograms, and the Rust prometheus crate's defaults for its components. */
export const DYNAMO = {
  duration: [0, 1.9, 3.4, 6.3, 12, 22, 40, 75, 140, 260, 480, 900],
  ttft: [0, 0.0022, 0.0047, 0.01, 0.022, 0.047, 0.1, 0.22, 0.47, 1, 2.2, 4.7, 10, 22, 48, 100, 220, 480],
  itl: [0, 0.0019, 0.0035, 0.0067, 0.013, 0.024, 0.045, 0.084, 0.16, 0.3, 0.56, 1.1, 2],
  component: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
} as const;

/** The sorted, distinct union of some bound lists. */
function union(...lists: ReadonlyArray<readonly number[]>): readonly number[] {
  return [...new Set(lists.flat())].sort((a, b) => a - b);
}

/** Each measured quantity and the union of the bounds every page draws it with. */
export const QUANTITIES = {
  /** Arrival to the first token sent. */
  ttft: union(VLLM.ttft, AIPERF.ttft, SGLANG.ttft, TRTLLM.ttft, DYNAMO.ttft),
  /** Between consecutive tokens sent (0 for tokens that left in one write). */
  itl: union(VLLM.itl, AIPERF.itl, SGLANG.itl, DYNAMO.itl),
  /** Arrival to the end of the answer. */
  e2e: union(VLLM.e2e, AIPERF.latency, SGLANG.e2e, TRTLLM.e2e, DYNAMO.duration),
  /** Arrival to the start of generation. */
  queue: union(VLLM.queue, SGLANG.queue, TRTLLM.e2e),
  /** Start of generation to the first token sent. */
  prefill: union(VLLM.e2e, TRTLLM.prefill, DYNAMO.component),
  /** First token to last token sent. */
  decode: union(VLLM.e2e, TRTLLM.e2e, DYNAMO.component),
  /** Start of generation to the last token sent. */
  inference: union(VLLM.e2e, TRTLLM.e2e),
  /** Per request: the mean gap between its tokens. */
  tpot: union(VLLM.itl, TRTLLM.tpot),
  /** Per request: prompt tokens. */
  promptTokens: union(VLLM.tokens),
  /** Per request: tokens sent. */
  generationTokens: union(VLLM.tokens),
} as const;

export type Quantity = keyof typeof QUANTITIES;
export const QUANTITY_NAMES = Object.keys(QUANTITIES) as Quantity[];

/** A histogram over one quantity's union bounds: counts per bucket (the last is +Inf), their sum and count. */
export class Hist {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** The bucket of the last observation: the values of one quantity tend to repeat (the gaps of a stream). */
  #last = 0;

  observe(v: number): void {
    const b = this.bounds;
    // The first bound not below v (Prometheus' `le`): the last one found, or else by binary search.
    let i = this.#last;
    if (!((i === b.length || v <= b[i]!) && (i === 0 || v > b[i - 1]!))) {
      let lo = 0;
      let hi = b.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (v > b[mid]!) lo = mid + 1;
        else hi = mid;
      }
      this.#last = i = lo;
    }
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }

  /** n observations of 0: tokens that left in the same write as the one before them. */
  observeZeros(n: number): void {
    this.counts[0]! += n;
    this.count += n;
  }

  add(o: Hist): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += o.counts[i]!;
    this.sum += o.sum;
    this.count += o.count;
  }

  /** Cumulative counts at `bounds` (each one of this histogram's own bounds), then +Inf. */
  cumulative(bounds: readonly number[]): number[] {
    const out: number[] = [];
    let i = 0;
    let running = 0;
    for (const b of bounds) {
      while (i < this.bounds.length && this.bounds[i]! <= b) running += this.counts[i++]!;
      out.push(running);
    }
    out.push(this.count);
    return out;
  }
}

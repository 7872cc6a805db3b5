// The latency model and the deadline scheduler. Token k is due at start + TTFT + the sum of the first k
// inter-token gaps; with constant latencies that is start + ttft + k * itl. Deadlines are absolute, so error
// never adds up over a long stream, and a timer that fires early (Node's can, by up to a millisecond) is
// simply re-armed: no token ever leaves early.
import { jittered, type Random } from './random.js';
import type { Settings } from '../types.js';

/** When each token of one response is due, as performance.now() times. */
export interface Pace {
  /** Tokens (frames) to send. */
  readonly count: number;
  /** The deadline of token k; asked for k in non-decreasing order. */
  due(k: number): number;
}

/** Latencies without jitter or load: the exact formula, no state. */
export function constantPace(start: number, ttft: number, itl: number, count: number): Pace {
  return { count, due: (k) => start + ttft + k * itl };
}

export type LatencySettings = Pick<
  Settings,
  'ttft' | 'itl' | 'ttft_per_input_token' | 'ttft_stddev' | 'itl_stddev' | 'jitter_distribution' | 'load_factor' | 'max_concurrency'
>;

export interface PaceRequest {
  /** performance.now() when generation may begin: arrival, or the end of the wait in the queue. */
  start: number;
  promptTokens: number;
  count: number;
  random: Random;
  /** Streams generating now, this one included (for load_factor). */
  running: () => number;
  /** Per-request latencies forced by X-Mock-TTFT / X-Mock-ITL. */
  ttft?: number | undefined;
  itl?: number | undefined;
}

/** How much slower tokens come when `running` streams share the server: 1x alone, load_factor x at max_concurrency. */
export function loadScale(s: LatencySettings, running: number): number {
  if (s.load_factor === 1 || s.max_concurrency <= 1) return 1;
  const share = (Math.min(running, s.max_concurrency) - 1) / (s.max_concurrency - 1);
  return 1 + (s.load_factor - 1) * Math.max(0, share);
}

/** The latency model: TTFT with prefill and jitter, then gaps with jitter and load. */
export function pace(s: LatencySettings, r: PaceRequest): Pace {
  const ttft = r.ttft ?? jittered(r.random, s.ttft + s.ttft_per_input_token * r.promptTokens, s.ttft_stddev, s.jitter_distribution);
  if (r.itl !== undefined) return constantPace(r.start, ttft, r.itl, r.count);
  if (s.itl_stddev === 0 && (s.load_factor === 1 || s.max_concurrency <= 1)) return constantPace(r.start, ttft, s.itl, r.count);
  // Gaps are drawn when first needed, so load is read at the time each token is scheduled.
  let known = 0;
  let last = r.start + ttft;
  return {
    count: r.count,
    due(k) {
      while (known < k) {
        last += jittered(r.random, s.itl * loadScale(s, r.running()), s.itl_stddev, s.jitter_distribution);
        known++;
      }
      return last;
    },
  };
}

export interface Sleep {
  /** Resolves true at the deadline or later (never earlier), false once cancelled. */
  readonly done: Promise<boolean>;
  cancel(): void;
}

/** A sleep until `deadline` (a performance.now() time) that a client's leaving can cut short. */
export function sleepUntil(deadline: number): Sleep {
  let timer: NodeJS.Timeout | undefined;
  let finish: (completed: boolean) => void = () => undefined;
  const done = new Promise<boolean>((resolve) => (finish = resolve));
  const check = (): void => {
    const left = deadline - performance.now();
    if (left <= 0) finish(true);
    else timer = setTimeout(check, Math.ceil(left));
  };
  check();
  return {
    done,
    cancel() {
      clearTimeout(timer);
      finish(false);
    },
  };
}

/** Where a clock sends its tokens. */
export interface TokenSink {
  /** Send tokens [from, to) at once; `to === count` marks the end. Returns false to pause until `resume`. */
  send(from: number, to: number): boolean;
  /** Called when send returned false; the sink calls `resume` when it can take more. */
  pause(resume: () => void): void;
}

/** `send`s per wake-up at most before the clock yields to the event loop, so one stream cannot starve the others. */
const SENDS_PER_WAKE = 8;
/**
 * Work on inference (streams' ticks, new requests' tokenizing) between two chances for other I/O. Node runs
 * every expired timer, and every request that has arrived, in one go; with thousands of streams that is one
 * long stall in which /health, drains and everything else wait. Past this budget, work waits for the check
 * phase, after the poll phase has served the I/O that is ready. Light loads never reach it; under overload
 * streams and new requests fall behind evenly (in order), and the server stays responsive.
 */
export class WorkSlices {
  /** performance.now() when the current slice of work began; -1 when none is open. */
  #start = -1;
  readonly #close = (): void => {
    this.#start = -1;
  };

  constructor(private readonly budgetMs = 8) {}

  /** Opens a slice of work if none is open (it closes at the next check phase); true once it has used its budget. */
  overBudget(now: number = performance.now()): boolean {
    if (this.#start < 0) {
      this.#start = now;
      setImmediate(this.#close);
      return false;
    }
    return now - this.#start > this.budgetMs;
  }

  /** Resolves once this work may go on: at once within the budget, else after the I/O that was ready. */
  async turn(): Promise<void> {
    while (this.overBudget()) await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Drives one stream: at each wake-up, the tokens already due go out in `send`s of at most `maxBatch`, then
 * the clock sleeps until the next deadline. While the sink is paused (its socket is not drained) nothing is
 * sent, so what a slow reader has not taken stays bounded by one batch. One object per stream and one
 * timer at a time; no promise per token.
 */
export class TokenClock {
  #sent: number;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #stopped = false;

  constructor(
    private readonly pace: Pace,
    private readonly sink: TokenSink,
    private readonly slices: WorkSlices,
    /** Tokens per `send` at most: a backlog (itl 0, a long stall) goes out in pieces, each written on its own. */
    private readonly maxBatch: number,
    /** The first token to send: past 0 when a stream goes on after a pause (a KV-cache preemption). */
    first = 0,
  ) {
    this.#sent = first;
  }

  start(): void {
    this.#tick();
  }

  /** Stops sending (the client left, or the stream was cut); no timer is left behind. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }


  // A loop, not recursion: a stream of millions of tokens at itl 0 to a fast reader must not grow the stack.
  readonly #tick = (): void => {
    this.#timer = undefined;
    this.#immediate = undefined;
    const { count } = this.pace;
    for (let sends = 0; !this.#stopped; sends++) {
      const now = performance.now();
      const wait = this.pace.due(this.#sent) - now;
      if (wait > 0) {
        this.#timer = setTimeout(this.#tick, Math.ceil(wait));
        return;
      }
      if (this.slices.overBudget(now) || sends === SENDS_PER_WAKE) {
        this.#immediate = setImmediate(this.#tick);
        return;
      }
      const limit = Math.min(count, this.#sent + this.maxBatch);
      let to = this.#sent + 1;
      while (to < limit && this.pace.due(to) <= now) to++;
      const from = this.#sent;
      this.#sent = to;
      const more = this.sink.send(from, to);
      if (to >= count || this.#stopped) return;
      if (!more) {
        this.sink.pause(this.#tick);
        return;
      }
    }
  };
}

// The latency model and the deadline scheduler. Token k is due at start + ttft + k * itl, start being
// the request's arrival. Deadlines are absolute, so error never adds up over a long stream, and a timer
// that fires early (Node's can, by up to a millisecond) is simply re-armed: no token ever leaves early.

export interface Schedule {
  /** performance.now() when the request arrived. */
  readonly start: number;
  /** Milliseconds. */
  readonly ttft: number;
  /** Milliseconds. */
  readonly itl: number;
  /** Tokens to send. */
  readonly count: number;
}

export function dueAt(s: Schedule, k: number): number {
  return s.start + s.ttft + k * s.itl;
}

/** Resolves at `deadline` (a performance.now() time) or later, never earlier. */
export function sleepUntil(deadline: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const check = (): void => {
      const left = deadline - performance.now();
      if (left <= 0 || signal?.aborted) {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      } else {
        timer = setTimeout(check, Math.ceil(left));
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    check();
  });
}

/** Where a clock sends its tokens. */
export interface TokenSink {
  /** Send tokens [from, to) at once; `to === count` marks the end. Returns false to pause until `resume`. */
  send(from: number, to: number): boolean;
  /** Called when send returned false; the sink calls `resume` when it can take more. */
  pause(resume: () => void): void;
}

/**
 * Drives one stream: at each wake-up, every token already due goes out in one `send`, then the clock
 * sleeps until the next deadline. One object per stream and one timer at a time; no promise per token.
 */
export class TokenClock {
  #sent = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly schedule: Schedule,
    private readonly sink: TokenSink,
  ) {}

  start(): void {
    this.#tick();
  }

  /** Stops sending (the client left); no timer is left behind. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  get sent(): number {
    return this.#sent;
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    if (this.#stopped) return;
    const { count } = this.schedule;
    const now = performance.now();
    const wait = dueAt(this.schedule, this.#sent) - now;
    if (wait > 0) {
      this.#timer = setTimeout(this.#tick, Math.ceil(wait));
      return;
    }
    let to = this.#sent + 1;
    while (to < count && dueAt(this.schedule, to) <= now) to++;
    const from = this.#sent;
    this.#sent = to;
    const more = this.sink.send(from, to);
    if (to >= count || this.#stopped) return;
    if (more) this.#tick();
    else this.sink.pause(this.#tick);
  };
}

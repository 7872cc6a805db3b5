// Admission: at most max_concurrency responses generate at once; the rest wait in a FIFO queue of at most
// max_queue, and the wait adds to their time to first token. The limits are read live from the settings.
import type { Settings } from '../types.js';

export type Release = () => void;

export class QueueFull extends Error {}

/**
 * A further condition of one request's admission (the KV cache's free blocks, model/kvCache.ts): the queue
 * stays FIFO, so a head that does not fit keeps those behind it waiting.
 */
export interface Gate {
  fits(): boolean;
  /** Takes what `fits` found free, at the moment of admission. */
  take(): void;
}

interface Waiter {
  admit: () => void;
  state: 'waiting' | 'admitted' | 'cancelled';
  gate: Gate | undefined;
}

const noop = (): void => undefined;
const LEFT: Waiter = { state: 'cancelled', admit: noop, gate: undefined };

export class Admission {
  #running = 0;
  #waiting = 0;
  readonly #queue: Waiter[] = [];
  #head = 0;

  constructor(private readonly limits: () => Pick<Settings, 'max_concurrency' | 'max_queue'>) {}

  /** Responses generating now. */
  get running(): number {
    return this.#running;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Admits whoever now fits (after max_concurrency was raised). */
  recheck(): void {
    this.#admitNext();
  }

  /**
   * Resolves with a release function once this request may generate. Rejects with QueueFull when the queue
   * is full, and with the signal's reason when the client leaves while waiting (its place is given up).
   * `onQueued` is called only if the request has to wait, and gives the signal of the client leaving.
   * `gate` is a further condition (none: max_concurrency alone). `resume` puts a preempted request back at
   * the head of the queue, always waiting there (the queue's limit does not apply to it).
   */
  acquire(onQueued: () => AbortSignal, gate?: Gate, resume = false): Promise<Release> {
    const { max_concurrency, max_queue } = this.limits();
    if (!resume && (max_concurrency === 0 || (this.#running < max_concurrency && this.#waiting === 0)) && (gate === undefined || (this.#waiting === 0 && gate.fits()))) {
      gate?.take();
      this.#running++;
      return Promise.resolve(this.#releaser());
    }
    if (!resume && this.#waiting >= max_queue) return Promise.reject(new QueueFull());
    const signal = onQueued();
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        state: 'waiting',
        gate,
        admit: () => {
          waiter.state = 'admitted';
          waiter.gate?.take();
          this.#waiting--;
          this.#running++;
          resolve(this.#releaser());
        },
      };
      if (resume && this.#head > 0) this.#queue[--this.#head] = waiter;
      else if (resume) this.#queue.unshift(waiter);
      else this.#queue.push(waiter);
      this.#waiting++;
      signal.addEventListener(
        'abort',
        () => {
          if (waiter.state !== 'waiting') return;
          waiter.state = 'cancelled';
          // The queue holds the waiter until its turn; it must not hold the request (the closure does).
          waiter.admit = noop;
          waiter.gate = undefined;
          this.#waiting--;
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  #releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      this.#admitNext();
    };
  }

  #admitNext(): void {
    const { max_concurrency } = this.limits();
    while (this.#head < this.#queue.length && (max_concurrency === 0 || this.#running < max_concurrency)) {
      const next = this.#queue[this.#head]!;
      if (next.state === 'waiting' && next.gate !== undefined && !next.gate.fits()) break;
      // Nothing of a request stays reachable from the queue once it has left it (admitted or gone).
      this.#queue[this.#head++] = LEFT;
      if (next.state === 'waiting') next.admit();
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
  }
}

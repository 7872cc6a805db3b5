// LoRA adapters as vLLM serves them. The adapters are the lora_modules setting (so /configure, the load and
// unload routes and --workers all change them one way); what lives here is which model a request's name stands
// for, and vLLM's --max-loras: at most max_loras adapters have requests running at once. A request for another
// adapter waits; when an adapter's last request ends, the waiting are admitted in arrival order, each one that
// now fits, skipping those that do not, as vLLM's scheduler skips a request whose adapter would exceed
// max_loras and schedules the ones behind it.
import type { LoraModule, Settings } from '../types.js';
import { QueueFull, type Release } from './admission.js';

/**
 * The adapter a request's `model` names, if any. A base model's name wins, as vLLM checks the base models
 * first: an adapter cannot shadow one.
 */
export function adapterFor(settings: Readonly<Settings>, model: string): LoraModule | undefined {
  if (model === settings.fallback_tokenizer || settings.tokenizer_models.includes(model)) return undefined;
  return settings.lora_modules.find((m) => m.name === model);
}

/** The model an adapter is served on: its base_model_name when that is served, else the first served model. */
export function baseModelOf(adapter: LoraModule, served: readonly string[]): string | undefined {
  const named = adapter.base_model_name;
  return named !== undefined && named !== null && served.includes(named) ? named : served[0];
}

interface Waiter {
  readonly name: string;
  state: 'waiting' | 'admitted' | 'cancelled';
  admit: () => void;
}

const noop = (): void => undefined;

/** vLLM's --max-loras: the adapters with requests running, and the requests waiting for one to free up. */
export class LoraSlots {
  /** Running requests per adapter; an adapter is active while it has one. */
  readonly #running = new Map<string, number>();
  #queue: Waiter[] = [];

  constructor(private readonly maxLoras: () => number) {}

  /** The adapters with requests running, in the order they became active. */
  get running(): string[] {
    return [...this.#running.keys()];
  }

  /** The adapters with requests waiting for a slot, in the order of their first waiting request. */
  get waiting(): string[] {
    return [...new Set(this.#queue.filter((w) => w.state === 'waiting').map((w) => w.name))];
  }

  /** Requests waiting for a slot. */
  get waitingRequests(): number {
    return this.#queue.filter((w) => w.state === 'waiting').length;
  }

  #fits(name: string): boolean {
    return this.#running.has(name) || this.#running.size < this.maxLoras();
  }

  /**
   * Resolves with a release function once a request for adapter `name` may run; rejects with the signal's
   * reason if its client leaves (or the server stops) while it waits. `onQueued` is called only if it has to
   * wait, and gives that signal. Rejects with QueueFull, without waiting, when `room` requests wait already.
   */
  acquire(name: string, onQueued: () => AbortSignal, room = Infinity): Promise<Release> {
    if (this.#fits(name)) return Promise.resolve(this.#take(name));
    if (this.waitingRequests >= room) return Promise.reject(new QueueFull());
    const signal = onQueued();
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        name,
        state: 'waiting',
        admit: () => {
          waiter.state = 'admitted';
          resolve(this.#take(name));
        },
      };
      this.#queue.push(waiter);
      signal.addEventListener(
        'abort',
        () => {
          if (waiter.state !== 'waiting') return;
          waiter.state = 'cancelled';
          waiter.admit = noop;
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Admits whoever now fits (after max_loras was raised). */
  recheck(): void {
    let admitted = false;
    for (const w of this.#queue) {
      if (w.state === 'waiting' && this.#fits(w.name)) {
        w.admit();
        admitted = true;
      }
    }
    if (admitted || this.#queue.some((w) => w.state !== 'waiting')) this.#queue = this.#queue.filter((w) => w.state === 'waiting');
  }

  #take(name: string): Release {
    this.#running.set(name, (this.#running.get(name) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#running.get(name) ?? 1) - 1;
      if (left > 0) {
        this.#running.set(name, left);
        return;
      }
      this.#running.delete(name);
      this.recheck();
    };
  }
}

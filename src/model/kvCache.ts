// The KV cache of the simulated engine (enable_kv_cache): kv_cache_tokens split into blocks of block_size
// tokens. A running generation holds ceil((prompt + generated so far) / block_size) blocks; a request is
// admitted only when its prompt's blocks are free (the admission queue waits for them, FIFO), and when a
// running one needs a block that is not free, either the cache runs over (enable_preemption off: nothing
// waits once admitted) or the newest preemptible request is preempted, as vLLM's recompute preemption does:
// its blocks are freed and it waits again, at the head of the queue. One cache per server process.
import type { Settings } from '../types.js';

export type KvSettings = Pick<Settings, 'enable_kv_cache' | 'kv_cache_tokens' | 'block_size' | 'enable_preemption'>;

/** A prompt that could never be admitted: its blocks alone are more than the whole cache. */
export class TooLargeForCache extends Error {
  constructor(
    readonly promptTokens: number,
    readonly capacityTokens: number,
  ) {
    super(`prompt of ${promptTokens} tokens over a KV cache of ${capacityTokens} tokens`);
  }
}

/** What a request's holding of blocks tells it and the metrics. */
export interface HoldEvents {
  /** Blocks held changed by `delta` (the per-model usage gauge). */
  changed(delta: number): void;
  /**
   * The cache takes this request's blocks back to let an older one grow: it must stop generating now and wait
   * to be admitted again. Absent for requests that cannot pause (a whole answer), which are never preempted.
   */
  preempt?(): void;
}

/** The blocks of one admitted request. */
export class Hold {
  #blocks = 0;
  #released = false;

  constructor(
    private readonly cache: KvCache,
    readonly events: HoldEvents,
    /** Admission order: the newest is preempted first. */
    readonly order: number,
  ) {}

  get blocks(): number {
    return this.#blocks;
  }

  get released(): boolean {
    return this.#released;
  }

  /**
   * Holds the blocks of `tokens` tokens (prompt + generated so far). False when this request was preempted
   * to make room (it must pause): the blocks it held are free then.
   */
  grow(tokens: number): boolean {
    if (this.#released) return false;
    const need = this.cache.blocksFor(tokens) - this.#blocks;
    return need <= 0 || this.cache.grow(this, need);
  }

  /** Gives every block back (the request ended, or was preempted). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.cache.left(this);
    this.#set(0);
  }

  /** Sets the blocks held (by the cache: at admission and when it grows, with the room already checked). */
  take(blocks: number): void {
    this.#set(blocks);
  }

  #set(blocks: number): void {
    const delta = blocks - this.#blocks;
    if (delta === 0) return;
    this.#blocks = blocks;
    this.cache.used(delta);
    this.events.changed(delta);
  }
}

/** A request's claim on the prompt's blocks: the admission queue's gate, then its hold. */
export interface Claim {
  /** Whether the prompt's blocks are free now. */
  fits(): boolean;
  /** Takes them (at admission, right after `fits`); the hold is then `hold`. */
  take(): void;
  readonly hold: Hold | undefined;
}

export class KvCache {
  #used = 0;
  #order = 0;
  #preemptions = 0;
  /** Inside `grow`: freed blocks are not yet offered to the queue. */
  #quiet = false;
  #freed = false;
  /** Running holds that can pause, oldest first (a Set keeps insertion order). */
  readonly #preemptible = new Set<Hold>();

  constructor(
    private readonly settings: () => Readonly<KvSettings>,
    /** Blocks were freed: the queue may admit its head now. */
    private readonly onFree: () => void,
  ) {}

  /** floor(kv_cache_tokens / block_size), read live (kv_cache_tokens may change through /configure). */
  get totalBlocks(): number {
    const s = this.settings();
    return Math.floor(s.kv_cache_tokens / s.block_size);
  }

  get usedBlocks(): number {
    return this.#used;
  }

  get preemptions(): number {
    return this.#preemptions;
  }

  blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.settings().block_size);
  }

  /**
   * The claim of a prompt of `promptTokens` tokens; throws TooLargeForCache when its blocks exceed the
   * whole cache (it would wait for ever).
   */
  claim(promptTokens: number, events: HoldEvents): Claim {
    const blocks = this.blocksFor(promptTokens);
    if (blocks > this.totalBlocks) throw new TooLargeForCache(promptTokens, this.totalBlocks * this.settings().block_size);
    let hold: Hold | undefined;
    return {
      // While a growth preempts, what it frees is its own: a preempted request giving back its slot must not let
      // the queue take those blocks first.
      fits: () => !this.#quiet && this.#used + blocks <= this.totalBlocks,
      take: () => {
        hold = new Hold(this, events, this.#order++);
        if (events.preempt) this.#preemptible.add(hold);
        hold.take(blocks);
      },
      get hold() {
        return hold;
      },
    };
  }

  /**
   * Gives `asking` `need` more blocks: when they are not free, preempts the newest preemptible requests
   * (perhaps `asking` itself: then false) if enable_preemption is on, else lets the cache run over.
   */
  grow(asking: Hold, need: number): boolean {
    const total = this.totalBlocks;
    let granted = true;
    if (this.#used + need > total && this.settings().enable_preemption) {
      // The blocks freed here are for `asking`: the queue hears of what is left only once it has them.
      this.#quiet = true;
      try {
        while (this.#used + need > total) {
          const victim = this.#newest();
          if (!victim) break;
          this.#preemptions++;
          victim.release();
          victim.events.preempt!();
          if (victim === asking) {
            granted = false;
            break;
          }
        }
      } finally {
        this.#quiet = false;
      }
    }
    if (granted) asking.take(asking.blocks + need);
    if (this.#freed) {
      this.#freed = false;
      this.onFree();
    }
    return granted;
  }

  /** Called by a hold's release. */
  left(hold: Hold): void {
    this.#preemptible.delete(hold);
  }

  used(delta: number): void {
    this.#used += delta;
    if (delta >= 0) return;
    if (this.#quiet) this.#freed = true;
    else this.onFree();
  }

  #newest(): Hold | undefined {
    let last: Hold | undefined;
    for (const h of this.#preemptible) last = h;
    return last;
  }
}

// A small least-recently-used cache over Map's insertion order. Benchmarks send the same prompts again and
// again; tokenizing each once keeps the per-request cost near the floor.
export class Lru<K, V> {
  readonly #map = new Map<K, V>();
  #weight = 0;

  /**
   * @param maxEntries entries kept at most
   * @param maxWeight total weight kept at most (for example, tokens held)
   * @param weigh the weight of one value
   */
  constructor(
    private readonly maxEntries: number,
    private readonly maxWeight: number = Infinity,
    private readonly weigh: (v: V) => number = () => 1,
  ) {}

  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      // Move to the young end.
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  set(key: K, value: V): void {
    const w = this.weigh(value);
    if (w > this.maxWeight) return;
    const old = this.#map.get(key);
    if (old !== undefined) {
      this.#weight -= this.weigh(old);
      this.#map.delete(key);
    }
    this.#map.set(key, value);
    this.#weight += w;
    for (const [k, v] of this.#map) {
      if (this.#map.size <= this.maxEntries && this.#weight <= this.maxWeight) break;
      this.#map.delete(k);
      this.#weight -= this.weigh(v);
    }
  }

  get size(): number {
    return this.#map.size;
  }
}

/**
 * A bounded cache whose hits cost one Map lookup: entries live in a young and an old generation; when the
 * young one fills, it becomes the old one and the old one is dropped. An entry found only in the old
 * generation moves back to the young one, so what is in use stays. Between maxEntries/2 and maxEntries are kept.
 * For caches hit many times per request (the pieces of every prompt), where Lru's reordering on each hit costs
 * as much as the work it saves.
 */
export class Generations<K, V> {
  #young = new Map<K, V>();
  #old = new Map<K, V>();

  constructor(private readonly maxEntries: number) {}

  get(key: K): V | undefined {
    const v = this.#young.get(key);
    if (v !== undefined) return v;
    const aged = this.#old.get(key);
    if (aged !== undefined) this.set(key, aged);
    return aged;
  }

  set(key: K, value: V): void {
    if (this.#young.size >= this.maxEntries / 2) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, value);
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }
}

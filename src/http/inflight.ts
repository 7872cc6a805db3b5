// The inference requests in flight, so a graceful shutdown can wait for them and end the stragglers.

export class InFlight {
  readonly #ends = new Set<() => void>();
  #drained: (() => void) | undefined;

  /** Registers a request; `end` finishes it at once when the shutdown's patience runs out. Returns the removal. */
  add(end: () => void): () => void {
    this.#ends.add(end);
    return () => {
      this.#ends.delete(end);
      if (this.#ends.size === 0) this.#drained?.();
    };
  }

  get size(): number {
    return this.#ends.size;
  }

  /** Resolves when no request is in flight, or after `ms`, whichever comes first; true if they all finished. */
  settle(ms: number): Promise<boolean> {
    if (this.#ends.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.#drained = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  /** Ends every request still in flight. */
  endAll(): void {
    for (const end of [...this.#ends]) end();
  }
}

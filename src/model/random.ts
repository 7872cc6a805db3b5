// Seeded randomness for jitter and faults. Each request draws from its own generator, seeded from the
// server's seed and the request's arrival number, so a run with a seed repeats whatever the interleaving.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
}

/** SplitMix32: small, fast, and good enough for latency jitter and fault shares. */
export function seeded(seed: number): Random {
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      z ^= z >>> 16;
      return (z >>> 0) / 4294967296;
    },
  };
}

/** The generator of request number `sequence`: reproducible with a seed, fresh without one. */
export function requestRandom(seed: number | null, sequence: number): Random {
  if (seed === null) return seeded((Math.random() * 4294967296) >>> 0);
  // Mix the two so neighbouring requests do not get neighbouring streams.
  return seeded(Math.imul(seed ^ 0x5bd1e995, 0x01000193) ^ Math.imul(sequence + 1, 0x9e3779b1));
}

/** A standard normal draw (Box-Muller). */
export function standardNormal(r: Random): number {
  let u = r.next();
  while (u === 0) u = r.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.next());
}

export type Distribution = 'normal' | 'lognormal';

/**
 * A draw with the given mean and standard deviation, never below zero. The lognormal keeps the mean and
 * standard deviation of the normal but has a long right tail, as real latencies do.
 */
export function jittered(r: Random, mean: number, stddev: number, shape: Distribution): number {
  if (stddev <= 0) return mean;
  if (shape === 'lognormal' && mean > 0) {
    const sigma2 = Math.log(1 + (stddev * stddev) / (mean * mean));
    const mu = Math.log(mean) - sigma2 / 2;
    return Math.exp(mu + Math.sqrt(sigma2) * standardNormal(r));
  }
  return Math.max(0, mean + stddev * standardNormal(r));
}

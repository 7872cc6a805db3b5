// Statistical bounds for tests on seeded samples. Every bound is 6 standard errors wide: a correct
// implementation falls outside with probability about 2e-9, and with a fixed seed the result is the same
// on every run anyway.
import assert from 'node:assert/strict';

export const Z = 6;

export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

export const stddev = (xs: readonly number[]): number => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};

/** Asserts that `got` is within Z standard errors `se` of `want`. */
export function near(got: number, want: number, se: number, what: string): void {
  assert.ok(Math.abs(got - want) <= Z * se, `${what}: ${got} is not within ${Z} x ${se.toPrecision(3)} of ${want}`);
}

/** Asserts that a count of successes in `n` trials of probability `p` is within Z sigma of n p. */
export function binomialNear(count: number, n: number, p: number, what: string): void {
  near(count, n * p, Math.sqrt(n * p * (1 - p)), `${what} (${count} of ${n}, expected share ${p})`);
}

// Rates over a sliding window, from totals read at scrape time: a page remembers (time, totals) at each
// scrape and divides the change since the last one at least a window old. Nothing runs between scrapes and
// the per-token path pays nothing; with scrapes further apart than the window, the rate is over the gap.

interface Sample {
  /** performance.now() */
  t: number;
  busy: number;
  /** Tokens sent so far, by model. */
  tokens: ReadonlyMap<string, number>;
}

export interface WindowRates {
  /** Mean GPU load over the window, 0 to 1 (the change of the busy-seconds integral per second). */
  load: number;
  /** Tokens sent per second over the window, by model. */
  tokensPerSecond: Map<string, number>;
}

/** The longest window kept (dcgm_window_sec's maximum). */
const KEEP_MS = 60_000;

export class RateWindow {
  readonly #samples: Sample[];

  /** `start`: when counting began (all totals were 0). */
  constructor(start: number) {
    this.#samples = [{ t: start, busy: 0, tokens: new Map() }];
  }

  /** Records the totals now and returns the rates over the last `windowSec` seconds. */
  observe(busy: number, tokens: ReadonlyMap<string, number>, windowSec: number, now = performance.now()): WindowRates {
    const s = this.#samples;
    const from = now - windowSec * 1000;
    // The newest sample at least a window old; the oldest if none is (the first scrapes after start).
    let ref = s[0]!;
    for (const x of s) if (x.t <= from) ref = x;
    const dt = (now - ref.t) / 1000;
    const tokensPerSecond = new Map<string, number>();
    for (const [model, n] of tokens) tokensPerSecond.set(model, dt > 0 ? Math.max(0, (n - (ref.tokens.get(model) ?? 0)) / dt) : 0);
    const rates = { load: dt > 0 ? clamp01((busy - ref.busy) / dt) : 0, tokensPerSecond };
    s.push({ t: now, busy, tokens });
    // Drop what no window can reach: everything before the newest sample older than the longest window.
    let keepFrom = 0;
    for (let i = 0; i < s.length; i++) if (s[i]!.t <= now - KEEP_MS) keepFrom = i;
    if (keepFrom > 0) s.splice(0, keepFrom);
    return rates;
  }
}

const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);

// Anthropic's prompt caching, simulated: which tokens of a prompt are read from a cache of earlier prompts'
// prefixes, which are written to it, and which are plain input. The cache holds only hashes and expiry times,
// so its memory is bounded by its entry count whatever the prompts' sizes.
//
// The rule follows Anthropic's documentation of cache breakpoints:
// - each `cache_control` marks a breakpoint; the prefix up to it (the rendered prompt through that block) is
//   cacheable when it holds at least the model's minimum of tokens;
// - a request reads the longest prefix, among its cacheable breakpoints, that an earlier request wrote and
//   whose time to live has not run out; it writes every cacheable prefix beyond that one, and each use of an
//   entry (read or write) starts its time to live again;
// - input_tokens is what is left: the tokens after the last cacheable breakpoint (and all of them without one).
import { createHash } from 'node:crypto';
import { Lru } from './lru.js';

export type CacheTtl = '5m' | '1h';

const TTL_MS: Readonly<Record<CacheTtl, number>> = { '5m': 5 * 60_000, '1h': 60 * 60_000 };

/** Prefixes remembered per server process at most; the least recently used go first. */
export const PROMPT_CACHE_ENTRIES = 4096;

/**
 * The fewest tokens a cacheable prefix holds, as Anthropic documents it per model: 4,096 for Claude Opus 4.5
 * and Haiku 4.5, 2,048 for the older Haiku models, 1,024 for the others (Sonnet, Opus, and any other name).
 */
export function minCacheableTokens(model: string): number {
  if (/opus-4-5|haiku-4-5/i.test(model)) return 4096;
  if (/haiku/i.test(model)) return 2048;
  return 1024;
}

/** One cache breakpoint: the prefix's text (what identifies it), its token count and its time to live. */
export interface Breakpoint {
  readonly prefix: string;
  readonly tokens: number;
  readonly ttl: CacheTtl;
}

export interface CacheUse {
  readonly read: number;
  readonly created5m: number;
  readonly created1h: number;
}

export const NO_CACHE_USE: CacheUse = { read: 0, created5m: 0, created1h: 0 };

export class PromptCache {
  /** Hash of model and prefix → when the entry expires (ms since the epoch). */
  readonly #entries = new Lru<string, number>(PROMPT_CACHE_ENTRIES);

  /** Reads and writes the prefixes of one request's breakpoints at `now`; what its usage reports. */
  use(model: string, breakpoints: readonly Breakpoint[], now = Date.now()): CacheUse {
    const min = minCacheableTokens(model);
    const cacheable = breakpoints.filter((b) => b.tokens >= min).sort((a, b) => a.tokens - b.tokens);
    if (cacheable.length === 0) return NO_CACHE_USE;
    const keys = cacheable.map((b) => keyOf(model, b.prefix));
    let read = 0;
    for (const [i, b] of cacheable.entries()) {
      const expires = this.#entries.get(keys[i]!);
      if (expires !== undefined && expires > now) read = Math.max(read, b.tokens);
    }
    let created5m = 0;
    let created1h = 0;
    let covered = read;
    for (const [i, b] of cacheable.entries()) {
      this.#entries.set(keys[i]!, now + TTL_MS[b.ttl]);
      if (b.tokens <= covered) continue;
      // The tokens between the previous cached point and this breakpoint are written with its time to live.
      if (b.ttl === '1h') created1h += b.tokens - covered;
      else created5m += b.tokens - covered;
      covered = b.tokens;
    }
    return { read, created5m, created1h };
  }
}

/**
 * A cache use seen together with the engine's prefix cache (enable_prefix_caching): its `hit` tokens from the
 * prompt's start are reads too. Tokens it would write that the hit already holds are read, not written; the
 * writes nearest the start are the 1-hour ones (Anthropic requires longer times to live before shorter ones).
 */
export function withPrefixHit(use: CacheUse, hit: number): CacheUse {
  if (hit <= use.read) return use;
  let covered = Math.min(hit, use.read + use.created1h + use.created5m) - use.read;
  const created1h = use.created1h - Math.min(use.created1h, covered);
  covered -= use.created1h - created1h;
  return { read: hit, created1h, created5m: use.created5m - covered };
}

function keyOf(model: string, prefix: string): string {
  return createHash('sha256').update(model).update('\u0000').update(prefix).digest('base64');
}

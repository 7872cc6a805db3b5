// Prefix caching (enable_prefix_caching), as vLLM's automatic prefix caching sees a prompt: its token ids cut
// into full blocks of block_size, each block named by a hash chained on its parent's (so a block's name stands
// for every token before it too). The hash is a fast non-cryptographic one, as vLLM's `xxhash` option is
// (its default is SHA-256): the names are only compared, never shown, and SHA-256 per block cost as much as
// encoding the prompt. Blocks stay cached after their request ends, the least recently used evicted beyond
// floor(kv_cache_tokens / block_size) blocks. A prompt's hit is its longest run of cached
// blocks from the start, within its first prompt − 1 tokens (the last token is always computed, as in vLLM).
import type { Settings } from '../types.js';

export type PrefixSettings = Pick<Settings, 'kv_cache_tokens' | 'block_size'>;

export class PrefixCache {
  /** Block names, least recently used first (a Map keeps insertion order; a use moves a block to the end). */
  readonly #blocks = new Map<number, true>();

  constructor(private readonly settings: () => Readonly<PrefixSettings>) {}

  get size(): number {
    return this.#blocks.size;
  }

  /**
   * The prompt's cached tokens (a multiple of block_size); its full blocks are cached from now on. `root`
   * names what the ids mean (the model: another tokenizer's ids are another prompt).
   */
  lookup(root: string, ids: readonly number[]): number {
    const { block_size: size, kv_cache_tokens } = this.settings();
    const capacity = Math.floor(kv_cache_tokens / size);
    const full = Math.floor(ids.length / size);
    const hittable = Math.floor(Math.max(0, ids.length - 1) / size);
    // Two 32-bit lanes, each chained from the parent block's: a block's name stands for every token before it.
    let a = 0x811c9dc5;
    let b = 0x2545f491;
    for (let i = 0; i < root.length; i++) {
      a = Math.imul(a ^ root.charCodeAt(i), 0x01000193);
      b = Math.imul(b ^ root.charCodeAt(i), 0x5bd1e995);
    }
    let hits = 0;
    let run = true;
    for (let k = 0; k < full; k++) {
      for (let i = k * size, end = i + size; i < end; i++) {
        const id = ids[i]!;
        a = Math.imul((a ^ id) >>> 0, 0x9e3779b1);
        a = (a << 13) | (a >>> 19);
        b = Math.imul((b ^ id) >>> 0, 0x85ebca77);
        b = (b << 17) | (b >>> 15);
      }
      a = mix(a);
      b = mix(b ^ a);
      // 53 bits of the two lanes: a number key (no string to build); blocks held are far too few to collide.
      const key = (a >>> 0) * 0x200000 + (b >>> 11);
      const known = this.#blocks.delete(key);
      if (run && known && k < hittable) hits++;
      else run = false;
      this.#blocks.set(key, true);
    }
    for (const key of this.#blocks.keys()) {
      if (this.#blocks.size <= capacity) break;
      this.#blocks.delete(key);
    }
    return hits * size;
  }
}

/** MurmurHash3's finalizer: every input bit reaches every output bit. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

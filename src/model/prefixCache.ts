// Prefix caching (enable_prefix_caching), as vLLM's automatic prefix caching sees a prompt: its token ids cut
// into full blocks of block_size, each block named by a hash chained on its parent's (so a block's name stands
// for every token before it too). Blocks stay cached after their request ends, the least recently used
// evicted beyond floor(kv_cache_tokens / block_size) blocks. A prompt's hit is its longest run of cached
// blocks from the start, within its first prompt − 1 tokens (the last token is always computed, as in vLLM).
import { createHash } from 'node:crypto';
import type { Settings } from '../types.js';

export type PrefixSettings = Pick<Settings, 'kv_cache_tokens' | 'block_size'>;

export class PrefixCache {
  /** Block hashes, least recently used first (a Map keeps insertion order; a use moves a block to the end). */
  readonly #blocks = new Map<string, true>();

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
    let parent = createHash('sha256').update(root).digest();
    let hits = 0;
    let run = true;
    for (let b = 0; b < full; b++) {
      const block = Int32Array.from(ids.slice(b * size, (b + 1) * size));
      parent = createHash('sha256').update(parent).update(new Uint8Array(block.buffer)).digest();
      const key = parent.toString('base64');
      const known = this.#blocks.delete(key);
      if (run && known && b < hittable) hits++;
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

// Token counts of prompts by their sections. A piece-encoded text is cut at its added tokens before anything
// looks across the cuts (src/model/pieceEncoder.ts, Parts), so its count is the sum of its sections' counts.
// A chat prompt's sections are its turns between the template's special tokens: a history sent again, a
// shared system prompt and the template's own text are counted once and then cost a lookup.
import { Lru } from './lru.js';
import type { Encode, Parts } from './pieceEncoder.js';

/** A count kept, with the length of the text it counts (what the cache weighs). */
interface Kept {
  tokens: number;
  chars: number;
}

/** Sections kept at most, and their characters in all (16M characters: 32 MB of keys). */
const MAX_SECTIONS = 16_384;
const MAX_CHARS = 16_000_000;

export class SectionCounter {
  readonly #counts = new Lru<string, Kept>(MAX_SECTIONS, MAX_CHARS, (k) => k.chars);

  constructor(
    private readonly parts: Parts,
    private readonly encode: Encode,
  ) {}

  /** Tokens of a text: exactly encode(text).length. */
  count(text: string): number {
    let n = 0;
    this.parts(text, (part, addedId) => {
      n += addedId !== undefined ? 1 : this.#section(part);
    });
    return n;
  }

  #section(text: string): number {
    const hit = this.#counts.get(text);
    if (hit !== undefined) return hit.tokens;
    const tokens = this.encode(text).length;
    this.#counts.set(text, { tokens, chars: text.length });
    return tokens;
  }
}

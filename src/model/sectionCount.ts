// Token counts and ids of prompts by their sections. A piece-encoded text is cut at its added tokens before
// anything looks across the cuts (src/model/pieceEncoder.ts, Parts), so its ids are its sections' ids end to end.
// A chat prompt's sections are its turns between the template's special tokens: a history sent again, a
// shared system prompt and the template's own text are encoded once and then cost a lookup.
import { Lru } from './lru.js';
import type { Encode, Parts } from './pieceEncoder.js';

/** A section's ids, kept with the length of its text (what the cache weighs). */
interface Kept {
  ids: Uint32Array;
  chars: number;
}

/** Sections kept at most, and their characters in all (16M characters: 32 MB of keys, ~16 MB of ids). */
const MAX_SECTIONS = 16_384;
const MAX_CHARS = 16_000_000;

export class SectionCounter {
  readonly #sections = new Lru<string, Kept>(MAX_SECTIONS, MAX_CHARS, (k) => k.chars);

  constructor(
    private readonly parts: Parts,
    private readonly encode: Encode,
  ) {}

  /** Tokens of a text: exactly encode(text).length. */
  count(text: string): number {
    let n = 0;
    this.parts(text, (part, addedId) => {
      n += addedId !== undefined ? 1 : this.#section(part).length;
    });
    return n;
  }

  /** Ids of a text: exactly encode(text). */
  ids(text: string): number[] {
    const out: number[] = [];
    this.parts(text, (part, addedId) => {
      if (addedId !== undefined) out.push(addedId);
      else for (const id of this.#section(part)) out.push(id);
    });
    return out;
  }

  #section(text: string): Uint32Array {
    const hit = this.#sections.get(text);
    if (hit !== undefined) return hit.ids;
    const ids = Uint32Array.from(this.encode(text));
    this.#sections.set(text, { ids, chars: text.length });
    return ids;
  }
}

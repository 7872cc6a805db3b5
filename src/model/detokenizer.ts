// Incremental detokenization. Each token id maps to a fixed byte string (byte-level BPE, or SentencePiece
// with byte fallback), so a stream's text is the UTF-8 decoding of those bytes laid end to end. Decoding
// token by token must not split a character: a delta carries only whole characters, and the token that
// completes a character carries it. The cost per token is a table lookup, whatever the stream's length.
import type { Tokenizer } from '@huggingface/tokenizers';

/** GPT-2's map from bytes to printable characters, inverted: character code → byte. */
function byteLevelDecodeTable(): Map<number, number> {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table = new Map<number, number>();
  for (const b of printable) table.set(b, b);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (!table.has(b)) table.set(256 + extra++, b);
  }
  return table;
}

interface DecoderConfig {
  type?: string;
  decoders?: DecoderConfig[];
}

function usesByteLevel(decoder: DecoderConfig | null | undefined): boolean {
  if (!decoder) return false;
  if (decoder.type === 'ByteLevel') return true;
  return (decoder.decoders ?? []).some(usesByteLevel);
}

const utf8 = new TextEncoder();
const BYTE_FALLBACK = /^<0x([0-9A-Fa-f]{2})>$/;

/** Length of the UTF-8 prefix of `bytes` that holds only whole characters. */
function completePrefix(bytes: Uint8Array, length: number): number {
  // Walk back over at most 3 continuation bytes to the last lead byte.
  for (let i = length - 1, seen = 0; i >= 0 && seen < 4; i--, seen++) {
    const b = bytes[i]!;
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return i + need <= length ? length : i;
  }
  return length;
}

/** Per tokenizer: token id → its bytes, and → its text when those bytes are whole characters. */
export interface TokenPieces {
  /** Whether the vocabulary has this id (token-id prompts come from clients and are checked with it). */
  has(id: number): boolean;
  bytes(id: number): Uint8Array;
  /** The token's text if its bytes are whole characters by themselves, else null. */
  text(id: number): string | null;
  /** text(id) as a JSON string literal, or null. */
  json(id: number): string | null;
}

/** The pieces of a tokenizer.json vocabulary, computed once per id. */
export class VocabularyPieces implements TokenPieces {
  // Dense from the start (see denseTable): ids arrive in any order, and an array written at scattered indexes
  // falls back to a dictionary, whose lookups cost ten times an element load on every token of every stream.
  readonly #bytes: Array<Uint8Array | undefined> = denseTable(VOCABULARY_SPAN);
  // undefined: not computed yet; null: the bytes end or begin inside a character.
  readonly #text: Array<string | null | undefined> = denseTable(VOCABULARY_SPAN);
  // The same texts as JSON string literals, so a frame is filled without escaping per token.
  readonly #json: Array<string | null | undefined> = denseTable(VOCABULARY_SPAN);
  readonly #byteLevel: boolean;
  readonly #unicodeToByte: Map<number, number> | undefined;
  readonly #added: Map<number, string>;

  constructor(
    private readonly tokenizer: Tokenizer,
    tokenizerJson: unknown,
  ) {
    const json = tokenizerJson as { decoder?: DecoderConfig | null; added_tokens?: Array<{ id: number; content: string }> };
    this.#byteLevel = usesByteLevel(json.decoder);
    this.#unicodeToByte = this.#byteLevel ? byteLevelDecodeTable() : undefined;
    // Added tokens are stored as their literal text, never byte-mapped.
    this.#added = new Map((json.added_tokens ?? []).map((t) => [t.id, t.content]));
  }

  /**
   * Whether the vocabulary has this id. Token-id prompts come from clients: an id outside the vocabulary
   * must be refused before bytes() caches anything for it (an array index of 1e9 would make the cache sparse).
   */
  has(id: number): boolean {
    if (!Number.isSafeInteger(id) || id < 0) return false;
    return this.#bytes[id] !== undefined || this.#added.has(id) || this.tokenizer.id_to_token(id) !== undefined;
  }

  bytes(id: number): Uint8Array {
    let b = this.#bytes[id];
    if (b === undefined) {
      b = this.#computeBytes(id);
      if (id >= this.#bytes.length) this.#grow(id);
      this.#bytes[id] = b;
    }
    return b;
  }

  /** The token's text if its bytes are whole characters by themselves, else null. */
  text(id: number): string | null {
    let t = this.#text[id];
    if (t === undefined) {
      const b = this.bytes(id);
      const whole = b.length === 0 || ((b[0]! & 0xc0) !== 0x80 && completePrefix(b, b.length) === b.length);
      t = whole ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8') : null;
      this.#text[id] = t;
    }
    return t;
  }

  /** text(id) as a JSON string literal, or null. */
  json(id: number): string | null {
    let j = this.#json[id];
    if (j === undefined) {
      const t = this.text(id);
      j = t === null ? null : JSON.stringify(t);
      this.#json[id] = j;
    }
    return j;
  }

  /** Room for `id` in every table, still dense (a vocabulary larger than VOCABULARY_SPAN). */
  #grow(id: number): void {
    const length = Math.max(id + 1, this.#bytes.length * 2);
    for (const table of [this.#bytes, this.#text, this.#json] as unknown[][]) {
      const from = table.length;
      table.length = length;
      table.fill(undefined, from);
    }
  }

  #computeBytes(id: number): Uint8Array {
    const added = this.#added.get(id);
    // Byte-level decoders leave added tokens as they are; the SentencePiece decoder chain runs over every token,
    // added ones included (Gemma's whitespace-run tokens "▁▁", "▁▁▁"… are added tokens).
    if (added !== undefined && this.#byteLevel) return utf8.encode(added);
    const token = added ?? this.tokenizer.id_to_token(id);
    if (token === undefined) return new Uint8Array(0);
    if (this.#byteLevel) {
      const out = new Uint8Array(token.length);
      let n = 0;
      for (const ch of token) {
        const b = this.#unicodeToByte!.get(ch.codePointAt(0)!);
        if (b === undefined) return utf8.encode(token); // not a byte-level piece: take it as text
        out[n++] = b;
      }
      return out.subarray(0, n);
    }
    const fallback = BYTE_FALLBACK.exec(token);
    if (fallback) return Uint8Array.of(parseInt(fallback[1]!, 16));
    // SentencePiece marks a space with U+2581.
    return utf8.encode(token.replaceAll('\u2581', ' '));
  }
}

/** Ids below this fit the tables without growing: Qwen3's (to 151,668), Llama 3's, DeepSeek V3's; Gemma 3's grows once. */
const VOCABULARY_SPAN = 1 << 18;

/** An array of `length` undefined elements that V8 keeps as a packed array (never a dictionary). */
function denseTable<T>(length: number): Array<T | undefined> {
  return new Array<T | undefined>(length).fill(undefined);
}

/** One stream's decoder: push token ids, get the text each one completes. */
export class IncrementalDecoder {
  #pending = new Uint8Array(64);
  #pendingLength = 0;

  constructor(private readonly pieces: TokenPieces) {}

  push(id: number): string {
    if (this.#pendingLength === 0) {
      const whole = this.pieces.text(id);
      if (whole !== null) return whole;
    }
    const b = this.pieces.bytes(id);
    const need = this.#pendingLength + b.length;
    if (need > this.#pending.length) {
      const grown = new Uint8Array(Math.max(need, this.#pending.length * 2));
      grown.set(this.#pending.subarray(0, this.#pendingLength));
      this.#pending = grown;
    }
    this.#pending.set(b, this.#pendingLength);
    this.#pendingLength = need;
    const cut = completePrefix(this.#pending, need);
    if (cut === 0) return '';
    const text = Buffer.from(this.#pending.buffer, 0, cut).toString('utf8');
    this.#pending.copyWithin(0, cut, need);
    this.#pendingLength = need - cut;
    return text;
  }

  /** push(id) as a JSON string literal; the common case is a table lookup. */
  pushJson(id: number): string {
    if (this.#pendingLength === 0) {
      const whole = this.pieces.json(id);
      if (whole !== null) return whole;
    }
    return JSON.stringify(this.push(id));
  }

  /** Bytes still waiting for the rest of their character (dropped at the end of a stream cut mid-character). */
  get pendingBytes(): number {
    return this.#pendingLength;
  }
}

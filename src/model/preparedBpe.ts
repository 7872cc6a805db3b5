// A byte-pair-encoding tokenizer's tables in a prepared form that is cheap to load. Building
// @huggingface/tokenizers' BPE model from tokenizer.json is the bulk of the server's start-up: a Map from
// the vocabulary object (Object.entries over 150k+ keys), and a Map of merge ranks keyed by
// JSON.stringify([left, right]) for every merge. The prepared form keeps the vocabulary as an array in id
// order and the merge ranks as an open-addressing table of (left id, right id) → rank in one Int32Array,
// which a file can hold as it is (see tableCache.ts). The Tokenizer is then built with an empty vocabulary,
// and its model is given these tables; `add_node`, the one method that reads the ranks, looks them up here.
// Same ids as the library's own construction: test/tokenizer-tables.test.ts compares every table and rank.
import { Tokenizer } from '@huggingface/tokenizers';

/** tokenizer.json without the model's vocabulary and merges. */
export interface TokenizerJsonRest {
  model: Record<string, unknown>;
  added_tokens?: Array<{ id: number; content: string }>;
  [key: string]: unknown;
}

export interface PreparedBpe {
  rest: TokenizerJsonRest;
  /** Token text by id, 0 … n−1 without gaps. */
  vocab: string[];
  /** (left id, right id, rank) per slot; left −1 marks an empty slot; the slot count is a power of two. */
  pairs: Int32Array;
  /** Merges with a side outside the vocabulary, by the library's own key: rare, usually none. */
  odd: Array<[string, number]>;
  /** The vocabulary's Map, when preparing has just built it (saves building it twice on a first start). */
  ids?: Map<string, number>;
}

const EMPTY = -1;

function slotOf(a: number, b: number, mask: number): number {
  let h = Math.imul(a ^ Math.imul(b, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  return h & mask;
}

function vocabIds(vocab: string[]): Map<string, number> {
  const ids = new Map<string, number>();
  for (let i = 0; i < vocab.length; i++) ids.set(vocab[i]!, i);
  return ids;
}

/**
 * The prepared form of a parsed tokenizer.json, or undefined when it is not a BPE model whose vocabulary is
 * ids 0 … n−1 each once (then the library builds it the slow way, with its own errors).
 */
export function prepareBpe(json: unknown): PreparedBpe | undefined {
  if (!json || typeof json !== 'object') return undefined;
  const { model, ...others } = json as { model?: unknown };
  if (!model || typeof model !== 'object') return undefined;
  const { vocab: vocabObject, merges, ...modelRest } = model as { vocab?: unknown; merges?: unknown; type?: unknown };
  if (modelRest.type !== 'BPE' || !vocabObject || typeof vocabObject !== 'object' || Array.isArray(vocabObject) || !Array.isArray(merges)) return undefined;

  const entries = Object.entries(vocabObject as Record<string, unknown>);
  const vocab = new Array<string>(entries.length);
  let filled = 0;
  for (const [token, id] of entries) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= entries.length || vocab[id] !== undefined) return undefined;
    vocab[id] = token;
    filled++;
  }
  if (filled !== entries.length) return undefined;
  const ids = vocabIds(vocab);

  // The library reads the format from the first merge: pairs as arrays, or "left right" strings cut at the
  // first space. A merge of any other shape never matches a lookup of two strings, so it is left out.
  const arrays = Array.isArray(merges[0]);
  // At most 70 % full: a probe rarely goes past a slot or two.
  let capacity = 16;
  while (capacity * 0.7 < merges.length) capacity *= 2;
  const mask = capacity - 1;
  const pairs = new Int32Array(capacity * 3).fill(EMPTY);
  const odd = new Map<string, number>();
  for (let rank = 0; rank < merges.length; rank++) {
    const m: unknown = merges[rank];
    let pair: unknown[];
    if (arrays) {
      if (!Array.isArray(m)) continue;
      pair = m;
    } else {
      if (typeof m !== 'string') return undefined; // the library would throw on it: let it
      pair = m.split(' ', 2);
    }
    const [left, right] = pair;
    if (pair.length !== 2 || typeof left !== 'string' || typeof right !== 'string') continue;
    const a = ids.get(left);
    const b = ids.get(right);
    if (a === undefined || b === undefined) {
      odd.set(JSON.stringify([left, right]), rank);
      continue;
    }
    // A repeated merge takes the later rank, as the library's Map does.
    for (let s = slotOf(a, b, mask); ; s = (s + 1) & mask) {
      const at = s * 3;
      if (pairs[at] === EMPTY || (pairs[at] === a && pairs[at + 1] === b)) {
        pairs[at] = a;
        pairs[at + 1] = b;
        pairs[at + 2] = rank;
        break;
      }
    }
  }
  return { rest: { ...others, model: modelRest } as TokenizerJsonRest, vocab, pairs, odd: [...odd], ids };
}

interface BpeNode {
  token: string;
  bias: number;
  score?: number;
  next: BpeNode | null;
}

/** The fields of the library's BPE model that construction sets from the vocabulary and merges. */
interface BpeTables {
  tokens_to_ids: Map<string, number>;
  vocab: string[];
  unk_token_id: number | undefined;
  merges: unknown[];
  bpe_ranks: Map<string, number>;
  add_node(queue: { push(node: BpeNode): void }, node: BpeNode): void;
  bpe(token: string): string[];
}

/**
 * A Tokenizer from the prepared form, or undefined when it cannot be built this way: an added token that
 * takes a vocabulary token's id or text (ids would no longer name one text each), or a library whose model
 * lacks the fields this relies on.
 */
export function tokenizerFromPrepared(p: PreparedBpe, config: Record<string, unknown>): Tokenizer | undefined {
  const { vocab } = p;
  const n = vocab.length;
  const added = p.rest.added_tokens ?? [];
  const ids = p.ids ?? vocabIds(vocab);
  for (const t of added) {
    const had = ids.get(t.content);
    if ((had !== undefined && had !== t.id) || (t.id < n && vocab[t.id] !== t.content)) return undefined;
  }

  const tok = new Tokenizer({ ...p.rest, model: { ...p.rest.model, vocab: {}, merges: [] } }, config);
  const model = tok.model as unknown as BpeTables | null;
  if (!model || typeof model.bpe !== 'function' || !(model.tokens_to_ids instanceof Map) || !(model.bpe_ranks instanceof Map) || typeof model.add_node !== 'function') {
    return undefined;
  }
  // What BPE's constructor, then Tokenizer's, would have set: the vocabulary, the unknown token's id (looked
  // up before the added tokens join), then each added token in order.
  const unk = (p.rest.model as { unk_token?: unknown }).unk_token;
  const table = vocab.slice();
  model.unk_token_id = typeof unk === 'string' ? ids.get(unk) : undefined;
  for (const t of added) {
    ids.set(t.content, t.id);
    table[t.id] = t.content;
  }
  model.tokens_to_ids = ids;
  model.vocab = table;
  model.merges = [];

  const { pairs } = p;
  const mask = pairs.length / 3 - 1;
  const odd = p.odd.length > 0 ? new Map(p.odd) : undefined;
  // With no added token on a vocabulary id or text, an id below n names exactly one vocabulary text.
  const rank = (left: string, right: string): number | undefined => {
    const a = ids.get(left);
    const b = ids.get(right);
    if (a !== undefined && b !== undefined && a < n && b < n) {
      for (let s = slotOf(a, b, mask); ; s = (s + 1) & mask) {
        const at = s * 3;
        const x = pairs[at]!;
        if (x === EMPTY) return undefined;
        if (x === a && pairs[at + 1] === b) return pairs[at + 2];
      }
    }
    return odd?.get(JSON.stringify([left, right]));
  };
  model.bpe_ranks = new Map();
  // The library's add_node, reading the rank from the table.
  model.add_node = (queue, node) => {
    const r = rank(node.token, node.next!.token);
    if (r !== undefined) {
      node.score = r + node.bias;
      queue.push(node);
    }
  };
  return tok;
}

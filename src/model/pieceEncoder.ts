// Exact encoding at a fraction of the library's cost. A byte-level BPE tokenizer cuts its text at its added
// tokens, normalizes the rest, splits it with its pre-tokenizer's regular expressions, and encodes each piece
// on its own: the ids of a text are the ids of its pieces laid end to end. Pieces repeat endlessly in any
// language (words, spaces, punctuation), so the ids of each piece are kept, and a text costs one pass of the
// splits plus a lookup per piece; the library's model encodes a piece only the first time it is seen.
// The steps are the library's encode_text in its own order, with its own normalizer, split expressions,
// byte-level stage and model: test/tokenizer-oracle.test.ts holds the ids to transformers.js'. A pipeline of
// another shape (SentencePiece, added tokens that strip their neighbours) is left to the library.
import type { Tokenizer } from '@huggingface/tokenizers';
import { Generations } from './lru.js';

/** What the piece encoder reads of the library's objects, typed here as the library builds them. */
interface SplitStage {
  readonly config: { type: string; behavior?: string; invert?: boolean; use_regex?: boolean };
  readonly pattern: RegExp | null;
  pre_tokenize_text(text: string): string[];
}

interface PipelineView {
  normalizer: ((text: string) => string) | null;
  pre_tokenizer: { tokenizers?: SplitStage[] } | null;
  model: ((pieces: string[]) => string[]) | null;
}

/** tokenizer.json's entry for an added token. */
export interface AddedTokenEntry {
  id: number;
  content: string;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
}

export interface PieceEncoderOptions {
  /** tokenizer.json's pre_tokenizer section. */
  preTokenizerConfig: { type?: string } | null;
  /** tokenizer.json's normalizer section, to know whether ASCII may skip it. */
  normalizerConfig: unknown;
  addedTokens: readonly AddedTokenEntry[];
  /** tokenizer_config.json: the library's own per-text rewrites, which this does not repeat. */
  config: Record<string, unknown>;
  /** Pieces kept at most. */
  maxPieces?: number;
}

export type Encode = (text: string) => readonly number[];

/**
 * Visits the parts of a text whose ids, laid end to end, are the text's ids: an added token (with its id), or
 * text between added tokens (id undefined) whose ids are exactly those of encoding it on its own.
 */
export type Parts = (text: string, visit: (part: string, addedId: number | undefined) => void) => void;

export interface PieceEncoder extends Encode {
  readonly parts: Parts;
}

/** The library's normalizers that leave ASCII as it is: the Unicode normal forms (and an empty sequence). */
const ASCII_SAFE_NORMALIZERS = new Set(['NFC', 'NFD', 'NFKC', 'NFKD']);
const ASCII = /^[\x00-\x7f]*$/;
/** Longer pieces (a run of 500 spaces, a 300-letter "word") are encoded each time rather than kept. */
const MAX_KEPT_PIECE = 64;

/**
 * An exact encoder in front of the library's, or undefined when the tokenizer's pipeline is not the shape this
 * knows to be exact for: regular-expression splits that isolate their matches, then byte-level mapping without
 * a regex of its own (Qwen, Llama 3, DeepSeek V3, GPT-style tokenizers), and added tokens that strip nothing.
 */
export function pieceEncoder(tok: Tokenizer, options: PieceEncoderOptions): PieceEncoder | undefined {
  const view = tok as unknown as PipelineView;
  // A Sequence keeps no config of its own: tokenizer.json says what it is; its stages carry theirs.
  const stages = options.preTokenizerConfig?.type === 'Sequence' ? (view.pre_tokenizer?.tokenizers ?? []) : [];
  const last = stages.at(-1);
  const splits = stages.slice(0, -1);
  const isolating = (s: SplitStage): boolean => s.config.type === 'Split' && s.pattern !== null && s.config.invert === false && s.config.behavior === 'Isolated';
  const model = view.model;
  if (!last || last.config.type !== 'ByteLevel' || last.config.use_regex !== false || splits.length === 0 || !splits.every(isolating) || !model) return undefined;
  if (options.config['remove_space'] === true || options.config['do_lowercase_and_remove_accent'] === true) return undefined;
  if (options.addedTokens.some((t) => t.lstrip === true || t.rstrip === true)) return undefined;

  const normalizer = view.normalizer;
  const n = options.normalizerConfig as { type?: string; normalizers?: unknown[] } | null;
  const identity = normalizer === null || (n?.type === 'Sequence' && (n.normalizers ?? []).length === 0);
  const asciiSafe = identity || (n?.type !== undefined && ASCII_SAFE_NORMALIZERS.has(n.type));
  const normalize = (text: string): string => (identity || (asciiSafe && ASCII.test(text)) ? text : normalizer!(text));

  // As the library does: added tokens marked `normalized` are looked for in the normalized text (under their
  // normalized form), the others in the text as typed; both forms name the token's id.
  const addedIds = new Map<string, number>();
  const typed: string[] = [];
  const normalizedForms: string[] = [];
  for (const t of options.addedTokens) {
    addedIds.set(t.content, t.id);
    if (t.normalized === true && normalizer !== null) {
      const form = normalizer(t.content);
      normalizedForms.push(form);
      addedIds.set(form, t.id);
    } else {
      typed.push(t.content);
    }
  }
  const typedTokens = longestFirst(typed);
  const normalizedTokens = longestFirst(normalizedForms);
  // Private copies of the split expressions, so that their lastIndex is this encoder's alone.
  const patterns = splits.map((s) => new RegExp(s.pattern!.source, s.pattern!.flags.includes('g') ? s.pattern!.flags : `${s.pattern!.flags}g`));
  const kept = new Generations<string, readonly number[]>(options.maxPieces ?? 200_000);
  const unk = (model as unknown as { unk_token_id?: number }).unk_token_id ?? -1;

  // The ids of one piece, as the library maps the model's tokens: added tokens first, then the vocabulary.
  const pieceIds = (piece: string): readonly number[] => {
    let ids = kept.get(piece);
    if (ids === undefined) {
      ids = model(last.pre_tokenize_text(piece)).map((t) => addedIds.get(t) ?? tok.token_to_id(t) ?? unk);
      if (piece.length <= MAX_KEPT_PIECE) kept.set(piece, ids);
    }
    return ids;
  };

  // Splits `text` by the expression of stage k, each part going to the next stage; the last stage's parts are
  // pieces. Isolated behaviour: the matches and the text between them are all parts, in order.
  const split = (text: string, k: number, out: number[]): void => {
    if (k === patterns.length) {
      const ids = pieceIds(text);
      for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
      return;
    }
    const re = patterns[k]!;
    re.lastIndex = 0;
    let prev = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const match = m[0];
      if (prev < m.index) split(text.slice(prev, m.index), k + 1, out);
      if (match.length > 0) split(match, k + 1, out);
      else re.lastIndex += re.unicode && (text.codePointAt(m.index) ?? 0) > 0xffff ? 2 : 1; // past an empty match, as matchAll steps
      prev = m.index + match.length;
    }
    if (prev < text.length) split(text.slice(prev), k + 1, out);
  };

  // A normalized section: its normalized added tokens, and the pieces between them.
  const normalizedSection = (text: string, out: number[]): void => {
    eachSection(text, normalizedTokens, (part) => {
      const id = addedIds.get(part);
      if (id !== undefined) out.push(id);
      else split(part, 0, out);
    });
  };

  // The cuts that encode makes before anything looks across them: at the added tokens typed as they are and,
  // where normalizing changes nothing, at the normalized ones too. A part between cuts holds no added token, so
  // encoding it alone cuts nowhere and gives the same ids.
  // The parts are found first and visited after: a visitor may encode, which uses the same expressions.
  const parts: Parts = (text, visit) => {
    const found: string[] = [];
    eachSection(text, typedTokens, (section) => {
      if (identity && !addedIds.has(section)) eachSection(section, normalizedTokens, (part) => found.push(part));
      else found.push(section);
    });
    for (const part of found) visit(part, addedIds.get(part));
  };

  const encode: Encode = (text) => {
    const out: number[] = [];
    eachSection(text, typedTokens, (section) => {
      // A section that is an added token's content is that token, normalized form or not (the library's check).
      const id = addedIds.get(section);
      if (id !== undefined) {
        out.push(id);
        return;
      }
      const normalized = normalize(section);
      if (normalized.length > 0) normalizedSection(normalized, out);
    });
    return out;
  };
  return Object.assign(encode, { parts });
}

/** Literal alternatives, longest first, so that a match at a position is the longest one (as a trie finds). */
function longestFirst(contents: readonly string[]): RegExp | null {
  if (contents.length === 0) return null;
  const sorted = [...contents].sort((a, b) => b.length - a.length);
  return new RegExp(sorted.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
}

/** The matches of `tokens` in a text (leftmost, longest) and the parts between them, in order. */
function eachSection(text: string, tokens: RegExp | null, visit: (part: string) => void): void {
  if (text.length === 0) return;
  if (tokens === null) {
    visit(text);
    return;
  }
  tokens.lastIndex = 0;
  let prev = 0;
  for (let m = tokens.exec(text); m !== null; m = tokens.exec(text)) {
    if (prev < m.index) visit(text.slice(prev, m.index));
    visit(m[0]);
    prev = m.index + m[0].length;
  }
  if (prev < text.length) visit(text.slice(prev));
}

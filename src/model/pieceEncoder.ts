// Exact encoding at a fraction of the library's cost. A byte-level BPE tokenizer splits its (normalized) text
// with its pre-tokenizer's regular expressions, then encodes each piece on its own: the ids of a text are the
// ids of its pieces laid end to end. Pieces repeat endlessly in any language (words, spaces, punctuation), so
// the ids of each piece are kept, and a text costs one pass of the split plus a lookup per piece; the library
// encodes a piece only the first time it is seen. The split, the normalizer and the piece encoding are the
// library's own objects, so the ids are the library's (test/tokenizer-oracle.test.ts holds them to
// transformers.js). Texts this cannot take exactly (an added token in them, a pre-tokenizer of another shape)
// go to the library whole.
import type { Tokenizer } from '@huggingface/tokenizers';
import { Lru } from './lru.js';

/** What the piece encoder uses of the library's objects: public members, typed here as the library builds them. */
interface SplitStage {
  readonly config: { type: string; behavior?: string; invert?: boolean };
  readonly pattern: RegExp | null;
  pre_tokenize_text(text: string): string[];
}

interface PipelineView {
  normalizer: ((text: string) => string) | null;
  pre_tokenizer: { tokenizers?: SplitStage[] } | null;
  model: ((pieces: string[]) => string[]) | null;
}

/** The library's normalizers that leave ASCII as it is: the Unicode normal forms, and an empty sequence. */
const ASCII_SAFE_NORMALIZERS = new Set(['NFC', 'NFD', 'NFKC', 'NFKD']);
const ASCII = /^[\x00-\x7f]*$/;
/** Longer pieces (a run of 500 spaces, a 300-letter "word") are encoded each time rather than kept. */
const MAX_KEPT_PIECE = 64;

export interface PieceEncoderOptions {
  /** tokenizer.json's pre_tokenizer section. */
  preTokenizerConfig: { type?: string } | null;
  /** tokenizer.json's normalizer section, to know whether ASCII may skip it. */
  normalizerConfig: unknown;
  /** Every added token's content, as typed: a text holding one goes to the library. */
  addedTokens: readonly string[];
  /** tokenizer_config.json: the library's own per-text rewrites, which this does not repeat. */
  config: Record<string, unknown>;
  /** Pieces kept at most. */
  maxPieces?: number;
}

export type Encode = (text: string) => readonly number[];

/**
 * An exact encoder in front of the library's, or undefined when the tokenizer's pipeline is not the shape this
 * knows to be exact for: a sequence of regular-expression splits that isolate their matches, then byte-level
 * mapping without a regex of its own (Qwen, Llama 3, DeepSeek V3, GPT-style tokenizers).
 */
export function pieceEncoder(tok: Tokenizer, options: PieceEncoderOptions): Encode | undefined {
  const view = tok as unknown as PipelineView;
  // A Sequence keeps no config of its own: tokenizer.json says what it is; its stages carry theirs.
  const stages = options.preTokenizerConfig?.type === 'Sequence' ? (view.pre_tokenizer?.tokenizers ?? []) : [];
  const last = stages.at(-1);
  const splits = stages.slice(0, -1);
  const byteLevel = last?.config.type === 'ByteLevel' && (last.config as { use_regex?: boolean }).use_regex === false;
  const isolating = (s: SplitStage): boolean => s.config.type === 'Split' && s.pattern !== null && s.config.invert === false && s.config.behavior === 'Isolated';
  if (!last || !byteLevel || splits.length === 0 || !splits.every(isolating) || !view.model) return undefined;
  if (options.config['remove_space'] === true || options.config['do_lowercase_and_remove_accent'] === true) return undefined;

  const model = view.model;
  const normalizer = view.normalizer;
  const normalizerType = (options.normalizerConfig as { type?: string; normalizers?: unknown[] } | null)?.type;
  const emptySequence = normalizerType === 'Sequence' && ((options.normalizerConfig as { normalizers?: unknown[] }).normalizers ?? []).length === 0;
  const asciiSafe = normalizer === null || emptySequence || (normalizerType !== undefined && ASCII_SAFE_NORMALIZERS.has(normalizerType));
  const added = options.addedTokens.length === 0 ? null : new RegExp(options.addedTokens.map(escapeRegExp).join('|'), 'u');
  // Private copies of the split expressions, so that their lastIndex is this encoder's alone.
  const patterns = splits.map((s) => new RegExp(s.pattern!.source, s.pattern!.flags.includes('g') ? s.pattern!.flags : `${s.pattern!.flags}g`));
  const kept = new Lru<string, readonly number[]>(options.maxPieces ?? 200_000);
  const library: Encode = (text) => tok.encode(text, { add_special_tokens: false }).ids;

  const pieceIds = (piece: string): readonly number[] => {
    let ids = kept.get(piece);
    if (ids === undefined) {
      const tokens = model(last.pre_tokenize_text(piece));
      const found = tokens.map((t) => tok.token_to_id(t));
      // A byte-level vocabulary has every byte, so every token has an id; were one missing, the library decides.
      ids = found.every((id) => id !== undefined) ? (found as number[]) : library(piece);
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

  return (text) => {
    if (text.length === 0) return [];
    if (added?.test(text)) return library(text);
    const normalized = normalizer === null || (asciiSafe && ASCII.test(text)) ? text : normalizer(text);
    // A normalized text may hold an added token that the raw one did not (a normalized added token).
    if (normalized !== text && added?.test(normalized)) return library(text);
    const out: number[] = [];
    split(normalized, 0, out);
    return out;
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

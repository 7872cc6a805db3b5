// From the prompt's tokens to the output plan: how many tokens, which ones, and why the output stops.
// The plan is arithmetic over the prompt's ids; nothing is materialized per token.
//
// Benchmarks count output tokens by re-tokenizing the text they receive, so the text of each field (reasoning,
// content) must re-tokenize to exactly the tokens sent. The echo alone does: it is the tokenizer's own encoding
// of a text. Care is needed where the echo is repeated or cut:
// - Between two passes the end of one pass would merge with the start of the next (`'` + `.` is one token `'.`),
//   so a `gap` token that never merges stands between them, checked for this echo with the tokenizer itself.
// - Where a field stops inside a pass, its last tokens may hold part of a character (whose bytes cannot be sent)
//   or whitespace that the tokenizer would encode differently at the end of a text ("\n" + 7 spaces + " " before
//   a digit re-tokenizes as "\n" + 8 spaces). Those last tokens are sent as as many `gap` tokens instead.
import type { FinishReason } from '../types.js';
import type { LoadedTokenizer } from './tokenizers.js';
import type { TokenPieces } from './detokenizer.js';

export interface PlanRequest {
  /** The echo: the prompt's token ids. */
  echo: readonly number[];
  /** max_completion_tokens, else max_tokens. */
  cap: number | undefined;
  ignoreEos: boolean;
  minTokens: number;
  reasoningTokens: number;
}

export interface OutputPlan {
  /** The ids repeated in order: the echo, then (when a field is longer than the echo) a separator. */
  readonly source: readonly number[];
  /** Reasoning tokens, sent first. */
  readonly reasoning: number;
  /** Content tokens, after the reasoning. */
  readonly content: number;
  /** Reasoning tokens from this index on are `gap` (see the top of this file); `reasoning` when none are. */
  readonly reasoningGapAt: number;
  /** Content tokens from this index on (counted within the content) are `gap`. */
  readonly contentGapAt: number;
  readonly gap: number;
  readonly finishReason: FinishReason;
}

export function totalTokens(plan: OutputPlan): number {
  return plan.reasoning + plan.content;
}

/**
 * Token k of the output (k from 0). Reasoning cycles the source from its start; content starts the echo
 * afresh after the reasoning, so the visible answer is still the prompt.
 */
export function tokenAt(plan: OutputPlan, k: number): number {
  const src = plan.source;
  if (k < plan.reasoning) return k < plan.reasoningGapAt ? src[k % src.length]! : plan.gap;
  const i = k - plan.reasoning;
  return i < plan.contentGapAt ? src[i % src.length]! : plan.gap;
}

export function plan(req: PlanRequest, tokenizer: LoadedTokenizer): OutputPlan {
  const natural = req.reasoningTokens + req.echo.length;
  let total = Math.max(natural, req.minTokens);
  let finishReason: FinishReason = 'stop';
  if (req.cap !== undefined) {
    if (req.ignoreEos) total = req.cap;
    if (total >= req.cap) {
      // The cap ended the output unless the echo ended on the cap exactly by itself.
      if (req.ignoreEos || total > req.cap) finishReason = 'length';
      total = req.cap;
    }
  }
  const reasoning = Math.min(req.reasoningTokens, total);
  const content = total - reasoning;
  const filler = fillerOf(tokenizer);
  // Without a prompt to repeat, a fixed passage stands in.
  const echo = req.echo.length > 0 || total === 0 ? req.echo : filler.passage;
  // A separator only when a field wraps around: an echo sent once is the prompt itself.
  const source = Math.max(reasoning, content) > echo.length ? filler.unit(echo) : echo;
  const gapAt = (length: number): number => length - filler.cutTokens(echo, source.length, length);
  return { source, reasoning, content, reasoningGapAt: gapAt(reasoning), contentGapAt: gapAt(content), gap: filler.gap ?? 0, finishReason };
}

/** A fixed passage to repeat when a length is asked of an empty prompt. */
const PASSAGE =
  'The quick brown fox jumps over the lazy dog. Benchmarks measure what they are given; ' +
  'a steady mock gives them a steady answer, one token after another, on time.';

/**
 * Whitespace that no merge of the bundled tokenizers touches (vertical tab), then fallbacks for other
 * vocabularies. Being whitespace, it leaves a run of spaces before it as the tokenizer splits that run at the
 * end of a text; never merging, it ends the tokens on both sides.
 */
const GAPS = ['\u000b', '\u000c', '\u2009', '\u3000'];
/** Texts before a gap in the check that a candidate is one: the kinds of end a text may have. */
const ENDS = ['', 'word', 'end.', "quote'", 'one ', 'two  ', 'line\n', 'indent\n  ', '12', '你好', '😀', 'tab\t'];
/** Texts after a gap in that check. */
const STARTS = ['word', ' word', '  word', '.x', "'s", '12', '你好', '\n\nx'];
/** Tokens on each side of a seam that its check re-tokenizes, for an echo too long to check whole. */
const SEAM_WINDOW = 8;

const fillers = new WeakMap<LoadedTokenizer, Filler>();

function fillerOf(tokenizer: LoadedTokenizer): Filler {
  let f = fillers.get(tokenizer);
  if (!f) {
    f = new Filler(tokenizer);
    fillers.set(tokenizer, f);
  }
  return f;
}

/** Per tokenizer: the tokens that separate passes and stand in for a cut's last tokens, checked once. */
class Filler {
  /** A whitespace token that never merges with what stands before or after it, nor with itself. */
  readonly gap: number | undefined;
  readonly passage: readonly number[];
  readonly #pieces: TokenPieces;
  readonly #units = new WeakMap<readonly number[], readonly number[]>();

  constructor(private readonly tokenizer: LoadedTokenizer) {
    this.#pieces = tokenizer.pieces;
    this.gap = undefined;
    for (const candidate of GAPS) {
      const ids = tokenizer.encode(candidate);
      if (ids.length === 1 && this.#isGap(ids[0]!)) {
        this.gap = ids[0];
        break;
      }
    }
    this.passage = tokenizer.encode(PASSAGE);
  }

  /**
   * The echo followed by the separator of its passes: the gap when the seam re-tokenizes to exactly the same
   * ids, else nothing if the passes themselves join cleanly. (Neither holds for ids that are not the
   * tokenizer's own encoding of a text, as a token-id prompt may be: then the gap.) Remembered per echo,
   * whose ids the tokenizer shares between requests for the same prompt.
   */
  unit(echo: readonly number[]): readonly number[] {
    const gap = this.gap;
    if (gap === undefined) return echo;
    let unit = this.#units.get(echo);
    if (unit) return unit;
    const plain = !this.#seamHolds(echo, [gap]) && this.#seamHolds(echo, []);
    unit = plain ? echo : [...echo, gap];
    this.#units.set(echo, unit);
    return unit;
  }

  /**
   * How many of the last tokens of a field of `length` tokens over `unitLength`-long passes of `echo`
   * must be gaps: the tokens of a character cut in two, and whitespace-only tokens that end the field
   * inside a pass (a run of whitespace is split by what follows it, and joined again at the end of a text).
   */
  cutTokens(echo: readonly number[], unitLength: number, length: number): number {
    if (this.gap === undefined || length === 0) return 0;
    const cut = length % unitLength;
    // A field that ends after a whole echo or inside the separator ends on a seam already checked.
    if (cut === 0 || cut >= echo.length) return 0;
    let keep = cut;
    while (keep > 0 && (this.#continues(echo[keep]!) || this.#isSpace(echo[keep - 1]!))) keep--;
    return cut - keep;
  }

  /** Whether a whitespace token keeps apart whatever stands beside it, one or two of it at the end of a text. */
  #isGap(id: number): boolean {
    const gap = this.#pieces.text(id);
    if (gap === null || !/^\s$/u.test(gap)) return false;
    const holds = (text: string, ids: readonly number[]): boolean => sameIds(this.tokenizer.encode(text), ids);
    return (
      ENDS.every((end) => {
        const before = this.tokenizer.encode(end);
        return holds(end + gap, [...before, id]) && holds(end + gap + gap, [...before, id, id]);
      }) && STARTS.every((start) => holds(gap + start, [id, ...this.tokenizer.encode(start)]))
    );
  }

  /** Whether passes of the echo joined by `sep` re-tokenize to exactly their ids, around the seam. */
  #seamHolds(echo: readonly number[], sep: readonly number[]): boolean {
    let ids: number[];
    if (echo.length <= 2 * SEAM_WINDOW) {
      ids = [...echo, ...sep, ...echo, ...sep, ...echo];
    } else {
      // Windows start and end between characters, so that their text decodes on its own.
      let from = echo.length - SEAM_WINDOW;
      while (from > 0 && this.#continues(echo[from]!)) from--;
      let to = SEAM_WINDOW;
      while (to < echo.length && this.#continues(echo[to]!)) to++;
      ids = [...echo.slice(from), ...sep, ...echo.slice(0, to)];
    }
    const bytes = Buffer.concat(ids.map((id) => this.#pieces.bytes(id)));
    return sameIds(this.tokenizer.encode(bytes.toString('utf8')), ids);
  }

  /** Whether the token's bytes start inside a character (the token before it holds that character's start). */
  #continues(id: number): boolean {
    const first = this.#pieces.bytes(id)[0];
    return first !== undefined && (first & 0xc0) === 0x80;
  }

  #isSpace(id: number): boolean {
    const text = this.#pieces.text(id);
    return text !== null && /^\s+$/u.test(text);
  }
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

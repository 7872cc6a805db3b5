// Where the benchmark's prompts come from. Real benchmark traffic (AIPerf's synthetic prompts, vLLM bench,
// GuideLLM) sends a prompt the server has never seen on practically every request, so a server's prompt cache
// never answers and every request pays for tokenization. This source does the same: each prompt is a passage
// of bench/corpus/ at a seeded random word offset, with a length drawn from a normal distribution given in
// tokens, and no (offset, length) pair is drawn twice in one source. A multi-turn conversation sends its
// history again with every new user turn, as chat clients do. The fixed source keeps the old single prompt,
// the cache-hit case.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { seeded, standardNormal, type Random } from '../src/model/random.js';
import { DEFAULT_PROMPT } from './common.js';

/**
 * Words of the corpus per Qwen3 token, measured once with the real Qwen3-0.6B tokenizer
 * (`node dist/bench/corpus-stats.js`, 2026-11-30): the whole corpus, speech by speech, is 54,340 words in
 * 60,907 tokens (0.892); 258 passages of 100 words cut as the benchmark cuts them average 112.4 tokens
 * (0.890), which is the figure used.
 */
export const WORDS_PER_TOKEN = 0.89;

export const CORPUS_FILE = fileURLToPath(new URL('../../bench/corpus/shakespeare-prose.txt', import.meta.url));

/** A length in tokens: the mean and standard deviation of a normal draw (never below one word). */
export interface TokenLength {
  mean: number;
  stddev: number;
}

/** What a load run sends: passages of the corpus, or (without `isl`) the one fixed prompt. */
export interface PromptSpec {
  seed: number;
  /** The length of each user turn. */
  isl: TokenLength;
  /** Requests per conversation: each repeats the history and adds a user turn. Default 1 (single-turn). */
  turns?: number;
  /** Multi-turn: the length of each assistant turn that stands for the previous answer. Default `isl`. */
  answer?: TokenLength;
}

export interface Message {
  role: 'user' | 'assistant';
  content: string;
}

let corpusWords: readonly string[] | undefined;

/** The corpus as words (read once per process). */
export function corpus(): readonly string[] {
  corpusWords ??= readFileSync(CORPUS_FILE, 'utf8').split(/\s+/).filter((w) => w.length > 0);
  return corpusWords;
}

/** Words that stand for `tokens` tokens of the corpus. */
export function wordsFor(tokens: number): number {
  return Math.max(1, Math.round(tokens * WORDS_PER_TOKEN));
}

/** One conversation: user turns and the assistant turns between them, all drawn when it begins. */
export class Conversation {
  #sent = 0;

  constructor(
    private readonly users: readonly string[],
    private readonly answers: readonly string[],
  ) {}

  /** The next request's messages: the history so far and a new user turn; undefined when it is over. */
  next(): Message[] | undefined {
    const k = this.#sent;
    if (k >= this.users.length) return undefined;
    this.#sent++;
    const messages: Message[] = [];
    for (let i = 0; i < k; i++) {
      messages.push({ role: 'user', content: this.users[i]! });
      messages.push({ role: 'assistant', content: this.answers[i]! });
    }
    messages.push({ role: 'user', content: this.users[k]! });
    return messages;
  }
}

export interface PromptSource {
  /** A new conversation (one request long unless the spec asks for turns). */
  conversation(): Conversation;
  /** Passages drawn so far, each at an (offset, length) no other passage of this source has. */
  readonly passages: number;
  readonly kind: 'corpus' | 'fixed';
}

/** Passages of the corpus, never the same (offset, length) twice. */
export class CorpusPrompts implements PromptSource {
  readonly kind = 'corpus';
  readonly #words = corpus();
  readonly #random: Random;
  readonly #drawn = new Set<number>();
  readonly #turns: number;
  readonly #answer: TokenLength;

  constructor(private readonly spec: PromptSpec) {
    this.#random = seeded(spec.seed);
    this.#turns = Math.max(1, spec.turns ?? 1);
    this.#answer = spec.answer ?? spec.isl;
  }

  get passages(): number {
    return this.#drawn.size;
  }

  conversation(): Conversation {
    const users: string[] = [];
    const answers: string[] = [];
    for (let t = 0; t < this.#turns; t++) {
      users.push(this.passage(this.spec.isl));
      if (t < this.#turns - 1) answers.push(this.passage(this.#answer));
    }
    return new Conversation(users, answers);
  }

  /** A passage of about `length` tokens at an offset not drawn before with the same length. */
  passage(length: TokenLength): string {
    const words = this.#words;
    for (let attempt = 0; attempt < 64; attempt++) {
      const tokens = length.mean + length.stddev * standardNormal(this.#random);
      const n = Math.min(words.length >> 1, Math.min(65_535, wordsFor(tokens)));
      const offset = Math.floor(this.#random.next() * (words.length - n + 1));
      // A key per (offset, length): a Set lookup is the cheap proof that no prompt repeats.
      const key = offset * 65_536 + n;
      if (this.#drawn.has(key)) continue;
      this.#drawn.add(key);
      return words.slice(offset, offset + n).join(' ');
    }
    throw new Error(`the corpus has no new passage of ~${length.mean} tokens left after ${this.#drawn.size} draws`);
  }
}

/** The old benchmark prompt on every request: after the first, every request is a prompt-cache hit. */
export class FixedPrompt implements PromptSource {
  readonly kind = 'fixed';
  readonly passages = 1;

  constructor(private readonly text: string = DEFAULT_PROMPT) {}

  conversation(): Conversation {
    return new Conversation([this.text], []);
  }
}

export function promptSource(spec: PromptSpec | undefined, fixed?: string): PromptSource {
  return spec === undefined ? new FixedPrompt(fixed) : new CorpusPrompts(spec);
}

/** A seed for a run's label, so that every run (and both servers in it) gets its own, repeatable prompts. */
export function seedOf(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

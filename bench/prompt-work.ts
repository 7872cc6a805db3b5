// The prompt work of a request, measured offline: the benchmark process runs, on the same prompts as a load
// run (same source, same seed, in the order they were drawn), the very calls the mock's chat handler makes
// before its first token (src/handlers/createChatCompletion.ts: encode the echo, then count the chat template's
// tokens, from its shape's segments or a full render, with the product's own modules and caches), and the reference's whitespace split.
// No hook in the product: the server's CPU per request minus this is its serving cost.
import { createLogger } from '../src/log.js';
import { chatEcho, chatPromptTokens } from '../src/model/prompt.js';
import { TokenizerRegistry, type LoadedTokenizer } from '../src/model/tokenizers.js';
import type { ChatMessage } from '../src/types.js';
import { DEFAULT_MODEL } from './common.js';
import { corpus, promptSource, type Message, type PromptSpec } from './prompts.js';
import { referencePromptTokens } from './reference-prompt.js';

export interface PromptWork {
  /** Requests measured (the first ones the load run drew). */
  requests: number;
  /** Mock: µs per request to encode the echo and count the chat template's tokens. */
  mockUs: number;
  /**
   * Mock: the share of requests whose chat template ran in full (jinja), in %; the others were counted from
   * their shape's cached segments (src/model/chatShape.ts).
   */
  renderedPercent: number;
  /** Reference: µs per request to cut the user text at whitespace. */
  referenceUs: number;
  /**
   * Mock: µs per token to encode the echo text alone (the piece encoder: issue 10, point 3), on as many other
   * new prompts of the same spec (another seed), so that no text is in the whole-prompt cache.
   */
  encodeUsPerToken: number;
  /** Mean prompt tokens per request: the mock's (chat template, Qwen3) and the reference's (words). */
  mockTokens: number;
  referenceTokens: number;
}

let tokenizer: Promise<LoadedTokenizer> | undefined;

function qwen3(): Promise<LoadedTokenizer> {
  tokenizer ??= new TokenizerRegistry(createLogger(() => 'WARNING')).load(DEFAULT_MODEL);
  return tokenizer;
}

function requestsOf(spec: PromptSpec | undefined, fixed: string | undefined, count: number): Message[][] {
  const source = promptSource(spec, fixed);
  const out: Message[][] = [];
  while (out.length < count) {
    const conversation = source.conversation();
    for (let m = conversation.next(); m !== undefined && out.length < count; m = conversation.next()) out.push(m);
  }
  return out;
}

function mockPromptWork(tok: LoadedTokenizer, requests: Message[][]): number {
  let tokens = 0;
  for (const messages of requests) {
    const chat = messages as ChatMessage[];
    const echo = tok.encode(chatEcho(chat));
    tokens += chatPromptTokens(tok, chat, echo.length);
  }
  return tokens;
}

function cpuUs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return d.user + d.system;
}

let warmed = false;

/**
 * Prompt work per request on the first `count` requests that a load run with this spec draws. The first call
 * warms the code on other prompts first, as the server's warm-up requests warm it.
 */
export async function measurePromptWork(spec: PromptSpec | undefined, fixed: string | undefined, count: number): Promise<PromptWork> {
  const tok = await qwen3();
  if (!warmed) {
    warmed = true;
    const warm = requestsOf({ seed: 0x5eed, isl: { mean: 300, stddev: 200 }, turns: 3 }, undefined, 300);
    mockPromptWork(tok, warm);
    // Every piece of the corpus once, as a server has seen them after the first seconds of a run (its runs
    // here send 10-100 times the corpus' 60k words): what is measured is the steady state, not the first
    // sight of each word. The texts are kept in the whole-prompt cache, where no measured prompt is.
    const words = corpus();
    for (let i = 0; i < words.length; i += 2000) tok.encode(words.slice(i, i + 2000).join(' '));
  }
  const requests = requestsOf(spec, fixed, count);
  // CPU time, not wall time: the servers' figures are CPU time too, and a shared machine stretches wall time.
  const rendered = tok.chatRenders?.template ?? 0;
  let t = process.cpuUsage();
  const mockTokens = mockPromptWork(tok, requests);
  const mockUs = cpuUs(t);
  const renderedPercent = (100 * ((tok.chatRenders?.template ?? 0) - rendered)) / requests.length;
  const fresh = requestsOf(spec === undefined ? spec : { ...spec, seed: spec.seed ^ 0x5a5a5a }, fixed, count).map((m) => chatEcho(m as ChatMessage[]));
  t = process.cpuUsage();
  let echoTokens = 0;
  for (const text of fresh) echoTokens += tok.encode(text).length;
  const encodeUs = cpuUs(t);
  t = process.cpuUsage();
  let referenceTokens = 0;
  for (const m of requests) referenceTokens += referencePromptTokens(m).length;
  const referenceUs = cpuUs(t);
  const n = requests.length;
  return {
    requests: n,
    mockUs: mockUs / n,
    renderedPercent,
    referenceUs: referenceUs / n,
    encodeUsPerToken: encodeUs / Math.max(1, echoTokens),
    mockTokens: mockTokens / n,
    referenceTokens: referenceTokens / n,
  };
}

// What the real-client tests send and check, shared by two runs: openai 6 and the AI SDK 6 on Node 20
// (test/clients.test.ts), and today's majors, openai 7 and the AI SDK 7, on Node 24 (test/current-clients).
// The checks take the answers' shapes rather than an SDK's types, so one set of checks holds whichever major
// parsed the answer.
import assert from 'node:assert/strict';

export const MODEL = 'Qwen/Qwen3-0.6B';
export const ASCII = 'The quick brown fox jumps over the lazy dog.';
// Multi-token characters: an emoji with a skin tone modifier, CJK, a combining accent and a flag (two regional
// indicators), so that token boundaries fall inside UTF-8 sequences and grapheme clusters.
const UNICODE = 'Grüße 👋🏽 你好 e\u0301 🇫🇷 done.';
// The echo is the prompt's tokens decoded, and Qwen3's tokenizer normalizes its input to NFC (as the real model
// does under vLLM), so "e\u0301" comes back as "\u00e9": the expected text is the prompt in NFC.
export const PROMPTS: ReadonlyArray<readonly [name: string, prompt: string, echo: string]> = [
  ['an ASCII prompt', ASCII, ASCII],
  ['an emoji/CJK/combining prompt', UNICODE, UNICODE.normalize('NFC')],
];

export interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** The `usage` the server put on the wire in one response body: JSON, or the usage chunk of an SSE stream. */
export function wireUsage(body: string): WireUsage {
  if (!body.startsWith('data: ')) return (JSON.parse(body) as { usage: WireUsage }).usage;
  const found = body
    .split('\n\n')
    .filter((b) => b.startsWith('data: {'))
    .map((b) => JSON.parse(b.slice(6)) as { usage?: WireUsage | null })
    .filter((c) => c.usage != null);
  assert.equal(found.length, 1, 'one usage chunk on the wire');
  return found[0]!.usage!;
}

/** A fetch that keeps a copy of every response body, to compare what clients report with what was sent. */
export function recordingFetch(): { fetch: typeof fetch; bodies: Array<Promise<string>> } {
  const bodies: Array<Promise<string>> = [];
  const recording: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    bodies.push(res.clone().text());
    return res;
  };
  return { fetch: recording, bodies };
}

// ------------------------------------------------------------------------------------ the openai SDK's answers

/** The fields of a chat completion that the checks read. */
export interface ChatCompletionShape {
  object: string;
  choices: ReadonlyArray<{ index: number; message: { role: string; content: string | null }; finish_reason: string | null }>;
  usage?: WireUsage | undefined;
}

export interface ChatChunkShape {
  object: string;
  usage?: WireUsage | null | undefined;
  choices: ReadonlyArray<{ delta: { content?: string | null | undefined; role?: string | undefined }; finish_reason: string | null }>;
}

export interface CompletionShape {
  object: string;
  choices: ReadonlyArray<{ text: string; finish_reason: string | null }>;
  usage?: WireUsage | undefined;
}

export interface CompletionChunkShape {
  object: string;
  usage?: WireUsage | null | undefined;
  choices: ReadonlyArray<{ text: string; finish_reason: string | null }>;
}

/** Checks a non-streamed chat answer: one assistant choice holding the echo, finished by stop, usage that adds up. */
export function checkChatCompletion(whole: ChatCompletionShape, echo: string): WireUsage {
  assert.equal(whole.object, 'chat.completion');
  assert.equal(whole.choices.length, 1);
  const choice = whole.choices[0]!;
  assert.equal(choice.message.role, 'assistant');
  assert.equal(choice.message.content, echo);
  assert.equal(choice.finish_reason, 'stop');
  const usage = whole.usage!;
  assert.ok(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  return usage;
}

/** Checks a raw chat stream (with include_usage) against the non-streamed answer to the same request. */
export async function checkChatStream(stream: AsyncIterable<ChatChunkShape>, whole: ChatCompletionShape): Promise<void> {
  let text = '';
  const usages: WireUsage[] = [];
  const choices: Array<ChatChunkShape['choices'][number]> = [];
  let roles = 0;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) {
      usages.push(chunk.usage);
      assert.deepEqual(chunk.choices, [], 'the usage chunk has no choices');
    }
    for (const c of chunk.choices) {
      choices.push(c);
      text += c.delta.content ?? '';
      if (c.delta.role !== undefined) roles++;
    }
  }
  assert.equal(text, whole.choices[0]!.message.content, 'the joined deltas equal the non-streamed content');
  assert.equal(roles, 1, 'the role is sent once');
  assert.equal(choices[0]!.delta.role, 'assistant');
  assert.equal(usages.length, 1, 'exactly one usage chunk');
  assert.deepEqual(usages[0], whole.usage, 'streamed usage equals non-streamed usage');
  assert.equal(choices.at(-1)!.finish_reason, 'stop', 'the last choice chunk finishes');
  assert.ok(choices.slice(0, -1).every((c) => c.finish_reason === null), 'no earlier chunk finishes');
}

/** Checks what the `.stream()` helper assembled: its final completion, and the `content` deltas it emitted. */
export function checkStreamHelper(final: ChatCompletionShape, deltas: string, echo: string): void {
  assert.equal(final.choices.length, 1);
  assert.equal(final.choices[0]!.message.role, 'assistant');
  assert.equal(final.choices[0]!.message.content, echo);
  assert.equal(final.choices[0]!.finish_reason, 'stop');
  assert.equal(deltas, echo);
  assert.ok(final.usage && final.usage.completion_tokens > 0);
}

/** Checks `n: 2, max_tokens: 3` on ASCII, as assembled by the `.stream()` helper: both choices cut at the cap. */
export function checkTwoCappedChoices(final: ChatCompletionShape): void {
  assert.deepEqual(final.choices.map((c) => c.index), [0, 1]);
  for (const c of final.choices) {
    assert.equal(c.finish_reason, 'length');
    assert.equal(c.message.role, 'assistant');
    assert.ok(ASCII.startsWith(c.message.content ?? '') && c.message.content !== ASCII);
  }
}

/** Checks a non-streamed text completion and its stream (with include_usage) against each other. */
export async function checkCompletions(whole: CompletionShape, stream: AsyncIterable<CompletionChunkShape>, echo: string): Promise<void> {
  assert.equal(whole.object, 'text_completion');
  assert.equal(whole.choices.length, 1);
  assert.equal(whole.choices[0]!.text, echo);
  assert.equal(whole.choices[0]!.finish_reason, 'stop');
  const usage = whole.usage!;
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);

  let text = '';
  const usages: WireUsage[] = [];
  const finishes: Array<string | null> = [];
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'text_completion');
    if (chunk.usage) usages.push(chunk.usage);
    for (const c of chunk.choices) {
      text += c.text;
      finishes.push(c.finish_reason);
    }
  }
  assert.equal(text, whole.choices[0]!.text);
  assert.equal(finishes.at(-1), 'stop');
  assert.ok(finishes.slice(0, -1).every((f) => f === null));
  assert.deepEqual(usages, [usage]);
}

/** Checks models.list() (iterated) and models.retrieve(MODEL). */
export async function checkModels(
  list: AsyncIterable<{ id: string; object: string; created: number; owned_by: string }>,
  retrieve: (id: string) => PromiseLike<{ id: string; object: string }>,
): Promise<void> {
  const ids: string[] = [];
  for await (const m of list) {
    assert.equal(m.object, 'model');
    assert.equal(typeof m.created, 'number');
    assert.equal(typeof m.owned_by, 'string');
    ids.push(m.id);
  }
  assert.ok(ids.includes(MODEL), `models.list() has ${MODEL}: ${ids.join(', ')}`);
  const one = await retrieve(MODEL);
  assert.equal(one.id, MODEL);
  assert.equal(one.object, 'model');
}

// ------------------------------------------------------------------------------------ the AI SDK's answers

/** Token counts as the AI SDK reports them (`usage`, `totalUsage`). */
export interface AiUsageShape {
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  totalTokens: number | undefined;
}

/** Checks that the AI SDK reports the token counts the server put on the wire. */
export function checkAiUsage(usage: AiUsageShape, wire: WireUsage): void {
  assert.equal(usage.inputTokens, wire.prompt_tokens, 'inputTokens');
  assert.equal(usage.outputTokens, wire.completion_tokens, 'outputTokens');
  assert.equal(usage.totalTokens, wire.total_tokens, 'totalTokens');
}

/** Reads a stream (or a list) of AI SDK parts, failing on any error part; returns the text deltas joined and the parts' types. */
export async function drainParts(parts: AsyncIterable<{ type: string }> | Iterable<{ type: string }>): Promise<{ text: string; types: string[] }> {
  let text = '';
  const types: string[] = [];
  for await (const part of parts) {
    types.push(part.type);
    if (part.type === 'error') assert.fail(`stream error part: ${String('error' in part ? part.error : part)}`);
    if (part.type === 'text-delta' && 'text' in part && typeof part.text === 'string') text += part.text;
  }
  return { text, types };
}

/** Checks the parts of one streamed text answer: text opened and closed, and a finish part last. */
export function checkPartTypes(types: readonly string[]): void {
  assert.ok(types.includes('text-start') && types.includes('text-end') && types.at(-1) === 'finish', types.join(','));
}

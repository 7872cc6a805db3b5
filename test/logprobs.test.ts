// Logprobs in chat and legacy completions, against a real server with the real Qwen3 tokenizer: the shapes
// against our contract and against OpenAI's own description, the tokens against the text they make up, the
// alternatives against the vocabulary, determinism, lm-eval-harness's prompt scoring (echo + max_tokens 0), the
// official openai-node client, and the 400s.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { postJson, readSse, startServer, type RunningServer } from './support/server.js';
import { declaredResponse } from './support/spec.js';
import { COMPLETION_CHUNK, MISSING, loadOracle, refused, type Oracle } from './support/openai.js';
import { qwenTokenizer } from './support/qwen.js';
import type { ChatChunk, ChatResponse, ChatTokenLogprob, CompletionChunk, CompletionLogprobs, CompletionResponse } from '../src/types.js';

const MODEL = 'Qwen/Qwen3-0.6B';
const ASCII = 'The quick brown fox jumps over the lazy dog.';
/** Characters that Qwen3 splits over two or more tokens (鱻 in two, 𝔘 in two, 🫠🦩 in five), between whole ones. */
const SPLIT = 'Fish 鱻 and 𝔘 or 🫠🦩, done.';

/** Every ordinary (not added) Qwen3 token's text decoded alone, for the check that alternatives are real tokens. */
function vocabularyTexts(): Set<string> {
  const texts = new Set<string>();
  for (let id = 0; ; id++) {
    const piece = qwenTokenizer.id_to_token(id);
    if (piece === undefined) break;
    texts.add(qwenTokenizer.decode([id], { skip_special_tokens: false }));
  }
  return texts;
}

const chars = (s: string): string[] => Array.from(s);

describe('logprobs', { timeout: 180_000 }, () => {
  let server: RunningServer;
  let oracle: Oracle | undefined;
  let vocabulary: Set<string>;

  before(async () => {
    server = await startServer(['--ttft', '0', '--itl', '0']);
    if (!MISSING) oracle = loadOracle();
    vocabulary = vocabularyTexts();
  });
  after(async () => {
    await server?.stop();
  });

  const post = (path: string, body: Record<string, unknown>): Promise<Response> => postJson(`${server.url}${path}`, { model: MODEL, ...body });

  /** The JSON body of a 200, checked against the contract's declaration for the operation. */
  async function whole<T>(path: string, body: Record<string, unknown>): Promise<T> {
    const res = await post(path, body);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const value = JSON.parse(text) as T;
    assert.equal(declaredResponse('POST', path, 200, res.headers.get('content-type')).check(value), undefined);
    return value;
  }

  /** The chunks of a 200 stream, each checked against the contract. */
  async function chunks<T>(path: string, body: Record<string, unknown>): Promise<T[]> {
    const res = await post(path, { ...body, stream: true });
    assert.equal(res.status, 200);
    const declared = declaredResponse('POST', path, 200, res.headers.get('content-type'));
    const events = await readSse(res);
    assert.equal(events.at(-1)!.data, '[DONE]');
    return events.slice(0, -1).map((e) => {
      const value = JSON.parse(e.data) as T;
      assert.equal(declared.check(value), undefined, e.data);
      return value;
    });
  }

  /** The properties every token entry of chat has (see the brief of src/model/logprobs.ts). */
  function checkChatEntry(e: ChatTokenLogprob, top: number): void {
    if (!e.token.includes('\ufffd')) assert.deepEqual(e.bytes, [...Buffer.from(e.token)], 'bytes are the token text in UTF-8');
    else assert.equal(Buffer.from(e.bytes).toString('utf8').includes('\ufffd'), true, 'a token with part of a character decodes to U+FFFD');
    assert.ok(Number.isFinite(e.logprob) && e.logprob <= 0, `logprob ${e.logprob}`);
    assert.equal(e.top_logprobs.length, top);
    if (top === 0) return;
    assert.deepEqual(e.top_logprobs[0], { token: e.token, logprob: e.logprob, bytes: e.bytes }, 'greedy: the chosen token heads the list');
    const alternatives = e.top_logprobs.slice(1);
    assert.ok(e.top_logprobs.reduce((sum, t) => sum + Math.exp(t.logprob), 0) <= 1, 'the listed probabilities sum to at most 1');
    assert.equal(new Set(e.top_logprobs.map((t) => t.token)).size, top, 'distinct');
    for (const [i, t] of e.top_logprobs.entries()) {
      assert.ok(Number.isFinite(t.logprob) && t.logprob <= e.logprob, 'no alternative is likelier than the chosen token');
      if (i > 0) assert.ok(t.logprob < e.top_logprobs[i - 1]!.logprob, 'sorted by logprob, descending');
    }
    for (const t of alternatives) {
      assert.notEqual(t.token, e.token);
      assert.ok(vocabulary.has(t.token), `${JSON.stringify(t.token)} is a Qwen3 token`);
      assert.deepEqual(t.bytes, [...Buffer.from(t.token)]);
    }
  }

  // ------------------------------------------------------------------------------------------ chat

  test('chat, whole: content lists every token, joining to the content, with real bytes and alternatives', async () => {
    for (const prompt of [ASCII, SPLIT]) {
      const body = await whole<ChatResponse>('/v1/chat/completions', { messages: [{ role: 'user', content: prompt }], logprobs: true, top_logprobs: 5 });
      oracle?.validate('CreateChatCompletionResponse', body);
      const choice = body.choices[0]!;
      assert.equal(choice.message.content, prompt);
      const content = choice.logprobs!.content;
      assert.equal(choice.logprobs!.refusal, null);
      assert.equal(content.length, body.usage.completion_tokens);
      assert.deepEqual(content.map((e) => e.token), qwenTokenizer.encode(prompt, { add_special_tokens: false }).ids.map((id: number) => qwenTokenizer.decode([id])));
      assert.deepEqual(Buffer.concat(content.map((e) => Buffer.from(e.bytes))), Buffer.from(prompt), 'the bytes make up the content');
      if (prompt === ASCII) assert.equal(content.map((e) => e.token).join(''), prompt, 'the tokens join to the content');
      else assert.ok(content.filter((e) => e.token === '\ufffd').length >= 5, 'split characters show as U+FFFD');
      for (const e of content) checkChatEntry(e, 5);
    }
  });

  test('chat, streamed: each chunk carries its own token; the stream holds the whole answer\'s entries', async () => {
    const request = { messages: [{ role: 'user', content: SPLIT }], logprobs: true, top_logprobs: 3, seed: 7 };
    const list = await chunks<ChatChunk>('/v1/chat/completions', { ...request, stream_options: { include_usage: true } });
    const body = await whole<ChatResponse>('/v1/chat/completions', request);
    const tokenChunks = list.filter((c) => c.choices.length > 0);
    for (const c of list) oracle?.validate('CreateChatCompletionStreamResponse', c);
    // With logprobs the role comes first in a chunk of its own, without logprobs (as vLLM sends it).
    assert.deepEqual(tokenChunks[0]!.choices[0]!.delta, { role: 'assistant', content: '' });
    assert.equal(tokenChunks[0]!.choices[0]!.logprobs, null);
    const entries = tokenChunks.slice(1).flatMap((c) => {
      const lp = c.choices[0]!.logprobs!;
      assert.equal(lp.refusal, null);
      assert.equal(lp.content.length, 1, 'one token per chunk');
      return lp.content;
    });
    assert.deepEqual(entries, body.choices[0]!.logprobs!.content);
    assert.equal(tokenChunks.map((c) => c.choices[0]!.delta.content ?? '').join(''), SPLIT);
    for (const e of entries) checkChatEntry(e, 3);
  });

  test('chat with reasoning: reasoning chunks carry their tokens too, and the whole answer lists them first (as vLLM)', async () => {
    const request = { messages: [{ role: 'user', content: ASCII }], logprobs: true, reasoning_effort: 'low' };
    const body = await whole<ChatResponse>('/v1/chat/completions', request);
    const content = body.choices[0]!.logprobs!.content;
    const reasoning = body.usage.completion_tokens_details!.reasoning_tokens;
    assert.ok(reasoning > 0);
    assert.equal(content.length, body.usage.completion_tokens);
    const text = (body.choices[0]!.message as { reasoning_content?: string }).reasoning_content ?? '';
    assert.deepEqual(Buffer.concat(content.slice(0, reasoning).map((e) => Buffer.from(e.bytes))), Buffer.from(text));
    assert.equal(content.slice(reasoning).map((e) => e.token).join(''), ASCII);
    const list = await chunks<ChatChunk>('/v1/chat/completions', request);
    assert.deepEqual(list.flatMap((c) => c.choices[0]!.logprobs?.content ?? []), content);
  });

  test('chat: the same request gets the same values; another seed or prompt other values', async () => {
    const ask = async (extra: Record<string, unknown>): Promise<number[]> => {
      const body = await whole<ChatResponse>('/v1/chat/completions', { messages: [{ role: 'user', content: ASCII }], logprobs: true, top_logprobs: 2, ...extra });
      return body.choices[0]!.logprobs!.content.flatMap((e) => [e.logprob, ...e.top_logprobs.map((t) => t.logprob)]);
    };
    assert.deepEqual(await ask({}), await ask({}));
    assert.deepEqual(await ask({ seed: 1 }), await ask({ seed: 1 }));
    assert.notDeepEqual(await ask({ seed: 1 }), await ask({ seed: 2 }));
    assert.notDeepEqual(await ask({}), await ask({ seed: 1 }));
  });

  test('chat without logprobs (absent or false): logprobs is null, whole and streamed', async () => {
    for (const extra of [{}, { logprobs: false }]) {
      const body = await whole<ChatResponse>('/v1/chat/completions', { messages: [{ role: 'user', content: ASCII }], ...extra });
      assert.equal(body.choices[0]!.logprobs, null);
      const list = await chunks<ChatChunk>('/v1/chat/completions', { messages: [{ role: 'user', content: ASCII }], ...extra });
      assert.ok(list.every((c) => c.choices[0]!.logprobs === null));
    }
  });

  test('chat 400s: top_logprobs without logprobs (OpenAI\'s words), top_logprobs over 20', async () => {
    for (const extra of [{ top_logprobs: 2 }, { top_logprobs: 0, logprobs: false }]) {
      const res = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'Hi' }], ...extra });
      const error = await refused(res, 400);
      assert.deepEqual(error, { message: "The 'top_logprobs' parameter is only allowed when 'logprobs' is enabled.", type: 'invalid_request_error', param: 'top_logprobs', code: null });
    }
    const error = await refused(await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'Hi' }], logprobs: true, top_logprobs: 21 }), 400);
    assert.equal(error.param, 'top_logprobs');
  });

  // ------------------------------------------------------------------------------------ completions

  /**
   * OpenAI's description declares token_logprobs and top_logprobs entries non-null, while OpenAI (like vLLM)
   * sends null for an echoed prompt's first token: that entry alone is replaced before validating.
   */
  function forOracle<T extends { choices: Array<{ logprobs: CompletionLogprobs | null }> }>(value: T): T {
    const copy = structuredClone(value);
    for (const c of copy.choices) {
      if (!c.logprobs) continue;
      c.logprobs.token_logprobs = c.logprobs.token_logprobs.map((v) => v ?? -1);
      c.logprobs.top_logprobs = c.logprobs.top_logprobs.map((v) => v ?? {});
    }
    return copy;
  }

  /** The parallel lists agree with the text they describe. */
  function checkTextLogprobs(lp: CompletionLogprobs, text: string, top: number, echoedFirst: boolean): void {
    const n = lp.tokens.length;
    assert.ok(lp.token_logprobs.length === n && lp.top_logprobs.length === n && lp.text_offset.length === n);
    const cps = chars(text);
    for (let i = 0; i < n; i++) {
      const token = lp.tokens[i]!;
      if (!token.includes('\ufffd')) {
        assert.equal(cps.slice(lp.text_offset[i]!, lp.text_offset[i]! + chars(token).length).join(''), token, `token ${i} sits at its text_offset`);
      }
      if (i === 0 && echoedFirst) {
        assert.equal(lp.token_logprobs[0], null);
        assert.equal(lp.top_logprobs[0], null);
        continue;
      }
      const value = lp.token_logprobs[i]!;
      const tops = lp.top_logprobs[i]!;
      assert.ok(value !== null && Number.isFinite(value) && value <= 0);
      assert.ok(tops !== null);
      assert.equal(Object.keys(tops).length, Math.max(top, 1), 'the chosen token and top - 1 alternatives (vLLM lists the chosen one for 0)');
      assert.equal(tops[token], value);
      for (const [t, v] of Object.entries(tops)) {
        assert.ok(v <= value);
        if (t !== token) assert.ok(vocabulary.has(t), `${JSON.stringify(t)} is a Qwen3 token`);
      }
    }
  }

  test('completions, whole and streamed, with and without echo: tokens, token_logprobs, top_logprobs, text_offset', async () => {
    for (const echo of [false, true]) {
      for (const top of [0, 2, 5]) {
        const request = { prompt: SPLIT, logprobs: top, echo, max_tokens: 40, min_tokens: 40 };
        const body = await whole<CompletionResponse>('/v1/completions', request);
        oracle?.validate('CreateCompletionResponse', forOracle(body));
        const choice = body.choices[0]!;
        const lp = choice.logprobs!;
        const promptTokens = body.usage.prompt_tokens;
        assert.equal(lp.tokens.length, (echo ? promptTokens : 0) + 40);
        checkTextLogprobs(lp, choice.text, top, echo);
        if (echo) assert.equal(lp.tokens.slice(0, promptTokens).join('').replaceAll('\ufffd', ''), SPLIT.replace(/[鱻𝔘🫠🦩]/gu, ''));

        const list = await chunks<CompletionChunk>('/v1/completions', request);
        for (const c of list) oracle?.validate(c.choices[0]!.finish_reason === null ? COMPLETION_CHUNK : 'CreateCompletionResponse', forOracle(c));
        const joined: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
        for (const c of list) {
          const part = c.choices[0]!.logprobs!;
          joined.tokens.push(...part.tokens);
          joined.token_logprobs.push(...part.token_logprobs);
          joined.top_logprobs.push(...part.top_logprobs);
          joined.text_offset.push(...part.text_offset);
        }
        assert.equal(list.map((c) => c.choices[0]!.text).join(''), choice.text);
        assert.deepEqual(joined, lp, 'the stream\'s lists, joined, are the whole answer\'s');
      }
    }
  });

  test('echo + max_tokens 0 + logprobs (lm-eval-harness loglikelihood): one entry per prompt token, finish length', async () => {
    for (const prompt of [ASCII, SPLIT, 'Question: 2 + 2 =\nAnswer: 4']) {
      const ids = qwenTokenizer.encode(prompt, { add_special_tokens: false }).ids;
      const request = { prompt, echo: true, max_tokens: 0, logprobs: 1, temperature: 0 };
      const body = await whole<CompletionResponse>('/v1/completions', request);
      oracle?.validate('CreateCompletionResponse', forOracle(body));
      const choice = body.choices[0]!;
      assert.equal(choice.text, prompt);
      assert.equal(choice.finish_reason, 'length');
      assert.equal(body.usage.completion_tokens, 0);
      assert.equal(body.usage.prompt_tokens, ids.length);
      assert.equal(choice.logprobs!.tokens.length, ids.length, 'one entry per prompt token');
      assert.deepEqual(choice.logprobs!.tokens, [...ids].map((id: number) => qwenTokenizer.decode([id])));
      checkTextLogprobs(choice.logprobs!, prompt, 1, true);
      // Scored the way lm-eval-harness scores a continuation: the sum over the tokens after the context.
      const context = prompt.slice(0, prompt.length >> 1);
      const from = choice.logprobs!.text_offset.findIndex((o) => o >= chars(context).length);
      const sum = choice.logprobs!.token_logprobs.slice(from).reduce<number>((a, v) => a + (v ?? 0), 0);
      assert.ok(Number.isFinite(sum) && sum <= 0);

      const list = await chunks<CompletionChunk>('/v1/completions', request);
      assert.equal(list.length, 1);
      assert.deepEqual(list[0]!.choices[0]!.logprobs, choice.logprobs);
      assert.equal(list[0]!.choices[0]!.finish_reason, 'length');
    }
  });

  test('completions without logprobs: null; logprobs over 5: 400', async () => {
    const body = await whole<CompletionResponse>('/v1/completions', { prompt: ASCII, echo: true });
    assert.equal(body.choices[0]!.logprobs, null);
    const error = await refused(await post('/v1/completions', { prompt: ASCII, logprobs: 6 }), 400);
    assert.equal(error.param, 'logprobs');
  });

  test('completions: the same request gets the same values, with n and several prompts', async () => {
    const request = { prompt: [ASCII, SPLIT], n: 2, logprobs: 3, max_tokens: 12 };
    const a = await whole<CompletionResponse>('/v1/completions', request);
    const b = await whole<CompletionResponse>('/v1/completions', request);
    assert.deepEqual(a.choices.map((c) => c.logprobs), b.choices.map((c) => c.logprobs));
    assert.equal(a.choices.length, 4);
    for (const c of a.choices) checkTextLogprobs(c.logprobs!, c.text, 3, false);
  });

  // ------------------------------------------------------------------------------------ openai-node

  test('openai-node reads choices[0].logprobs.content, whole and streamed, and completions\' logprobs', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'test', maxRetries: 0, timeout: 30_000 });
    const messages = [{ role: 'user' as const, content: ASCII }];
    const completion = await client.chat.completions.create({ model: MODEL, messages, logprobs: true, top_logprobs: 4, seed: 3 });
    const content = completion.choices[0]!.logprobs!.content!;
    assert.equal(content.map((t) => t.token).join(''), ASCII);
    assert.ok(content.every((t) => t.top_logprobs.length === 4 && t.top_logprobs[0]!.token === t.token));

    const stream = await client.chat.completions.create({ model: MODEL, messages, logprobs: true, top_logprobs: 4, seed: 3, stream: true });
    const streamed = [];
    for await (const chunk of stream) streamed.push(...(chunk.choices[0]?.logprobs?.content ?? []));
    assert.deepEqual(streamed, content);

    const runner = client.chat.completions.stream({ model: MODEL, messages, logprobs: true, top_logprobs: 4, seed: 3 });
    const final = await runner.finalChatCompletion();
    assert.deepEqual(final.choices[0]!.logprobs!.content, content, 'the stream helper accumulates the same entries');

    const text = await client.completions.create({ model: MODEL, prompt: ASCII, echo: true, max_tokens: 0, logprobs: 0 });
    assert.equal(text.choices[0]!.logprobs!.tokens!.join(''), ASCII);
    assert.equal(text.choices[0]!.logprobs!.token_logprobs![0], null);
  });
});

// Wire fidelity beyond the basics: usage, exact text, length control, n, legacy completions, models,
// reasoning and identity. Real server process, real Qwen3 tokenizer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, readSse, startServer, type RunningServer } from './support/server.js';
import type { ChatChunk, ChatResponse, CompletionChunk, CompletionResponse, ErrorBody, Model, ModelList } from '../src/types.js';

let server: RunningServer;
const user = (content: string) => [{ role: 'user', content }];

async function chatWhole(body: object): Promise<ChatResponse> {
  const res = await postJson(`${server.url}/v1/chat/completions`, body);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as ChatResponse;
}

async function chatStream(body: object): Promise<ChatChunk[]> {
  const res = await postJson(`${server.url}/v1/chat/completions`, { ...body, stream: true });
  assert.equal(res.status, 200, await res.clone().text());
  const events = await readSse(res);
  assert.equal(events.at(-1)!.data, '[DONE]');
  return events.slice(0, -1).map((e) => JSON.parse(e.data) as ChatChunk);
}

async function textStream(body: object): Promise<CompletionChunk[]> {
  const res = await postJson(`${server.url}/v1/completions`, { ...body, stream: true });
  assert.equal(res.status, 200, await res.clone().text());
  const events = await readSse(res);
  assert.equal(events.at(-1)!.data, '[DONE]');
  return events.slice(0, -1).map((e) => JSON.parse(e.data) as CompletionChunk);
}

const contentOf = (chunks: ChatChunk[], index = 0): string =>
  chunks.flatMap((c) => c.choices.filter((ch) => ch.index === index).map((ch) => ch.delta.content ?? '')).join('');

before(async () => {
  server = await startServer(['--ttft', '0', '--itl', '0']);
});
after(async () => {
  await server.stop();
});

describe('usage', () => {
  it('counts the prompt through the chat template with the generation prompt', async () => {
    // <|im_start|> user \n Hi <|im_end|> \n <|im_start|> assistant \n
    const body = await chatWhole({ model: 'm', messages: user('Hi') });
    assert.equal(body.usage.prompt_tokens, 9);
    assert.equal(body.usage.completion_tokens, 1);
    assert.equal(body.usage.total_tokens, 10);
    assert.equal(body.usage.completion_tokens_details?.reasoning_tokens, 0);
  });

  it('sends one usage chunk with choices [] before [DONE] only with include_usage', async () => {
    const withUsage = await chatStream({ model: 'm', messages: user('count these words please'), stream_options: { include_usage: true } });
    const last = withUsage.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage?.completion_tokens, withUsage.length - 1);
    assert.equal(withUsage.filter((c) => c.usage).length, 1);
    const without = await chatStream({ model: 'm', messages: user('count these words please') });
    assert.ok(without.every((c) => c.usage === undefined && c.choices.length === 1));
  });

  it('puts the running usage on every chunk with continuous_usage_stats', async () => {
    const chunks = await chatStream({ model: 'm', messages: user('one two three four'), stream_options: { continuous_usage_stats: true } });
    chunks.forEach((c, k) => {
      assert.equal(c.usage?.completion_tokens, k + 1);
      assert.equal(c.usage?.total_tokens, c.usage!.prompt_tokens + k + 1);
    });
  });

  it('refuses stream_options without stream: true', async () => {
    const res = await postJson(`${server.url}/v1/chat/completions`, { model: 'm', messages: user('x'), stream_options: { include_usage: true } });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as ErrorBody).error.param, 'stream_options');
  });
});

describe('exact text', () => {
  const tricky = 'Grüße 👋🏽 你好，世界！ e\u0301 n\u0303 🇫🇷 👨‍👩‍👧‍👦 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 done.';

  it('streams deltas that join to exactly the non-streamed content, without U+FFFD', async () => {
    const whole = await chatWhole({ model: 'm', messages: user(tricky) });
    // Qwen3's normalizer composes combining accents (NFC): the tokens decode to the composed text.
    const expected = tricky.normalize('NFC');
    assert.notEqual(expected, tricky);
    assert.equal(whole.choices[0]!.message.content, expected);
    const chunks = await chatStream({ model: 'm', messages: user(tricky) });
    const deltas = chunks.map((c) => c.choices[0]!.delta.content ?? '');
    assert.equal(deltas.join(''), expected);
    assert.ok(deltas.every((d) => !d.includes('\uFFFD')), 'no replacement character in any delta');
    // One chunk per token even where a token only starts a character: usage still counts tokens.
    assert.equal(chunks.length, whole.usage.completion_tokens);
    assert.ok(deltas.some((d) => d === ''), 'some token completes no character and carries empty content');
  });

  it('keeps whole characters when the cap cuts inside one', async () => {
    for (let cap = 1; cap <= 12; cap++) {
      const chunks = await chatStream({ model: 'm', messages: user('👨‍👩‍👧‍👦🇫🇷'), max_tokens: cap });
      const text = contentOf(chunks);
      assert.ok(!text.includes('\uFFFD'), `cap ${cap}: ${JSON.stringify(text)}`);
      // The tokens of a character cut in two go out as as many vertical tabs (a gap, see test/seam.test.ts).
      const [, prefix, gaps] = /^([^\v]*)(\v*)$/.exec(text)!;
      assert.ok('👨‍👩‍👧‍👦🇫🇷'.startsWith(prefix!), `cap ${cap}: ${JSON.stringify(text)} is not a prefix and gaps`);
      assert.ok(gaps!.length < 4, `cap ${cap}: ${JSON.stringify(text)}`);
      assert.equal(chunks.length, cap);
    }
  });
});

describe('output length', () => {
  it('with ignore_eos and a cap, sends exactly the cap, repeating the prompt', async () => {
    const body = await chatWhole({ model: 'm', messages: user('ab cd'), max_tokens: 7, ignore_eos: true });
    assert.equal(body.usage.completion_tokens, 7);
    assert.equal(body.choices[0]!.finish_reason, 'length');
    // Passes of the prompt are kept apart by a vertical tab, a token that never merges (see test/seam.test.ts).
    assert.equal(body.choices[0]!.message.content, 'ab cd\vab cd\vab');
    const chunks = await chatStream({ model: 'm', messages: user('ab cd'), max_completion_tokens: 300, ignore_eos: true });
    assert.equal(chunks.length, 300);
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'length');
  });

  it('without a prompt to repeat, uses a fixed passage', async () => {
    const body = await chatWhole({ model: 'm', messages: [{ role: 'system', content: 'only a system prompt' }], max_tokens: 12, ignore_eos: true });
    assert.equal(body.usage.completion_tokens, 12);
    assert.ok(body.choices[0]!.message.content!.length > 10);
  });

  it('min_tokens sets a floor within the cap', async () => {
    const floor = await chatWhole({ model: 'm', messages: user('tiny'), min_tokens: 10 });
    assert.equal(floor.usage.completion_tokens, 10);
    assert.equal(floor.choices[0]!.finish_reason, 'stop');
    const capped = await chatWhole({ model: 'm', messages: user('tiny'), min_tokens: 10, max_tokens: 6 });
    assert.equal(capped.usage.completion_tokens, 6);
    assert.equal(capped.choices[0]!.finish_reason, 'length');
  });
});

describe('n > 1', () => {
  it('returns n choices with their own index, and usage counts them all', async () => {
    const body = await chatWhole({ model: 'm', messages: user('hello there'), n: 3 });
    assert.deepEqual(body.choices.map((c) => c.index), [0, 1, 2]);
    assert.ok(body.choices.every((c) => c.message.content === 'hello there'));
    assert.equal(body.usage.completion_tokens, 3 * 2);
    const chunks = await chatStream({ model: 'm', messages: user('hello there'), n: 2, stream_options: { include_usage: true } });
    for (const i of [0, 1]) {
      const mine = chunks.filter((c) => c.choices[0]?.index === i);
      assert.equal(mine[0]!.choices[0]!.delta.role, 'assistant', `choice ${i} gets its role`);
      assert.equal(mine.at(-1)!.choices[0]!.finish_reason, 'stop', `choice ${i} gets its finish_reason`);
      assert.equal(contentOf(chunks, i), 'hello there');
    }
    assert.equal(chunks.at(-1)!.usage?.completion_tokens, 4);
  });
});

describe('legacy completions', () => {
  const complete = async (body: object): Promise<CompletionResponse> => {
    const res = await postJson(`${server.url}/v1/completions`, body);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as CompletionResponse;
  };

  it('echoes a string prompt, with usage', async () => {
    const body = await complete({ model: 'm', prompt: 'The quick brown fox' });
    assert.equal(body.object, 'text_completion');
    assert.match(body.id, /^cmpl-/);
    assert.equal(body.choices[0]!.text, 'The quick brown fox');
    assert.equal(body.choices[0]!.finish_reason, 'stop');
    assert.equal(body.usage.prompt_tokens, 4);
    assert.equal(body.usage.completion_tokens, 4);
  });

  it('takes arrays of strings, token ids, and arrays of token ids', async () => {
    const strings = await complete({ model: 'm', prompt: ['alpha', 'beta gamma'], n: 2 });
    assert.deepEqual(strings.choices.map((c) => [c.index, c.text]), [[0, 'alpha'], [1, 'alpha'], [2, 'beta gamma'], [3, 'beta gamma']]);
    // "Hello, world" in Qwen3.
    const ids = await complete({ model: 'm', prompt: [9707, 11, 1879] });
    assert.equal(ids.choices[0]!.text, 'Hello, world');
    assert.equal(ids.usage.prompt_tokens, 3);
    const nested = await complete({ model: 'm', prompt: [[9707], [1879, 0]] });
    assert.deepEqual(nested.choices.map((c) => c.text), ['Hello', ' world!']);
  });

  it('puts the prompt first with echo, streamed or not, and honors the cap and ignore_eos', async () => {
    const body = await complete({ model: 'm', prompt: 'one two', echo: true, max_tokens: 5, ignore_eos: true });
    // "one", " two", the vertical tab between passes, "one", " two": 5 tokens, after the echoed prompt.
    assert.equal(body.choices[0]!.text, 'one two' + 'one two\vone two');
    assert.equal(body.usage.completion_tokens, 5);
    assert.equal(body.choices[0]!.finish_reason, 'length');
    const chunks = await textStream({ model: 'm', prompt: 'one two', echo: true, stream_options: { include_usage: true } });
    assert.equal(chunks[0]!.choices[0]!.text, 'one twoone');
    assert.equal(chunks.slice(0, -1).map((c) => c.choices[0]!.text).join(''), 'one twoone two');
    assert.deepEqual(chunks.at(-1)!.choices, []);
    assert.equal(chunks.at(-1)!.usage?.completion_tokens, 2);
  });
});

describe('models', () => {
  it('lists the fallback and retrieves it by its id, slash and all', async () => {
    const list = (await (await fetch(`${server.url}/v1/models`)).json()) as ModelList;
    assert.equal(list.object, 'list');
    assert.deepEqual(list.data.map((m) => m.id), ['Qwen/Qwen3-0.6B']);
    for (const path of ['Qwen/Qwen3-0.6B', 'Qwen%2FQwen3-0.6B']) {
      const res = await fetch(`${server.url}/v1/models/${path}`);
      assert.equal(res.status, 200, path);
      const m = (await res.json()) as Model;
      assert.deepEqual([m.id, m.object, typeof m.created, typeof m.owned_by], ['Qwen/Qwen3-0.6B', 'model', 'number', 'string']);
    }
    const missing = await fetch(`${server.url}/v1/models/no-such-model`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as ErrorBody).error.code, 'model_not_found');
  });
});

describe('reasoning', () => {
  it('sends reasoning_tokens of reasoning first when configured, in the chosen field', async () => {
    await postJson(`${server.url}/configure`, { reasoning_tokens: 4, reasoning_field: 'both' });
    try {
      const chunks = await chatStream({ model: 'm', messages: user('think about this answer'), stream_options: { include_usage: true } });
      assert.deepEqual(Object.keys(chunks[0]!.choices[0]!.delta).sort(), ['reasoning', 'reasoning_content', 'role']);
      const reasoning = chunks.slice(0, 4).map((c) => c.choices[0]!.delta.reasoning_content).join('');
      assert.equal(reasoning, 'think about this answer'.slice(0, reasoning.length));
      assert.ok(chunks.slice(0, 4).every((c) => c.choices[0]!.delta.content === undefined));
      assert.equal(contentOf(chunks), 'think about this answer');
      assert.equal(chunks.at(-1)!.usage?.completion_tokens_details?.reasoning_tokens, 4);
      assert.equal(chunks.at(-1)!.usage?.completion_tokens, 4 + 4);

      await postJson(`${server.url}/configure`, { reasoning_field: 'reasoning_content' });
      const whole = await chatWhole({ model: 'm', messages: user('think about this answer') });
      assert.equal(whole.choices[0]!.message.content, 'think about this answer');
      assert.equal(whole.choices[0]!.message.reasoning_content, 'think about this answer');
      assert.equal(whole.choices[0]!.message.reasoning, undefined);
    } finally {
      await postJson(`${server.url}/configure`, { reasoning_tokens: 0, reasoning_field: 'both' });
    }
  });

  it('maps reasoning_effort to the reasoning_tokens_* settings', async () => {
    await postJson(`${server.url}/configure`, { reasoning_tokens_low: 3, reasoning_tokens_high: 9 });
    const low = await chatWhole({ model: 'm', messages: user('abc'), reasoning_effort: 'low' });
    assert.equal(low.usage.completion_tokens_details?.reasoning_tokens, 3);
    const high = await chatWhole({ model: 'm', messages: user('abc'), reasoning_effort: 'high', max_tokens: 5 });
    assert.equal(high.usage.completion_tokens, 5, 'the cap counts reasoning too');
    assert.equal(high.usage.completion_tokens_details?.reasoning_tokens, 5);
    assert.equal(high.choices[0]!.finish_reason, 'length');
    const none = await chatWhole({ model: 'm', messages: user('abc'), reasoning_effort: 'none' });
    assert.equal(none.usage.completion_tokens_details?.reasoning_tokens, 0);
    const off = await chatWhole({ model: 'm', messages: user('abc') });
    assert.equal(off.choices[0]!.message.reasoning_content, undefined, 'off by default');
  });
});

describe('identity', () => {
  it('echoes X-Request-ID, makes one when absent, and stamps ids and a fingerprint', async () => {
    const given = await postJson(`${server.url}/v1/chat/completions`, { model: 'm', messages: user('x'), stream: true }, { 'x-request-id': 'trace-42' });
    assert.equal(given.headers.get('x-request-id'), 'trace-42');
    const chunk = JSON.parse((await readSse(given))[0]!.data) as ChatChunk;
    assert.match(chunk.id, /^chatcmpl-[0-9a-f]{24}$/);
    assert.equal(chunk.system_fingerprint, 'fp_aiperf_mock');
    const made = await postJson(`${server.url}/v1/completions`, { model: 'm', prompt: 'x' });
    assert.match(made.headers.get('x-request-id') ?? '', /^req-[0-9a-f]{24}$/);
    const body = (await made.json()) as CompletionResponse;
    assert.match(body.id, /^cmpl-[0-9a-f]{24}$/);
    const a = await chatWhole({ model: 'm', messages: user('x') });
    const b = await chatWhole({ model: 'm', messages: user('x') });
    assert.notEqual(a.id, b.id);
    const err = await fetch(`${server.url}/nowhere`, { headers: { 'x-request-id': 'trace-43' } });
    assert.equal(err.headers.get('x-request-id'), 'trace-43', 'errors carry the id too');
  });
});

// POST /v1/chat/completions against the real server process with the real Qwen3 tokenizer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, readSse, startServer, type RunningServer } from './support/server.js';
import type { ChatChunk, ChatResponse, ErrorBody } from '../src/types.js';

let server: RunningServer;
const chat = (body: object, headers?: Record<string, string>) => postJson(`${server.url}/v1/chat/completions`, body, headers);

async function streamChunks(body: object): Promise<{ chunks: ChatChunk[]; raw: string[]; res: Response }> {
  const res = await chat({ ...body, stream: true });
  assert.equal(res.status, 200);
  const events = await readSse(res);
  assert.equal(events.at(-1)?.data, '[DONE]', 'the stream ends with [DONE]');
  const raw = events.slice(0, -1).map((e) => e.data);
  return { chunks: raw.map((d) => JSON.parse(d) as ChatChunk), raw, res };
}

function joined(chunks: ChatChunk[]): string {
  return chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('');
}

before(async () => {
  server = await startServer(['--ttft', '0', '--itl', '0']);
});
after(async () => {
  await server.stop();
});

describe('chat completions', () => {
  it('echoes an ASCII prompt exactly, non-streaming, with usage', async () => {
    const res = await chat({ model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'Hello, world! How are you today?' }] });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = (await res.json()) as ChatResponse;
    assert.equal(body.object, 'chat.completion');
    assert.match(body.id, /^chatcmpl-[0-9a-f]{24}$/);
    assert.equal(body.model, 'Qwen/Qwen3-0.6B');
    assert.equal(body.choices.length, 1);
    assert.equal(body.choices[0]!.message.role, 'assistant');
    assert.equal(body.choices[0]!.message.content, 'Hello, world! How are you today?');
    assert.equal(body.choices[0]!.finish_reason, 'stop');
    // Qwen3 splits this sentence into 9 tokens.
    assert.equal(body.usage.completion_tokens, 9);
    assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  it('joins user messages with a newline, takes text parts, and ignores other roles', async () => {
    const res = await chat({
      model: 'any-model',
      messages: [
        { role: 'system', content: 'SYSTEM TEXT' },
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ASSISTANT TEXT' },
        { role: 'user', content: [{ type: 'text', text: 'second' }, { type: 'image_url', image_url: { url: 'data:,' } }] },
      ],
    });
    const body = (await res.json()) as ChatResponse;
    assert.equal(body.choices[0]!.message.content, 'first\nsecond');
    // A model that was not preloaded is served with the fallback tokenizer, under its own name.
    assert.equal(body.model, 'any-model');
  });

  it('streams one token per chunk: role with the first token, same id everywhere, finish on the last', async () => {
    const prompt = 'The quick brown fox jumps over the lazy dog.';
    const whole = (await (await chat({ model: 'm', messages: [{ role: 'user', content: prompt }] })).json()) as ChatResponse;
    const { chunks, res } = await streamChunks({ model: 'm', messages: [{ role: 'user', content: prompt }] });
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(chunks.length, whole.usage.completion_tokens, 'one chunk per token, no usage chunk unless asked');
    assert.deepEqual(chunks[0]!.choices[0]!.delta, { role: 'assistant', content: 'The' });
    for (const c of chunks) {
      assert.equal(c.object, 'chat.completion.chunk');
      assert.equal(c.id, chunks[0]!.id);
      assert.equal(c.created, chunks[0]!.created);
      assert.equal(c.model, 'm');
      assert.equal(c.choices.length, 1);
      assert.ok('finish_reason' in c.choices[0]!, 'finish_reason is present on every chunk');
    }
    for (const c of chunks.slice(1)) assert.equal(c.choices[0]!.delta.role, undefined, 'role only on the first chunk');
    for (const c of chunks.slice(0, -1)) assert.equal(c.choices[0]!.finish_reason, null);
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'stop');
    assert.equal(joined(chunks), prompt);
    assert.equal(joined(chunks), whole.choices[0]!.message.content);
  });

  it('does not require Accept: text/event-stream to stream', async () => {
    const res = await chat({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi there' }] }, { accept: 'application/json' });
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = await readSse(res);
    assert.equal(events.at(-1)!.data, '[DONE]');
  });

  it('caps output at max_completion_tokens, else max_tokens, with finish_reason length', async () => {
    const messages = [{ role: 'user', content: 'one two three four five six seven eight' }];
    const a = (await (await chat({ model: 'm', messages, max_tokens: 3 })).json()) as ChatResponse;
    assert.equal(a.usage.completion_tokens, 3);
    assert.equal(a.choices[0]!.message.content, 'one two three');
    assert.equal(a.choices[0]!.finish_reason, 'length');
    const b = (await (await chat({ model: 'm', messages, max_tokens: 3, max_completion_tokens: 5 })).json()) as ChatResponse;
    assert.equal(b.usage.completion_tokens, 5, 'max_completion_tokens wins over max_tokens');
    const c = (await (await chat({ model: 'm', messages, max_tokens: 8 })).json()) as ChatResponse;
    assert.equal(c.choices[0]!.finish_reason, 'stop', 'a cap equal to the echo does not cut it');
    const { chunks } = await streamChunks({ model: 'm', messages, max_completion_tokens: 2 });
    assert.equal(chunks.length, 2);
    assert.equal(chunks[1]!.choices[0]!.finish_reason, 'length');
  });

  it('accepts the fields real clients send, including unknown ones', async () => {
    const res = await chat({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'ok', name: 'me' }],
      temperature: 0.2,
      top_p: 0.9,
      stop: ['\n'],
      seed: 7,
      user: 'u-1',
      tools: [{ type: 'function', function: { name: 'f', parameters: {} } }],
      // Tools act now (test/chat-tools.test.ts): `none` keeps this answer the echo.
      tool_choice: 'none',
      response_format: { type: 'text' },
      logprobs: false,
      frequency_penalty: 0,
      presence_penalty: 0,
      metadata: { a: 'b' },
      some_future_field: { nested: [1, 2, 3] },
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as ChatResponse).choices[0]!.message.content, 'ok');
  });

  it('rejects bad values of the fields it acts on with 400 naming the param', async () => {
    const cases: Array<[object, string]> = [
      [{ model: 'm', messages: [] }, 'messages'],
      [{ model: 'm' }, 'messages'],
      [{ messages: [{ role: 'user', content: 'x' }] }, 'model'],
      [{ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 0 }, 'max_tokens'],
      [{ model: 'm', messages: [{ role: 'user', content: 'x' }], max_completion_tokens: -3 }, 'max_completion_tokens'],
      [{ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 'ten' }, 'max_tokens'],
      [{ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: 'yes' }, 'stream'],
      [{ model: 'm', messages: [{ role: 'user', content: 'x' }], n: 0 }, 'n'],
    ];
    for (const [body, param] of cases) {
      const res = await chat(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const err = (await res.json()) as ErrorBody;
      assert.equal(err.error.type, 'invalid_request_error');
      assert.equal(err.error.param, param, JSON.stringify(err));
      assert.equal(typeof err.error.message, 'string');
      assert.ok('code' in err.error);
    }
  });

  it('answers malformed JSON and wrong content types in OpenAI error shape', async () => {
    const bad = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": ' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as ErrorBody).error.code, 'invalid_json');
    const text = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
    assert.equal(text.status, 415);
    const missing = await fetch(`${server.url}/v1/nothing-here`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as ErrorBody).error.code, 'not_found');
    const method = await fetch(`${server.url}/v1/chat/completions`);
    assert.equal(method.status, 405);
  });

  it('serves every other client while one sends garbage', async () => {
    const streaming = streamChunks({ model: 'm', messages: [{ role: 'user', content: 'steady stream of words here' }] });
    await Promise.all(Array.from({ length: 20 }, () => fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: '\u0000\u0001{{' })));
    assert.equal(joined((await streaming).chunks), 'steady stream of words here');
  });
});

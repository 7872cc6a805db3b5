// Our wire format against OpenAI's own OpenAPI description (shared/conformance/openai-openapi.yaml, beside the
// repository): every JSON body and every SSE chunk the server sends must validate against OpenAI's component
// schemas. The server runs as a real process with the real default (Qwen3) tokenizer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { ROOT, postJson, readSse, startServer, type RunningServer } from './support/server.js';

const SPEC = path.join(ROOT, '..', 'shared', 'conformance', 'openai-openapi.yaml');
const HAVE_SPEC = existsSync(SPEC);
const MISSING = `OpenAI's OpenAPI description is not at ${SPEC} (shared/ must sit beside the clone)`;
const MODEL = 'Qwen/Qwen3-0.6B';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * OpenAPI 3.0's `nullable: true` (left in OpenAI's 3.1 document, sometimes without a `type`) as JSON Schema
 * 2020-12: the schema becomes `anyOf: [the schema without nullable, {type: null}]`.
 */
function denullable(node: Json): Json {
  if (Array.isArray(node)) return node.map(denullable);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) if (k !== 'nullable') out[k] = denullable(v);
  if (node['nullable'] !== true) return out;
  const { description, ...rest } = out;
  const wrapped: JsonObject = { anyOf: [rest, { type: 'null' }] };
  if (description !== undefined) wrapped['description'] = description;
  return wrapped;
}

function formatsIn(node: Json, into = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const v of node) formatsIn(v, into);
  else if (isObject(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'format' && typeof v === 'string') into.add(v);
      else formatsIn(v, into);
    }
  }
  return into;
}

/** The one place where OpenAI's description is narrower than OpenAI's API (see the completions stream test). */
const COMPLETION_CHUNK = 'CreateCompletionResponse_StreamChunk';

interface Oracle {
  validate(component: string, value: unknown): void;
  rejects(component: string, value: unknown): boolean;
}

function loadOracle(): Oracle {
  const doc = parse(readFileSync(SPEC, 'utf8')) as Json;
  assert.ok(isObject(doc) && isObject(doc['components']) && isObject(doc['components']['schemas']), 'no components.schemas');
  const schemas = denullable(doc['components']['schemas']) as JsonObject;

  // Legacy completion streams: OpenAI (like vLLM) sends `finish_reason: null` on every chunk but a choice's last,
  // while its description declares the field a non-nullable string. Chunks that do finish are held to the
  // unmodified CreateCompletionResponse; only the others get this copy, with a null finish_reason allowed.
  const chunk = structuredClone(schemas['CreateCompletionResponse']!) as JsonObject;
  const items = ((chunk['properties'] as JsonObject)['choices'] as JsonObject)['items'] as JsonObject;
  const choiceProps = items['properties'] as JsonObject;
  choiceProps['finish_reason'] = { anyOf: [choiceProps['finish_reason']!, { type: 'null' }] };
  schemas[COMPLETION_CHUNK] = chunk;

  const ajv = new Ajv2020({ strict: false, allErrors: false, validateSchema: false });
  // `unixtime` is OpenAI's own format: an integer count of seconds. Other formats (uri, date, ...) are not
  // checked: Ajv knows none without ajv-formats and our bodies carry none of them.
  for (const f of formatsIn(schemas)) {
    if (f === 'unixtime') ajv.addFormat(f, { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 });
    else ajv.addFormat(f, true);
  }
  ajv.addSchema({ components: { schemas } }, 'openai');
  const cache = new Map<string, ValidateFunction>();
  const get = (component: string): ValidateFunction => {
    let v = cache.get(component);
    if (!v) {
      assert.ok(schemas[component], `OpenAI's description has no component ${component}`);
      v = ajv.compile({ $ref: `openai#/components/schemas/${component}` });
      cache.set(component, v);
    }
    return v;
  };
  return {
    validate(component, value) {
      const v = get(component);
      if (!v(value)) {
        assert.fail(`OpenAI's ${component} rejects our body: ${ajv.errorsText(v.errors)}\n${JSON.stringify(value, null, 1)}`);
      }
    },
    rejects(component, value) {
      return !get(component)(value);
    },
  };
}

test('OpenAI OpenAPI description is available', { skip: HAVE_SPEC || process.env['CI'] ? false : MISSING }, () => {
  // In CI a missing oracle is a failure, not a silent skip.
  assert.ok(HAVE_SPEC, MISSING);
});

// ------------------------------------------------------------------------------------------- helpers

interface Choice {
  index: number;
  finish_reason: string | null;
}
interface ChatChunk {
  id: string;
  created: number;
  choices: Array<Choice & { delta: { role?: string; content?: string; reasoning_content?: string } }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}
interface ChatBody {
  choices: Array<Choice & { message: { role: string; content: string | null } }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}
interface TextChunk {
  id: string;
  choices: Array<Choice & { text: string }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

async function json<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return JSON.parse(text) as T;
}

/** Every data event of a stream as JSON, checking it ends with exactly one `[DONE]`. */
async function chunks<T>(res: Response): Promise<T[]> {
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events = await readSse(res);
  assert.ok(events.length >= 2, 'a stream has at least one chunk and [DONE]');
  assert.equal(events.at(-1)!.data, '[DONE]');
  const body = events.slice(0, -1);
  assert.ok(body.every((e) => e.data !== '[DONE]'), '[DONE] only at the end');
  return body.map((e) => JSON.parse(e.data) as T);
}

/** Chunks per choice index, in order. */
function byChoice<C extends Choice>(list: Array<{ choices: C[] }>): Map<number, C[]> {
  const m = new Map<number, C[]>();
  for (const c of list) for (const ch of c.choices) m.set(ch.index, [...(m.get(ch.index) ?? []), ch]);
  return m;
}

// ------------------------------------------------------------------------------------------- the tests

describe('wire format conforms to OpenAI\'s OpenAPI description', { skip: HAVE_SPEC ? false : MISSING, timeout: 120_000 }, () => {
  let oracle: Oracle;
  let server: RunningServer;
  const PROMPT = 'The quick brown fox jumps over the lazy dog.';

  before(async () => {
    oracle = loadOracle();
    server = await startServer(['--ttft', '0', '--itl', '0']);
  });
  after(async () => {
    await server?.stop();
  });

  const chat = (extra: Record<string, unknown>): Promise<Response> =>
    postJson(`${server.url}/v1/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: PROMPT }], ...extra });
  const completion = (extra: Record<string, unknown>): Promise<Response> =>
    postJson(`${server.url}/v1/completions`, { model: MODEL, ...extra });

  test('the oracle is not vacuous: it rejects bodies OpenAI would never send', () => {
    const good = {
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: 1,
      model: MODEL,
      choices: [{ index: 0, delta: { content: 'x' }, logprobs: null, finish_reason: null }],
    };
    oracle.validate('CreateChatCompletionStreamResponse', good);
    oracle.validate('CreateChatCompletionStreamResponse', { ...good, choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
    assert.ok(oracle.rejects('CreateChatCompletionStreamResponse', { ...good, object: 'chat.completion' }));
    oracle.validate('CreateChatCompletionStreamResponse', { ...good, usage: null });
    assert.ok(oracle.rejects('CreateChatCompletionStreamResponse', { ...good, created: 1.5 }), 'created is an integer');
    assert.ok(oracle.rejects('CreateChatCompletionStreamResponse', { ...good, created: -1 }), 'created is a unixtime');
    assert.ok(oracle.rejects('CreateChatCompletionStreamResponse', { ...good, choices: [{ ...good.choices[0], finish_reason: 'done' }] }));
    assert.ok(oracle.rejects('CreateChatCompletionStreamResponse', { ...good, choices: [{ index: 0, delta: {}, logprobs: null }] }));
    assert.ok(oracle.rejects('CreateChatCompletionStreamResponse', { ...good, usage: { prompt_tokens: 1 } }));
    assert.ok(oracle.rejects('CreateChatCompletionResponse', { ...good, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'x' }, logprobs: null, finish_reason: 'stop' }] }), 'refusal is required');
    assert.ok(oracle.rejects('CreateCompletionResponse', { id: 'cmpl-1', object: 'text_completion', created: 1, model: MODEL, choices: [{ index: 0, text: 'x', logprobs: null, finish_reason: null }] }), 'OpenAI describes finish_reason as never null');
    assert.ok(oracle.rejects('ErrorResponse', { error: { message: 'x', type: 'invalid_request_error' } }), 'param and code are required');
    assert.ok(oracle.rejects('Model', { id: MODEL, object: 'model', created: 1 }));
  });

  // -------------------------------------------------------------------------------- chat, whole

  test('chat completion, non-streaming: CreateChatCompletionResponse and CompletionUsage', async () => {
    const body = await json<ChatBody>(await chat({}));
    oracle.validate('CreateChatCompletionResponse', body);
    oracle.validate('CompletionUsage', body.usage);
    assert.equal(body.choices.length, 1);
    assert.equal(body.choices[0]!.message.content, PROMPT);
    assert.equal(body.choices[0]!.finish_reason, 'stop');
    assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  test('chat completion, non-streaming, n=2 and max_tokens cap: finish_reason length', async () => {
    const body = await json<ChatBody>(await chat({ n: 2, max_tokens: 3 }));
    oracle.validate('CreateChatCompletionResponse', body);
    oracle.validate('CompletionUsage', body.usage);
    assert.deepEqual(body.choices.map((c) => c.index), [0, 1]);
    for (const c of body.choices) {
      assert.equal(c.finish_reason, 'length');
      assert.ok(PROMPT.startsWith(c.message.content ?? '') && c.message.content !== PROMPT);
    }
    assert.equal(body.usage.completion_tokens, 6);
  });

  test('chat completion, non-streaming, with reasoning: extra message fields are allowed', async () => {
    const body = await json<ChatBody>(await chat({ reasoning_effort: 'low' }));
    oracle.validate('CreateChatCompletionResponse', body);
    assert.equal(body.choices[0]!.message.content, PROMPT);
  });

  test('with enable_prefix_caching, usage.prompt_tokens_details.cached_tokens is OpenAI\'s (chat and completions)', async () => {
    assert.equal((await postJson(`${server.url}/configure`, { enable_prefix_caching: true })).status, 200);
    try {
      for (let i = 0; i < 2; i++) {
        const body = await json<ChatBody>(await chat({}));
        oracle.validate('CreateChatCompletionResponse', body);
        oracle.validate('CompletionUsage', body.usage);
        const text = await json<{ usage: { prompt_tokens_details?: { cached_tokens: number } } }>(await completion({ prompt: PROMPT.repeat(4), max_tokens: 2 }));
        oracle.validate('CreateCompletionResponse', text);
        assert.equal(typeof text.usage.prompt_tokens_details?.cached_tokens, 'number');
      }
    } finally {
      await postJson(`${server.url}/configure`, { enable_prefix_caching: false });
    }
  });

  // -------------------------------------------------------------------------------- chat, streamed

  for (const n of [1, 2]) {
    for (const includeUsage of [false, true]) {
      test(`chat completion stream, n=${n}, include_usage ${includeUsage}: every chunk is a CreateChatCompletionStreamResponse`, async () => {
        const list = await chunks<ChatChunk>(
          await chat({ n, stream: true, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) }),
        );
        for (const c of list) oracle.validate('CreateChatCompletionStreamResponse', c);
        assert.equal(new Set(list.map((c) => c.id)).size, 1, 'every chunk has the same id');
        assert.equal(new Set(list.map((c) => c.created)).size, 1, 'every chunk has the same created');

        const usageChunks = list.filter((c) => c.usage != null);
        if (includeUsage) {
          assert.equal(usageChunks.length, 1, 'exactly one usage chunk');
          const last = list.at(-1)!;
          assert.equal(last, usageChunks[0], 'the usage chunk is the last before [DONE]');
          assert.deepEqual(last.choices, []);
          oracle.validate('CompletionUsage', last.usage);
        } else {
          assert.equal(usageChunks.length, 0);
        }

        const perChoice = byChoice(list);
        assert.deepEqual([...perChoice.keys()].sort(), Array.from({ length: n }, (_, i) => i));
        for (const [index, cs] of perChoice) {
          assert.equal(cs[0]!.delta.role, 'assistant', `choice ${index}: the first chunk carries the role`);
          assert.ok(cs.slice(1).every((c) => c.delta.role === undefined), `choice ${index}: the role is sent once`);
          assert.equal(cs.at(-1)!.finish_reason, 'stop', `choice ${index}: the last chunk finishes`);
          assert.ok(cs.slice(0, -1).every((c) => c.finish_reason === null), `choice ${index}: only the last chunk finishes`);
          assert.equal(cs.map((c) => c.delta.content ?? '').join(''), PROMPT);
        }
      });
    }
  }

  test('chat completion stream with max_tokens: the finish chunk says length, usage counts the cap', async () => {
    const list = await chunks<ChatChunk>(await chat({ stream: true, max_tokens: 4, stream_options: { include_usage: true } }));
    for (const c of list) oracle.validate('CreateChatCompletionStreamResponse', c);
    const cs = byChoice(list).get(0)!;
    assert.equal(cs.length, 4);
    assert.equal(cs.at(-1)!.finish_reason, 'length');
    assert.equal(list.at(-1)!.usage!.completion_tokens, 4);
  });

  test('chat completion stream with reasoning: reasoning deltas are valid chunks', async () => {
    const list = await chunks<ChatChunk>(await chat({ stream: true, reasoning_effort: 'low' }));
    for (const c of list) oracle.validate('CreateChatCompletionStreamResponse', c);
    const cs = byChoice(list).get(0)!;
    assert.equal(cs[0]!.delta.role, 'assistant');
    assert.equal(cs.map((c) => c.delta.content ?? '').join(''), PROMPT);
  });

  // -------------------------------------------------------------------------------- legacy completions

  interface TextBody {
    choices: Array<Choice & { text: string }>;
    usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  }

  const prompts: Array<[string, Record<string, unknown>, string[]]> = [
    ['a string prompt', { prompt: PROMPT }, [PROMPT]],
    ['an array of strings', { prompt: ['Hello there.', PROMPT] }, ['Hello there.', PROMPT]],
    ['token ids', { prompt: [785, 3974, 13876, 38835] }, ['The quick brown fox']],
    ['echo: true', { prompt: 'Echo me.', echo: true }, ['Echo me.Echo me.']],
    ['n=2 and a cap', { prompt: PROMPT, n: 2, max_tokens: 2 }, ['The quick', 'The quick']],
  ];
  for (const [name, request, texts] of prompts) {
    test(`completion, non-streaming, ${name}: CreateCompletionResponse`, async () => {
      const body = await json<TextBody>(await completion(request));
      oracle.validate('CreateCompletionResponse', body);
      oracle.validate('CompletionUsage', body.usage);
      assert.deepEqual(body.choices.map((c) => c.text), texts);
      assert.deepEqual(body.choices.map((c) => c.index), texts.map((_, i) => i));
      const capped = typeof request['max_tokens'] === 'number';
      for (const c of body.choices) assert.equal(c.finish_reason, capped ? 'length' : 'stop');
    });

    test(`completion stream, ${name}: every chunk is a CreateCompletionResponse`, async () => {
      const list = await chunks<TextChunk>(
        await completion({ ...request, stream: true, stream_options: { include_usage: true } }),
      );
      for (const c of list) {
        const finishing = c.choices.length > 0 && c.choices.every((ch) => ch.finish_reason !== null);
        // Chunks that finish a choice, and the usage chunk (choices: []), meet OpenAI's description unmodified.
        oracle.validate(finishing || c.choices.length === 0 ? 'CreateCompletionResponse' : COMPLETION_CHUNK, c);
      }
      assert.equal(new Set(list.map((c) => c.id)).size, 1);
      const usageChunk = list.at(-1)!;
      assert.deepEqual(usageChunk.choices, []);
      oracle.validate('CompletionUsage', usageChunk.usage);
      assert.equal(list.filter((c) => c.usage != null).length, 1);
      const perChoice = byChoice(list);
      assert.deepEqual([...perChoice.keys()].sort(), texts.map((_, i) => i));
      for (const [index, cs] of perChoice) {
        assert.equal(cs.map((c) => c.text).join(''), texts[index]);
        assert.equal(cs.at(-1)!.finish_reason, typeof request['max_tokens'] === 'number' ? 'length' : 'stop');
        assert.ok(cs.slice(0, -1).every((c) => c.finish_reason === null));
      }
    });
  }

  // -------------------------------------------------------------------------------- models

  test('GET /v1/models: ListModelsResponse of Model', async () => {
    const res = await fetch(`${server.url}/v1/models`);
    const body = await json<{ data: Array<{ id: string }> }>(res);
    oracle.validate('ListModelsResponse', body);
    for (const m of body.data) oracle.validate('Model', m);
    assert.ok(body.data.some((m) => m.id === MODEL));
  });

  test('GET /v1/models/{model} with a slash in the id: Model', async () => {
    for (const id of [MODEL, encodeURIComponent(MODEL)]) {
      const body = await json<{ id: string }>(await fetch(`${server.url}/v1/models/${id}`));
      oracle.validate('Model', body);
      assert.equal(body.id, MODEL);
    }
  });

  // -------------------------------------------------------------------------------- errors

  test('a 400 validation error is an ErrorResponse naming the field', async () => {
    const body = await json<{ error: { param: string | null; type: string } }>(await chat({ max_tokens: 0 }), 400);
    oracle.validate('ErrorResponse', body);
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal(body.error.param, 'max_tokens');
  });

  test('a 400 for a missing required field is an ErrorResponse', async () => {
    const body = await json<{ error: { param: string | null } }>(await completion({}), 400);
    oracle.validate('ErrorResponse', body);
    assert.equal(body.error.param, 'prompt');
  });

  test('a 404 for an unknown route is an ErrorResponse', async () => {
    const body = await json<object>(await fetch(`${server.url}/v1/nope`), 404);
    oracle.validate('ErrorResponse', body);
  });

  test('a 404 for an unknown model id on /v1/models/{model} is an ErrorResponse', async () => {
    const body = await json<object>(await fetch(`${server.url}/v1/models/no-such-model`), 404);
    oracle.validate('ErrorResponse', body);
  });

  test('a 415 for a body that is not JSON is an ErrorResponse', async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    oracle.validate('ErrorResponse', await json<object>(res, 415));
  });
});

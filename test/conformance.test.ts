// Our wire format against OpenAI's own OpenAPI description (shared/conformance/openai-openapi.yaml, beside the
// repository): every JSON body and every SSE chunk the server sends must validate against OpenAI's component
// schemas. The server runs as a real process with the real default (Qwen3) tokenizer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT, postJson, readSse, startServer, type RunningServer } from './support/server.js';
import { COMPLETION_CHUNK, loadOracle, type JsonObject, type Oracle } from './support/openai.js';

const SPEC = path.join(ROOT, '..', 'shared', 'conformance', 'openai-openapi.yaml');
const HAVE_SPEC = existsSync(SPEC);
const MISSING = `OpenAI's OpenAPI description is not at ${SPEC} (shared/ must sit beside the clone)`;
const MODEL = 'Qwen/Qwen3-0.6B';

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

  // -------------------------------------------------------------------------------- chat tool calls, JSON outputs

  const TOOLS = [
    { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { enum: ['c', 'f'] } }, required: ['city', 'unit'], additionalProperties: false }, strict: true } },
    { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: { tz: { type: 'string' } }, required: ['tz'] } } },
  ];
  const ASK_BOTH = [{ role: 'user', content: 'Call get_time and get_weather for Tokyo.' }];
  /** A request that OpenAI's own request schema accepts, so that the test speaks as OpenAI's clients speak. */
  const toolChat = (extra: Record<string, unknown>): Promise<Response> => {
    const request = { model: MODEL, messages: ASK_BOTH, tools: TOOLS, ...extra };
    oracle.validate('CreateChatCompletionRequest', request);
    return postJson(`${server.url}/v1/chat/completions`, request);
  };
  interface ToolCallBody {
    choices: Array<Choice & { message: { content: string | null; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }> } }>;
  }
  interface ToolCallChunk {
    choices: Array<Choice & { delta: { role?: string; tool_calls?: Array<{ index: number; id?: string; function?: { arguments?: string } }> } }>;
  }

  test('chat tool calls, non-streaming, parallel and n=2: CreateChatCompletionResponse with ChatCompletionMessageToolCall', async () => {
    const body = await json<ToolCallBody>(await toolChat({ n: 2 }));
    oracle.validate('CreateChatCompletionResponse', body);
    for (const c of body.choices) {
      assert.equal(c.finish_reason, 'tool_calls');
      assert.equal(c.message.content, null);
      assert.equal(c.message.tool_calls!.length, 2);
      for (const call of c.message.tool_calls!) oracle.validate('ChatCompletionMessageToolCall', call);
    }
    // The round trip: the calls and their results sent back, in OpenAI's request shapes, answer in text.
    const calls = body.choices[0]!.message.tool_calls!;
    const back = await json<ToolCallBody>(
      await toolChat({
        messages: [...ASK_BOTH, { role: 'assistant', content: null, tool_calls: calls }, ...calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: 'done' }))],
      }),
    );
    oracle.validate('CreateChatCompletionResponse', back);
    assert.equal(back.choices[0]!.finish_reason, 'stop');
  });

  for (const [name, extra] of [
    ['parallel calls', {}],
    ['after reasoning', { reasoning_effort: 'low' }],
    ['cut by the cap', { max_tokens: 9 }],
    ['forced by tool_choice, usage in every chunk', { tool_choice: { type: 'function', function: { name: 'get_time' } }, stream_options: { include_usage: true, continuous_usage_stats: true } }],
  ] as const) {
    test(`chat tool call stream, ${name}: CreateChatCompletionStreamResponse with ChatCompletionMessageToolCallChunk deltas`, async () => {
      const list = await chunks<ToolCallChunk>(await toolChat({ stream: true, ...extra }));
      for (const c of list) oracle.validate('CreateChatCompletionStreamResponse', c);
      const deltas = list.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
      assert.ok(deltas.length > 0);
      for (const d of deltas) oracle.validate('ChatCompletionMessageToolCallChunk', d);
      const last = byChoice(list).get(0)!.at(-1)!;
      assert.equal(last.finish_reason, 'max_tokens' in extra ? 'length' : 'tool_calls');
    });
  }

  test('chat JSON outputs, whole and streamed, are plain completions', async () => {
    const formats = [
      { type: 'json_object' },
      { type: 'json_schema', json_schema: { name: 'person', strict: true, schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false } } },
    ];
    for (const response_format of formats) {
      const request = { model: MODEL, messages: [{ role: 'user', content: PROMPT }], response_format };
      oracle.validate('CreateChatCompletionRequest', request);
      const body = await json<ChatBody>(await chat({ response_format }));
      oracle.validate('CreateChatCompletionResponse', body);
      const list = await chunks<ChatChunk>(await chat({ response_format, stream: true }));
      for (const c of list) oracle.validate('CreateChatCompletionStreamResponse', c);
      assert.equal(list.map((c) => c.choices[0]?.delta.content ?? '').join(''), body.choices[0]!.message.content);
    }
  });

  test('the 400s of tool calls and JSON outputs are ErrorResponses', async () => {
    const refusals = [
      await chat({ tool_choice: 'required' }),
      await toolChat({ tool_choice: { type: 'function', function: { name: 'nope' } } }),
      await chat({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'nonsense' } } } }),
    ];
    for (const res of refusals) oracle.validate('ErrorResponse', await json(res, 400));
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

  test('a LoRA adapter loaded at run time: its Model entry, and a chat completion to it', async () => {
    const load = await postJson(`${server.url}/v1/load_lora_adapter`, { lora_name: 'conformance-lora', lora_path: '/adapters/conformance' });
    assert.equal(load.status, 200, await load.text());
    try {
      const list = await json<{ data: Array<{ id: string }> }>(await fetch(`${server.url}/v1/models`));
      oracle.validate('ListModelsResponse', list);
      const adapter = list.data.find((m) => m.id === 'conformance-lora');
      assert.ok(adapter, 'the adapter is listed');
      oracle.validate('Model', adapter);
      oracle.validate('Model', await json<object>(await fetch(`${server.url}/v1/models/conformance-lora`)));
      const body = await json<{ model: string }>(await postJson(`${server.url}/v1/chat/completions`, { model: 'conformance-lora', messages: [{ role: 'user', content: PROMPT }] }));
      oracle.validate('CreateChatCompletionResponse', body);
      assert.equal(body.model, 'conformance-lora');
    } finally {
      await postJson(`${server.url}/v1/unload_lora_adapter`, { lora_name: 'conformance-lora' });
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

// ------------------------------------------------------------------------------------------- OpenAI Responses

describe("Responses conform to OpenAI's OpenAPI description", { skip: HAVE_SPEC ? false : MISSING, timeout: 120_000 }, () => {
  let oracle: Oracle;
  let server: RunningServer;
  const WEATHER = {
    type: 'function',
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } }, required: ['city', 'unit'], additionalProperties: false },
    strict: true,
  };

  before(async () => {
    oracle = loadOracle();
    server = await startServer(['--ttft', '0', '--itl', '0']);
  });
  after(async () => {
    await server?.stop();
  });

  const create = (body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> =>
    postJson(`${server.url}/v1/responses`, { model: MODEL, input: 'The quick brown fox jumps over the lazy dog.', ...body }, headers);

  /** OpenAI's component of each event type we send (ResponseStreamEvent is their union). */
  const EVENT_SCHEMAS: Record<string, string> = {
    'response.created': 'ResponseCreatedEvent',
    'response.in_progress': 'ResponseInProgressEvent',
    'response.completed': 'ResponseCompletedEvent',
    'response.incomplete': 'ResponseIncompleteEvent',
    'response.output_item.added': 'ResponseOutputItemAddedEvent',
    'response.output_item.done': 'ResponseOutputItemDoneEvent',
    'response.content_part.added': 'ResponseContentPartAddedEvent',
    'response.content_part.done': 'ResponseContentPartDoneEvent',
    'response.output_text.delta': 'ResponseTextDeltaEvent',
    'response.output_text.done': 'ResponseTextDoneEvent',
    'response.reasoning_summary_part.added': 'ResponseReasoningSummaryPartAddedEvent',
    'response.reasoning_summary_part.done': 'ResponseReasoningSummaryPartDoneEvent',
    'response.reasoning_summary_text.delta': 'ResponseReasoningSummaryTextDeltaEvent',
    'response.reasoning_summary_text.done': 'ResponseReasoningSummaryTextDoneEvent',
    'response.function_call_arguments.delta': 'ResponseFunctionCallArgumentsDeltaEvent',
    'response.function_call_arguments.done': 'ResponseFunctionCallArgumentsDoneEvent',
    error: 'ResponseErrorEvent',
  };

  /** Every event of a stream, each checked against OpenAI's schema of its type, their union, and its `event:` line. */
  async function events(res: Response): Promise<JsonObject[]> {
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const list = await readSse(res);
    return list.map((e, i) => {
      const data = JSON.parse(e.data) as JsonObject;
      assert.equal(e.event, data['type'], 'the event: line names the event');
      assert.equal(data['sequence_number'], i, 'sequence numbers count from 0 without gaps');
      const component = EVENT_SCHEMAS[String(data['type'])];
      assert.ok(component, `an event type OpenAI does not send: ${String(data['type'])}`);
      oracle.validate(component, data);
      oracle.validate('ResponseStreamEvent', data);
      return data;
    });
  }

  test('the oracle is not vacuous: it rejects events and responses OpenAI would never send', () => {
    assert.ok(oracle.rejects('ResponseStreamEvent', { type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'x', sequence_number: 1 }), 'a delta without logprobs');
    assert.ok(oracle.rejects('ResponseUsage', { input_tokens: 1, input_tokens_details: { cached_tokens: 0 }, output_tokens: 1, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 2 }));
  });

  test('a whole response, with instructions and reasoning: Response', async () => {
    const body = await json<JsonObject>(await create({ instructions: 'Be terse.', reasoning: { effort: 'low' } }));
    oracle.validate('Response', body);
    assert.equal(body['status'], 'completed');
  });

  test('a whole response cut by max_output_tokens: Response, incomplete', async () => {
    const body = await json<JsonObject>(await create({ max_output_tokens: 16, reasoning: { effort: 'low' } }));
    oracle.validate('Response', body);
    assert.deepEqual(body['incomplete_details'], { reason: 'max_output_tokens' });
  });

  test('a whole response with function calls, and a json_schema text: Response', async () => {
    oracle.validate('Response', await json<JsonObject>(await create({ tools: [WEATHER], tool_choice: 'required' })));
    const format = { type: 'json_schema', name: 'fox', schema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'], additionalProperties: false }, strict: true };
    oracle.validate('Response', await json<JsonObject>(await create({ text: { format } })));
  });

  test('a stream with reasoning: every event is a ResponseStreamEvent', async () => {
    const list = await events(await create({ stream: true, reasoning: { effort: 'low' } }));
    assert.equal(list.at(-1)!['type'], 'response.completed');
    oracle.validate('Response', list.at(-1)!['response']);
  });

  test('a stream cut by max_output_tokens ends with response.incomplete', async () => {
    const list = await events(await create({ stream: true, max_output_tokens: 16, reasoning: { effort: 'low' } }));
    assert.equal(list.at(-1)!['type'], 'response.incomplete');
  });

  test('a stream of parallel function calls: every event is a ResponseStreamEvent', async () => {
    const time = { type: 'function', name: 'get_time', parameters: { type: 'object', properties: {}, additionalProperties: false }, strict: true };
    const list = await events(await create({ stream: true, input: 'get_weather and get_time, please', tools: [WEATHER, time] }));
    assert.equal(list.filter((e) => e['type'] === 'response.function_call_arguments.done').length, 2);
  });

  test('an error mid-stream is an error event; a fault before it an ErrorResponse', async () => {
    const list = await events(await create({ stream: true }, { 'x-mock-abort-after': '2' }));
    assert.equal(list.at(-1)!['type'], 'error');
    oracle.validate('ErrorResponse', await json<object>(await create({ stream: true }, { 'x-mock-error': '429' }), 429));
  });

  test('unknown previous_response_id (400) and GET of an unknown id (404): ErrorResponse', async () => {
    oracle.validate('ErrorResponse', await json<object>(await create({ previous_response_id: 'resp_nope' }), 400));
    oracle.validate('ErrorResponse', await json<object>(await fetch(`${server.url}/v1/responses/resp_nope`), 404));
  });

  test('GET of a stored response: Response', async () => {
    const made = await json<JsonObject>(await create({}));
    oracle.validate('Response', await json<JsonObject>(await fetch(`${server.url}/v1/responses/${String(made['id'])}`)));
  });
});

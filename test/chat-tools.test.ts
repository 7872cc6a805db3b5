// Tool calls in chat completions, over the wire of a real server with the real Qwen3 tokenizer: the rule's
// branches (tool_choice, X-Mock-Tool-Call, the tool_call setting, tool results), arguments that validate
// against the tool's schema, streamed as OpenAI streams them, cut by the cap, and OpenAI's 400s.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { postJson, readSse, startServer, type RunningServer } from './support/server.js';
import { refused } from './support/openai.js';
import { createMockClient, MockServerError } from '../src/client.js';
import type { ChatChunk, ChatResponse, ChatTool } from '../src/types.js';

let server: RunningServer;
const chat = (body: object, headers?: Record<string, string>) => postJson(`${server.url}/v1/chat/completions`, body, headers);

const WEATHER: ChatTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', minLength: 1 }, unit: { enum: ['celsius', 'fahrenheit'] }, days: { type: 'integer', minimum: 1, maximum: 7 } },
      required: ['city', 'unit', 'days'],
      additionalProperties: false,
    },
  },
};
const TIME: ChatTool = {
  type: 'function',
  function: {
    name: 'get_time',
    parameters: { type: 'object', properties: { timezone: { type: 'string' }, verbose: { type: 'boolean' } }, required: ['timezone', 'verbose'] },
  },
};
const TOOLS = [WEATHER, TIME];
const ask = (content: string) => [{ role: 'user', content }];
const base = { model: 'Qwen/Qwen3-0.6B', tools: TOOLS };

async function whole(body: object, headers?: Record<string, string>): Promise<ChatResponse> {
  const res = await chat({ ...base, ...body }, headers);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as ChatResponse;
}

async function streamed(body: object, headers?: Record<string, string>): Promise<ChatChunk[]> {
  const res = await chat({ ...base, ...body, stream: true, stream_options: { include_usage: true } }, headers);
  assert.equal(res.status, 200, await res.clone().text());
  const events = await readSse(res);
  assert.equal(events.at(-1)?.data, '[DONE]');
  return events.slice(0, -1).map((e) => JSON.parse(e.data) as ChatChunk);
}

/** The calls a stream makes, put together as a client does: by index, the id and name once, arguments joined. */
function assemble(chunks: ChatChunk[]): Array<{ id: string; name: string; arguments: string }> {
  const calls: Array<{ id: string; name: string; arguments: string }> = [];
  for (const c of chunks) {
    for (const d of c.choices[0]?.delta.tool_calls ?? []) {
      if (d.id !== undefined) {
        assert.equal(d.index, calls.length, 'calls open in order');
        assert.equal(d.type, 'function');
        assert.equal(d.function?.arguments, '', 'the opening delta has empty arguments');
        calls.push({ id: d.id, name: d.function!.name!, arguments: '' });
      } else {
        assert.equal(d.function?.name, undefined, 'only the opening delta names the function');
        calls[d.index]!.arguments += d.function!.arguments!;
      }
    }
  }
  return calls;
}

const ajv = new Ajv2020({ strict: false });
function assertValid(tool: ChatTool, args: string): void {
  const validate = ajv.compile(tool.function.parameters!);
  assert.ok(validate(JSON.parse(args)), `${args} against ${tool.function.name}: ${ajv.errorsText(validate.errors)}`);
}

before(async () => {
  server = await startServer(['--ttft', '0', '--itl', '0']);
});
after(async () => {
  await server.stop();
});

describe('chat tool calls', () => {
  it('calls the tool the user names, with arguments valid against its schema, whole', async () => {
    const body = await whole({ messages: ask('What is the weather in Paris? Use get_weather.') });
    const choice = body.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    assert.equal(choice.message.refusal, null);
    const calls = choice.message.tool_calls!;
    assert.equal(calls.length, 1);
    assert.match(calls[0]!.id, /^call_[0-9a-f]{24}$/);
    assert.equal(calls[0]!.type, 'function');
    assert.equal(calls[0]!.function.name, 'get_weather');
    assertValid(WEATHER, calls[0]!.function.arguments);
  });

  it('streams each call as OpenAI does: an opening delta, then one delta per argument token', async () => {
    const messages = ask('What is the weather in Paris? Use get_weather.');
    const chunks = await streamed({ messages });
    const usage = chunks.at(-1)!.usage!;
    const tokens = chunks.slice(0, -1);
    const first = tokens[0]!.choices[0]!.delta;
    assert.equal(first.role, 'assistant');
    assert.equal(first.content, null);
    assert.equal(first.tool_calls?.[0]?.function?.name, 'get_weather');
    const fragments = tokens.filter((c) => c.choices[0]!.delta.tool_calls?.[0]?.id === undefined);
    assert.equal(fragments.length, usage.completion_tokens, 'one delta per argument token, as usage counts them');
    assert.ok(fragments.every((c) => c.choices[0]!.delta.content === undefined), 'no content beside the calls');
    assert.deepEqual(
      tokens.map((c) => c.choices[0]!.finish_reason),
      [...Array<null>(tokens.length - 1).fill(null), 'tool_calls'],
    );
    const calls = assemble(tokens);
    const again = await whole({ messages });
    assert.equal(calls[0]!.arguments, again.choices[0]!.message.tool_calls![0]!.function.arguments, 'the stream joins to the whole answer');
    assert.equal(usage.completion_tokens, again.usage.completion_tokens);
    assert.equal(usage.prompt_tokens, again.usage.prompt_tokens);
  });

  it('is deterministic: the same prompt gets the same calls, another prompt other arguments', async () => {
    const args = async (q: string) => (await whole({ messages: ask(q) })).choices[0]!.message.tool_calls!.map((c) => c.function.arguments);
    const a = await args('Weather in Oslo, get_weather please');
    assert.deepEqual(await args('Weather in Oslo, get_weather please'), a);
    const others = await Promise.all(['Weather in Rome?', 'Weather in Lima?', 'Weather in Kyiv?'].map(args));
    assert.ok(others.some((o) => o[0] !== a[0]), 'the prompt seeds the arguments');
  });

  it('calls every named tool when parallel calls are allowed (the default), the first one otherwise', async () => {
    const messages = ask('Call get_time and get_weather for Tokyo.');
    const both = await whole({ messages });
    const calls = both.choices[0]!.message.tool_calls!;
    assert.deepEqual(calls.map((c) => c.function.name), ['get_weather', 'get_time']);
    assert.notEqual(calls[0]!.id, calls[1]!.id);
    assertValid(WEATHER, calls[0]!.function.arguments);
    assertValid(TIME, calls[1]!.function.arguments);
    const streamedCalls = assemble(await streamed({ messages }));
    assert.deepEqual(streamedCalls.map((c) => [c.name, c.arguments]), calls.map((c) => [c.function.name, c.function.arguments]));
    const one = await whole({ messages, parallel_tool_calls: false });
    assert.deepEqual(one.choices[0]!.message.tool_calls!.map((c) => c.function.name), ['get_weather']);
  });

  it('calls the first tool when the user names none', async () => {
    const body = await whole({ messages: ask('Hello there.') });
    assert.deepEqual(body.choices[0]!.message.tool_calls!.map((c) => c.function.name), ['get_weather']);
  });

  it('answers in text once the tool results come back, with the results counted in the prompt', async () => {
    const first = await whole({ messages: ask('Weather in Paris? get_weather') });
    const call = first.choices[0]!.message.tool_calls![0]!;
    const messages = [
      ...ask('Weather in Paris? get_weather'),
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: '{"temperature": 21}' },
    ];
    const body = await whole({ messages });
    assert.equal(body.choices[0]!.finish_reason, 'stop');
    assert.equal(body.choices[0]!.message.tool_calls, undefined);
    assert.equal(body.choices[0]!.message.content, 'Weather in Paris? get_weather', 'the usual echo');
    assert.ok(body.usage.prompt_tokens > first.usage.prompt_tokens, 'the call and its result are in the prompt');
    const text = (await streamed({ messages })).flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('');
    assert.equal(text, 'Weather in Paris? get_weather');
  });

  it('/tokenize renders the tools and tool calls as prompt_tokens counts them', async () => {
    const messages = [
      ...ask('Weather in Paris? get_weather'),
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
    ];
    for (const m of [messages, ask('Weather in Paris? get_weather')]) {
      const body = await whole({ messages: m });
      const res = await postJson(`${server.url}/tokenize`, { model: 'Qwen/Qwen3-0.6B', messages: m, tools: TOOLS });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(((await res.json()) as { count: number }).count, body.usage.prompt_tokens);
    }
  });

  it('follows tool_choice: none never calls, required and a named function always do', async () => {
    const none = await whole({ messages: ask('get_weather now'), tool_choice: 'none' });
    assert.equal(none.choices[0]!.finish_reason, 'stop');
    assert.equal(none.choices[0]!.message.content, 'get_weather now');
    const forcedNone = await whole({ messages: ask('get_weather now'), tool_choice: 'none' }, { 'x-mock-tool-call': 'always' });
    assert.equal(forcedNone.choices[0]!.message.tool_calls, undefined, 'none wins over the header');
    const required = await whole({ messages: ask('get_weather now'), tool_choice: 'required' }, { 'x-mock-tool-call': 'never' });
    assert.equal(required.choices[0]!.finish_reason, 'tool_calls');
    const named = await whole({ messages: ask('get_weather now'), tool_choice: { type: 'function', function: { name: 'get_time' } } });
    assert.deepEqual(named.choices[0]!.message.tool_calls!.map((c) => c.function.name), ['get_time']);
    assertValid(TIME, named.choices[0]!.message.tool_calls![0]!.function.arguments);
  });

  it('follows X-Mock-Tool-Call: always calls even after tool results, never answers in text, a name calls that tool', async () => {
    const afterResult = [...ask('get_weather'), { role: 'assistant', content: '' }, { role: 'tool', tool_call_id: 'call_1', content: 'sunny' }];
    assert.equal((await whole({ messages: afterResult }, { 'x-mock-tool-call': 'always' })).choices[0]!.finish_reason, 'tool_calls');
    assert.equal((await whole({ messages: ask('get_weather') }, { 'x-mock-tool-call': 'never' })).choices[0]!.finish_reason, 'stop');
    const named = await whole({ messages: ask('get_weather') }, { 'x-mock-tool-call': 'get_time' });
    assert.deepEqual(named.choices[0]!.message.tool_calls!.map((c) => c.function.name), ['get_time']);
  });

  it('follows the tool_call setting, changed by /configure', async () => {
    try {
      assert.equal((await postJson(`${server.url}/configure`, { tool_call: 'never' })).status, 200);
      assert.equal((await whole({ messages: ask('get_weather') })).choices[0]!.finish_reason, 'stop');
      const afterResult = [...ask('get_weather'), { role: 'tool', tool_call_id: 'call_1', content: 'sunny' }];
      assert.equal((await postJson(`${server.url}/configure`, { tool_call: 'always' })).status, 200);
      assert.equal((await whole({ messages: afterResult })).choices[0]!.finish_reason, 'tool_calls');
    } finally {
      await postJson(`${server.url}/configure`, { tool_call: 'auto' });
    }
  });

  it('lets the cap cut the arguments: finish_reason length, the stream and the whole answer agree', async () => {
    const messages = ask('Call get_time and get_weather for Tokyo.');
    const full = await whole({ messages });
    const firstLength = (await streamed({ messages, parallel_tool_calls: false })).at(-1)!.usage!.completion_tokens;
    // A cap inside the second call: the first is whole, the second cut short.
    const cap = firstLength + 2;
    const cut = await whole({ messages, max_tokens: cap });
    assert.equal(cut.choices[0]!.finish_reason, 'length');
    assert.equal(cut.usage.completion_tokens, cap);
    const calls = cut.choices[0]!.message.tool_calls!;
    assert.equal(calls.length, 2);
    assert.equal(calls[0]!.function.arguments, full.choices[0]!.message.tool_calls![0]!.function.arguments);
    assert.ok(full.choices[0]!.message.tool_calls![1]!.function.arguments.startsWith(calls[1]!.function.arguments));
    assert.ok(calls[1]!.function.arguments.length < full.choices[0]!.message.tool_calls![1]!.function.arguments.length);
    const chunks = await streamed({ messages, max_tokens: cap });
    assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, 'length');
    assert.deepEqual(assemble(chunks).map((c) => c.arguments), calls.map((c) => c.function.arguments));
    // A cap inside the first call: the second never opens.
    const early = await whole({ messages, max_tokens: 2 });
    assert.equal(early.choices[0]!.message.tool_calls!.length, 1);
  });

  it('neither ignore_eos nor min_tokens lengthen a call past its JSON', async () => {
    const messages = ask('get_weather in Paris');
    const plain = await whole({ messages });
    const pushed = await whole({ messages, ignore_eos: true, min_tokens: 50, max_tokens: 100 });
    assert.deepEqual(pushed.choices[0]!.message.tool_calls!.map((c) => c.function.arguments), plain.choices[0]!.message.tool_calls!.map((c) => c.function.arguments));
    assert.equal(pushed.choices[0]!.finish_reason, 'tool_calls');
  });

  it('streams reasoning before the calls, and gives each choice its own call ids', async () => {
    const chunks = await streamed({ messages: ask('get_weather'), reasoning_effort: 'low' });
    const opening = chunks.findIndex((c) => c.choices[0]?.delta.tool_calls !== undefined);
    assert.ok(opening > 0);
    assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
    assert.ok(chunks.slice(0, opening).every((c) => c.choices[0]!.delta.reasoning_content !== undefined));
    assert.equal(chunks[opening]!.choices[0]!.delta.role, undefined, 'the role came with the first reasoning delta');
    const two = await whole({ messages: ask('get_weather'), n: 2 });
    const [a, b] = two.choices.map((c) => c.message.tool_calls![0]!);
    assert.notEqual(a!.id, b!.id);
    assert.equal(a!.function.arguments, b!.function.arguments);
  });

  it('the typed client sends tools and reads the calls, whole and streamed, with X-Mock-Tool-Call as a header option', async () => {
    const client = createMockClient(server.url);
    const body = await client.createChatCompletion({ model: 'Qwen/Qwen3-0.6B', messages: ask('get_weather'), tools: TOOLS }, { headers: { 'x-mock-tool-call': 'get_time' } });
    assert.equal(body.choices[0]!.message.tool_calls![0]!.function.name, 'get_time');
    const names: string[] = [];
    for await (const c of client.streamChat({ model: 'Qwen/Qwen3-0.6B', messages: ask('get_weather'), tools: TOOLS })) {
      for (const d of c.choices[0]?.delta.tool_calls ?? []) if (d.function?.name) names.push(d.function.name);
    }
    assert.deepEqual(names, ['get_weather']);
    await assert.rejects(client.createChatCompletion({ model: 'm', messages: ask('x'), tool_choice: 'required' }), (e: unknown) => e instanceof MockServerError && e.status === 400);
  });

  it("refuses what OpenAI refuses, in OpenAI's words", async () => {
    const noTools = await refused(await chat({ model: 'm', messages: ask('hi'), tool_choice: 'auto' }), 400);
    assert.equal(noTools.message, "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.");
    assert.equal(noTools.param, 'tool_choice');
    const unknown = await refused(await chat({ ...base, messages: ask('hi'), tool_choice: { type: 'function', function: { name: 'nope' } } }), 400);
    assert.equal(unknown.message, "Tool choice 'nope' not found in 'tools' parameter.");
    assert.equal(unknown.param, 'tool_choice');
    const header = await refused(await chat({ ...base, messages: ask('hi') }, { 'x-mock-tool-call': 'nope' }), 400);
    assert.match(header.message, /X-Mock-Tool-Call names 'nope'/);
    const bad = { type: 'function', function: { name: 'broken', parameters: { type: 'object', properties: { a: { type: 'nonsense' } }, required: ['a'] } } };
    const schema = await refused(await chat({ model: 'm', messages: ask('broken'), tools: [WEATHER, bad] }), 400);
    assert.match(schema.message, /^Invalid schema for function 'broken': /);
    assert.equal(schema.param, 'tools[1].function.parameters');
    assert.equal(schema.code, 'invalid_function_parameters');
  });
});

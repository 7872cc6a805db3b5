// POST /v1/responses and GET /v1/responses/{id} on a real server with the real Qwen3 tokenizer: the echo, the
// token counts against chat's, the exact event sequence, the cap, tools, structured text, storage and errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { postJson, readSse, startServer, type RunningServer } from './support/server.js';
import { createMockClient, MockServerError } from '../src/client.js';

const MODEL = 'Qwen/Qwen3-0.6B';
const PROMPT = 'The quick brown fox jumps over the lazy dog.';

interface Item {
  id: string;
  type: string;
  status?: string;
  content?: Array<{ type: string; text: string }>;
  summary?: Array<{ type: string; text: string }>;
  name?: string;
  arguments?: string;
  call_id?: string;
}
interface ResponseBody {
  id: string;
  object: string;
  status: string;
  incomplete_details: { reason: string } | null;
  output: Item[];
  previous_response_id: string | null;
  usage: { input_tokens: number; output_tokens: number; total_tokens: number; output_tokens_details: { reasoning_tokens: number } };
}
interface Event {
  type: string;
  sequence_number: number;
  delta?: string;
  text?: string;
  arguments?: string;
  output_index?: number;
  response?: ResponseBody;
  item?: Item;
}

const WEATHER = {
  type: 'function',
  name: 'get_weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

const text = (r: ResponseBody): string =>
  r.output
    .filter((i) => i.type === 'message')
    .flatMap((i) => i.content ?? [])
    .map((c) => c.text)
    .join('');

describe('OpenAI Responses', { timeout: 120_000 }, () => {
  let server: RunningServer;

  before(async () => {
    server = await startServer(['--ttft', '0', '--itl', '0']);
  });
  after(async () => {
    await server?.stop();
  });

  const create = (body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> =>
    postJson(`${server.url}/v1/responses`, { model: MODEL, input: PROMPT, ...body }, headers);

  async function whole(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<ResponseBody> {
    const res = await create(body, headers);
    const t = await res.text();
    assert.equal(res.status, 200, t);
    return JSON.parse(t) as ResponseBody;
  }

  async function stream(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Event[]> {
    const res = await create({ ...body, stream: true }, headers);
    assert.equal(res.status, 200);
    return (await readSse(res)).map((e) => JSON.parse(e.data) as Event);
  }

  async function error(res: Response, status: number): Promise<{ message: string; type: string; param: string | null; code: string | number | null }> {
    const t = await res.text();
    assert.equal(res.status, status, t);
    return (JSON.parse(t) as { error: { message: string; type: string; param: string | null; code: string | null } }).error;
  }

  test('the output text is the last user text; input_tokens is what chat counts for the same messages', async () => {
    const input = [
      { role: 'user', content: 'An earlier question.' },
      { role: 'assistant', content: [{ type: 'output_text', text: 'An earlier answer.' }] },
      { role: 'user', content: [{ type: 'input_text', text: PROMPT }] },
    ];
    const r = await whole({ instructions: 'Be terse.', input });
    assert.match(r.id, /^resp_/);
    assert.equal(r.object, 'response');
    assert.equal(r.status, 'completed');
    assert.equal(text(r), PROMPT);
    const chat = await postJson(`${server.url}/v1/chat/completions`, {
      model: MODEL,
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'An earlier question.' },
        { role: 'assistant', content: 'An earlier answer.' },
        { role: 'user', content: PROMPT },
      ],
    });
    const usage = ((await chat.json()) as { usage: { prompt_tokens: number } }).usage;
    assert.equal(r.usage.input_tokens, usage.prompt_tokens);
    assert.equal(r.usage.total_tokens, r.usage.input_tokens + r.usage.output_tokens);
  });

  test('a stream: the exact event sequence, sequence numbers from 0, deltas that add up to the whole text', async () => {
    const events = await stream({ reasoning: { effort: 'low' } });
    events.forEach((e, i) => assert.equal(e.sequence_number, i));
    const kinds = events.map((e) => e.type).filter((t, i, a) => !(t.endsWith('.delta') && a[i - 1] === t));
    assert.deepEqual(kinds, [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const deltas = events.filter((e) => e.type === 'response.output_text.delta');
    const reasoning = events.filter((e) => e.type === 'response.reasoning_summary_text.delta');
    assert.equal(deltas.map((e) => e.delta).join(''), PROMPT);
    assert.equal(events.find((e) => e.type === 'response.output_text.done')!.text, PROMPT);
    const done = events.at(-1)!.response!;
    assert.equal(done.usage.output_tokens, deltas.length + reasoning.length, 'one delta per token');
    assert.equal(done.usage.output_tokens_details.reasoning_tokens, reasoning.length);
    assert.equal(done.output[0]!.summary![0]!.text, reasoning.map((e) => e.delta).join(''));
    assert.equal(events[0]!.response!.status, 'in_progress');
  });

  test("reasoning.effort sets the reasoning tokens as chat's reasoning_effort does, OpenAI's newest levels included", async () => {
    const tokens = async (effort: string): Promise<number> => (await whole({ reasoning: { effort } })).usage.output_tokens_details.reasoning_tokens;
    const chat = async (effort: string): Promise<number> => {
      const res = await postJson(`${server.url}/v1/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: PROMPT }], reasoning_effort: effort });
      return ((await res.json()) as { usage: { completion_tokens_details: { reasoning_tokens: number } } }).usage.completion_tokens_details.reasoning_tokens;
    };
    for (const effort of ['none', 'low', 'medium', 'high']) assert.equal(await tokens(effort), await chat(effort), effort);
    assert.ok((await tokens('low')) < (await tokens('high')));
    assert.equal(await tokens('xhigh'), await tokens('high'));
    assert.equal(await tokens('max'), await tokens('high'));
  });

  test('max_output_tokens: incomplete at the cap, whole and streamed; below 16 is a 400', async () => {
    const r = await whole({ max_output_tokens: 16, reasoning: { effort: 'low' } });
    assert.equal(r.status, 'incomplete');
    assert.deepEqual(r.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal(r.usage.output_tokens, 16);
    const events = await stream({ max_output_tokens: 20, reasoning: { effort: 'low' } });
    assert.equal(events.at(-1)!.type, 'response.incomplete');
    assert.equal(events.at(-1)!.response!.usage.output_tokens, 20);
    assert.equal(events.filter((e) => e.type.endsWith('.delta')).length, 20);
    const long = `${PROMPT} ${PROMPT} ${PROMPT}`;
    const cut = await whole({ input: long, max_output_tokens: 16 });
    assert.equal(cut.output.at(-1)!.status, 'incomplete');
    assert.ok(long.startsWith(text(cut)) && text(cut).length < long.length);
    const e = await error(await create({ max_output_tokens: 10 }), 400);
    assert.equal(e.param, 'max_output_tokens');
  });

  test('tools: a function call (whole and streamed), then its output gives text again', async () => {
    const r = await whole({ input: 'What is the weather in Paris?', tools: [WEATHER] });
    assert.equal(r.output.length, 1);
    const call = r.output[0]!;
    assert.equal(call.type, 'function_call');
    assert.match(call.id, /^fc_/);
    assert.match(call.call_id!, /^call_/);
    assert.equal(call.name, 'get_weather');
    assert.equal(typeof (JSON.parse(call.arguments!) as { city: unknown }).city, 'string');

    const events = await stream({ input: 'What is the weather in Paris?', tools: [WEATHER] });
    const args = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta).join('');
    assert.equal(args, call.arguments, 'the same prompt gets the same arguments');
    assert.equal(events.find((e) => e.type === 'response.function_call_arguments.done')!.arguments, call.arguments);

    const next = await whole({
      tools: [WEATHER],
      input: [
        { role: 'user', content: 'What is the weather in Paris?' },
        { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: 'function_call_output', call_id: call.call_id, output: '{"temperature": 21}' },
      ],
    });
    assert.equal(next.output[0]!.type, 'message');
    assert.equal(text(next), 'What is the weather in Paris?');

    assert.equal((await whole({ tools: [WEATHER], tool_choice: 'none' })).output[0]!.type, 'message');
    const forced = await whole({ tools: [WEATHER], tool_choice: { type: 'function', name: 'get_weather' } });
    assert.equal(forced.output[0]!.name, 'get_weather');
    assert.equal((await error(await create({ tools: [WEATHER], tool_choice: { type: 'function', name: 'nope' } }), 400)).param, 'tool_choice');
    assert.equal((await whole({ tools: [WEATHER] }, { 'x-mock-tool-call': 'never' })).output[0]!.type, 'message');
  });

  test('text.format json_schema and json_object: the text is JSON valid against the schema', async () => {
    const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 } }, required: ['name', 'age'], additionalProperties: false };
    const r = await whole({ text: { format: { type: 'json_schema', name: 'person', schema, strict: true } } });
    const validate = new Ajv2020({ strict: false }).compile(schema);
    assert.ok(validate(JSON.parse(text(r))), text(r));
    const events = await stream({ text: { format: { type: 'json_schema', name: 'person', schema, strict: true } } });
    assert.equal(events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join(''), text(r));
    const obj = await whole({ text: { format: { type: 'json_object' } } });
    assert.equal(typeof JSON.parse(text(obj)), 'object');
  });

  test('store: GET returns the stored response; previous_response_id continues it; unknown ids are errors', async () => {
    const first = await whole({ input: 'My name is Ada.' });
    const got = await fetch(`${server.url}/v1/responses/${first.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(await got.json(), first);

    const second = await whole({ input: 'What is my name?', previous_response_id: first.id });
    assert.equal(second.previous_response_id, first.id);
    assert.equal(text(second), 'What is my name?');
    const chat = await postJson(`${server.url}/v1/chat/completions`, {
      model: MODEL,
      messages: [
        { role: 'user', content: 'My name is Ada.' },
        { role: 'assistant', content: 'My name is Ada.' },
        { role: 'user', content: 'What is my name?' },
      ],
    });
    const prompt = ((await chat.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens;
    assert.equal(second.usage.input_tokens, prompt, 'the stored turns count as input');

    const streamed = await stream({ input: 'Streamed.' });
    const id = streamed.at(-1)!.response!.id;
    assert.deepEqual(await (await fetch(`${server.url}/v1/responses/${id}`)).json(), streamed.at(-1)!.response);

    const unstored = await whole({ store: false });
    assert.equal((await fetch(`${server.url}/v1/responses/${unstored.id}`)).status, 404);
    const e = await error(await create({ previous_response_id: 'resp_nope' }), 400);
    assert.deepEqual([e.param, e.code, e.type], ['previous_response_id', 'previous_response_not_found', 'invalid_request_error']);
    assert.match(e.message, /resp_nope/);
    assert.equal((await error(await fetch(`${server.url}/v1/responses/resp_nope`), 404)).type, 'invalid_request_error');
  });

  test('faults: X-Mock-Error is an OpenAI error; a stream cut mid-way ends with an error event', async () => {
    const e = await error(await create({ stream: true }, { 'x-mock-error': '503' }), 503);
    assert.equal(e.type, 'server_error');
    const events = await stream({}, { 'x-mock-abort-after': '3' });
    const last = events.at(-1)!;
    assert.equal(last.type, 'error');
    assert.equal(last.sequence_number, events.length - 1);
    assert.equal(events.filter((x) => x.type === 'response.output_text.delta').length, 3);
    assert.ok(!events.some((x) => x.type === 'response.completed'));
  });

  test('the typed client: createResponse, streamResponse (to the last event), getResponse, and errors', async () => {
    const client = createMockClient(server.url);
    const r = await client.createResponse({ model: MODEL, input: PROMPT });
    assert.equal(r.output[0]!.type === 'message' ? r.output[0]!.content[0]!.text : '', PROMPT);
    assert.deepEqual(await client.getResponse(r.id), r);
    let deltas = '';
    let last = '';
    for await (const e of client.streamResponse({ model: MODEL, input: PROMPT })) {
      if (e.type === 'response.output_text.delta') deltas += e.delta;
      last = e.type;
    }
    assert.equal(deltas, PROMPT);
    assert.equal(last, 'response.completed');
    await assert.rejects(client.getResponse('resp_nope'), (e: unknown) => e instanceof MockServerError && e.status === 404);
    const cut = async (): Promise<void> => {
      for await (const _e of client.streamResponse({ model: MODEL, input: PROMPT }, { headers: { 'x-mock-abort-after': '2' } }));
    };
    await assert.rejects(cut(), (e: unknown) => e instanceof MockServerError && e.code === 'stream_aborted');
  });
});

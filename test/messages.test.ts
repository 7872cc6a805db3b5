// Anthropic's Messages API on the wire, against the real server and the real Qwen3 tokenizer: the message whole
// and streamed (Anthropic's exact event order, `event:` lines naming each event), errors in Anthropic's shape
// and status, max_tokens, stop_sequences, the tool_use round trip, thinking, and the simulated prompt cache.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, readSse, startServer, type RunningServer, type SseEvent } from './support/server.js';
import { createMockClient, MockServerError } from '../src/client.js';

const MODEL = 'Qwen/Qwen3-0.6B';
const VERSION = { 'anthropic-version': '2023-06-01' };
const PROMPT = 'The quick brown fox jumps over the lazy dog.';

interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}
interface Block {
  type: string;
  text?: string;
  thinking?: string;
  signature?: string;
  id?: string;
  name?: string;
  input?: Record<string, unknown>;
}
interface Message {
  id: string;
  type: string;
  role: string;
  content: Block[];
  stop_reason: string;
  stop_sequence: string | null;
  usage: Usage;
}
interface AnthropicError {
  type: string;
  error: { type: string; message: string };
  request_id: string;
}

const WEATHER = {
  name: 'get_weather',
  description: 'The weather in a city.',
  input_schema: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1, maximum: 7 } }, required: ['city', 'days'] },
};
const TIME = { name: 'get_time', input_schema: { type: 'object', properties: { tz: { type: 'string', enum: ['UTC', 'CET'] } }, required: ['tz'] } };

describe('Anthropic Messages on the wire', { timeout: 120_000 }, () => {
  let server: RunningServer;
  const post = (path: string, body: unknown, headers: Record<string, string> = VERSION): Promise<Response> => postJson(`${server.url}${path}`, body, headers);
  const message = async (body: Record<string, unknown>, headers?: Record<string, string>): Promise<Message> => {
    const res = await post('/v1/messages', { model: MODEL, max_tokens: 256, ...body }, headers);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as Message;
  };
  const stream = async (body: Record<string, unknown>, headers?: Record<string, string>): Promise<SseEvent[]> => {
    const res = await post('/v1/messages', { model: MODEL, max_tokens: 256, stream: true, ...body }, headers);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    return readSse(res);
  };
  const countTokens = async (body: Record<string, unknown>): Promise<number> => {
    const res = await post('/v1/messages/count_tokens', { model: MODEL, ...body });
    assert.equal(res.status, 200);
    return ((await res.json()) as { input_tokens: number }).input_tokens;
  };
  const failure = async (res: Response, status: number, type: string): Promise<AnthropicError> => {
    assert.equal(res.status, status);
    const body = (await res.json()) as AnthropicError;
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, type, body.error.message);
    assert.equal(body.request_id, res.headers.get('request-id'));
    return body;
  };

  before(async () => {
    server = await startServer(['--ttft', '0', '--itl', '0']);
  });
  after(async () => {
    await server?.stop();
  });

  test('a text answer echoes the user turn, whole, with usage equal to count_tokens', async () => {
    const body = { system: 'You are terse.', messages: [{ role: 'user', content: PROMPT }] };
    const m = await message(body);
    assert.match(m.id, /^msg_[0-9a-f]{24}$/);
    assert.equal(m.type, 'message');
    assert.equal(m.role, 'assistant');
    assert.deepEqual(m.content, [{ type: 'text', text: PROMPT }]);
    assert.equal(m.stop_reason, 'end_turn');
    assert.equal(m.stop_sequence, null);
    assert.equal(m.usage.output_tokens, 10);
    assert.equal(m.usage.cache_read_input_tokens, 0);
    // The chat template's render: system and user turns with their role markers, more than the echo.
    const counted = await countTokens(body);
    assert.equal(m.usage.input_tokens, counted);
    assert.ok(counted > 10, `${counted}`);
    // The system prompt counts; blocks count as the same text.
    assert.ok(counted > (await countTokens({ messages: body.messages })));
    assert.equal(await countTokens({ system: [{ type: 'text', text: 'You are terse.' }], messages: [{ role: 'user', content: [{ type: 'text', text: PROMPT }] }] }), counted);
  });

  test('a stream sends Anthropic events in order, each with its event line, adding up to the whole answer', async () => {
    const body = { messages: [{ role: 'user', content: PROMPT }] };
    const whole = await message(body);
    const events = await stream(body);
    const data = events.map((e) => JSON.parse(e.data) as { type: string } & Record<string, unknown>);
    for (const [i, e] of events.entries()) assert.equal(e.event, data[i]!.type);
    const types = data.map((d) => d.type);
    const deltas = types.filter((t) => t === 'content_block_delta').length;
    assert.deepEqual(types, ['message_start', 'content_block_start', 'ping', ...Array<string>(deltas).fill('content_block_delta'), 'content_block_stop', 'message_delta', 'message_stop']);
    assert.equal(deltas, whole.usage.output_tokens);
    const start = data[0] as unknown as { message: Message };
    assert.match(start.message.id, /^msg_/);
    assert.deepEqual(start.message.content, []);
    assert.equal(start.message.stop_reason, null);
    assert.equal(start.message.usage.input_tokens, whole.usage.input_tokens);
    assert.equal(start.message.usage.output_tokens, 0);
    assert.deepEqual(data[1], { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    const text = data
      .filter((d) => d.type === 'content_block_delta')
      .map((d) => (d as unknown as { index: number; delta: { type: string; text: string } }))
      .map((d) => {
        assert.equal(d.index, 0);
        assert.equal(d.delta.type, 'text_delta');
        return d.delta.text;
      })
      .join('');
    assert.equal(text, PROMPT);
    const delta = data.at(-2) as unknown as { delta: { stop_reason: string; stop_sequence: null }; usage: Usage };
    assert.deepEqual(delta.delta, { stop_reason: 'end_turn', stop_sequence: null });
    assert.equal(delta.usage.output_tokens, whole.usage.output_tokens);
    assert.equal(delta.usage.input_tokens, whole.usage.input_tokens);
  });

  test("errors are Anthropic's: missing anthropic-version, missing max_tokens, unknown tool, images, faults", async () => {
    const ok = { model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'Hi' }] };
    let e = await failure(await post('/v1/messages', ok, {}), 400, 'invalid_request_error');
    assert.equal(e.error.message, 'anthropic-version: header is required');
    await failure(await post('/v1/messages/count_tokens', { model: MODEL, messages: ok.messages }, {}), 400, 'invalid_request_error');
    e = await failure(await post('/v1/messages', { model: MODEL, messages: ok.messages }), 400, 'invalid_request_error');
    assert.equal(e.error.message, 'max_tokens: Field required');
    e = await failure(await post('/v1/messages', { ...ok, tools: [WEATHER], tool_choice: { type: 'tool', name: 'nope' } }), 400, 'invalid_request_error');
    assert.match(e.error.message, /nope/);
    e = await failure(await post('/v1/messages', { ...ok, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }] }] }), 400, 'invalid_request_error');
    assert.match(e.error.message, /image/);
    e = await failure(await post('/v1/messages', { ...ok, max_tokens: 1024, thinking: { type: 'enabled', budget_tokens: 1024 } }), 400, 'invalid_request_error');
    assert.match(e.error.message, /budget_tokens/);
    const limited = await post('/v1/messages', ok, { ...VERSION, 'x-mock-error': '429' });
    await failure(limited, 429, 'rate_limit_error');
    assert.ok(limited.headers.get('retry-after'));
    await failure(await post('/v1/messages', ok, { ...VERSION, 'x-mock-error': '500' }), 500, 'api_error');
    await failure(await post('/v1/messages', ok, { ...VERSION, 'x-mock-error': '503' }), 503, 'overloaded_error');
    await failure(await post('/v1/messages', { ...ok, stream: true }, { ...VERSION, 'x-mock-error': '503' }), 503, 'overloaded_error');
  });

  test('an error after the 200 is an `event: error` in the stream', async () => {
    const events = await stream({ messages: [{ role: 'user', content: PROMPT }] }, { ...VERSION, 'x-mock-abort-after': '3' });
    const last = events.at(-1)!;
    assert.equal(last.event, 'error');
    const body = JSON.parse(last.data) as AnthropicError;
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'api_error');
    assert.ok(!events.some((e) => e.event === 'message_stop'));
  });

  test('max_tokens cuts the answer: stop_reason max_tokens, whole and streamed', async () => {
    const body = { max_tokens: 3, messages: [{ role: 'user', content: PROMPT }] };
    const m = await message(body);
    assert.equal(m.stop_reason, 'max_tokens');
    assert.equal(m.usage.output_tokens, 3);
    assert.equal(m.content[0]!.text, 'The quick brown');
    const events = await stream(body);
    const delta = JSON.parse(events.at(-2)!.data) as { delta: { stop_reason: string }; usage: Usage };
    assert.equal(delta.delta.stop_reason, 'max_tokens');
    assert.equal(delta.usage.output_tokens, 3);
  });

  test('stop_sequences cut the echo before the first one found: stop_reason stop_sequence', async () => {
    const m = await message({ stop_sequences: ['lazy', 'brown'], messages: [{ role: 'user', content: PROMPT }] });
    assert.equal(m.content[0]!.text, 'The quick ');
    assert.equal(m.stop_reason, 'stop_sequence');
    assert.equal(m.stop_sequence, 'brown');
  });

  test('tool_use round trip: tool_use blocks valid against the schemas, then a text answer to the tool_result', async () => {
    const user = { role: 'user', content: 'What does get_weather say, and get_time?' };
    const m = await message({ tools: [WEATHER, TIME], messages: [user] });
    assert.equal(m.stop_reason, 'tool_use');
    assert.deepEqual(m.content.map((b) => [b.type, b.name]), [['tool_use', 'get_weather'], ['tool_use', 'get_time']]);
    for (const b of m.content) assert.match(b.id!, /^toolu_[0-9a-f]{24}$/);
    const weather = m.content[0]!.input!;
    assert.equal(typeof weather['city'], 'string');
    assert.ok(Number.isInteger(weather['days']) && (weather['days'] as number) >= 1 && (weather['days'] as number) <= 7);
    assert.ok(['UTC', 'CET'].includes(m.content[1]!.input!['tz'] as string));
    // The same prompt, the same calls; disable_parallel_tool_use calls the first alone.
    const again = await message({ tools: [WEATHER, TIME], messages: [user] });
    assert.deepEqual(again.content.map((b) => b.input), m.content.map((b) => b.input));
    const one = await message({ tools: [WEATHER, TIME], tool_choice: { type: 'auto', disable_parallel_tool_use: true }, messages: [user] });
    assert.deepEqual(one.content.map((b) => b.name), ['get_weather']);
    assert.equal((await message({ tools: [WEATHER], tool_choice: { type: 'none' }, messages: [user] })).stop_reason, 'end_turn');

    // Streamed: one tool_use block per call, its input as input_json_delta fragments.
    const events = (await stream({ tools: [WEATHER, TIME], messages: [user] })).map((e) => JSON.parse(e.data) as Record<string, unknown>);
    const starts = events.filter((e) => e['type'] === 'content_block_start').map((e) => e['content_block'] as Block);
    assert.deepEqual(starts.map((b) => [b.type, b.name, b.input]), [['tool_use', 'get_weather', {}], ['tool_use', 'get_time', {}]]);
    const partial = [0, 1].map((i) =>
      events
        .filter((e) => e['type'] === 'content_block_delta' && e['index'] === i)
        .map((e) => (e['delta'] as { type: string; partial_json: string }))
        .map((d) => {
          assert.equal(d.type, 'input_json_delta');
          return d.partial_json;
        })
        .join(''),
    );
    assert.deepEqual(partial.map((p) => JSON.parse(p) as unknown), m.content.map((b) => b.input));
    assert.equal((events.at(-2)!['delta'] as { stop_reason: string }).stop_reason, 'tool_use');

    // The tool results go back: a text answer, the echo of the user turns and the results.
    const answer = await message({
      tools: [WEATHER, TIME],
      messages: [
        user,
        { role: 'assistant', content: m.content },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: m.content[0]!.id, content: 'Sunny, 21 C.' },
            { type: 'tool_result', tool_use_id: m.content[1]!.id, content: [{ type: 'text', text: '12:00' }] },
          ],
        },
      ],
    });
    assert.equal(answer.stop_reason, 'end_turn');
    assert.deepEqual(answer.content, [{ type: 'text', text: `${user.content}\nSunny, 21 C.\n12:00` }]);
  });

  test('thinking: a thinking block with its signature before the text, within budget_tokens and max_tokens', async () => {
    const body = { max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: PROMPT }] };
    const m = await message(body);
    assert.deepEqual(m.content.map((b) => b.type), ['thinking', 'text']);
    assert.ok(m.content[0]!.thinking!.startsWith('The quick'));
    assert.ok(m.content[0]!.signature!.length > 0);
    assert.equal(m.content[1]!.text, PROMPT);
    // reasoning_tokens_medium (256) thinking tokens, then the 10 of the echo.
    assert.equal(m.usage.output_tokens, 256 + 10);
    const events = (await stream(body)).map((e) => JSON.parse(e.data) as Record<string, unknown>);
    const kinds = events.map((e) => (e['type'] === 'content_block_delta' ? (e['delta'] as { type: string }).type : e['type']));
    const firstText = kinds.indexOf('text_delta');
    assert.deepEqual(kinds.slice(0, 4), ['message_start', 'content_block_start', 'ping', 'thinking_delta']);
    assert.deepEqual(kinds.slice(firstText - 3, firstText), ['signature_delta', 'content_block_stop', 'content_block_start']);
    assert.equal(kinds.filter((k) => k === 'thinking_delta').length, 256);
    // adaptive thinking: the same thinking, without a budget.
    const adaptive = await message({ max_tokens: 2000, thinking: { type: 'adaptive' }, messages: body.messages });
    assert.deepEqual(adaptive.content.map((b) => b.type), ['thinking', 'text']);
    assert.equal(adaptive.usage.output_tokens, 256 + 10);
    const signature = events.find((e) => (e['delta'] as { type?: string } | undefined)?.type === 'signature_delta')!['delta'] as { signature: string };
    assert.equal(signature.signature, m.content[0]!.signature);
  });

  test('prompt caching: a long prefix with cache_control is written once, then read', async () => {
    const long = Array.from({ length: 120 }, (_, i) => `Rule ${i}: answer briefly and cite the handbook section ${i}.`).join('\n');
    const system = [{ type: 'text', text: long, cache_control: { type: 'ephemeral' } }];
    const first = await message({ system, messages: [{ role: 'user', content: 'First question?' }] });
    const total = await countTokens({ system, messages: [{ role: 'user', content: 'First question?' }] });
    assert.ok(first.usage.cache_creation_input_tokens >= 1024, JSON.stringify(first.usage));
    assert.equal(first.usage.cache_read_input_tokens, 0);
    assert.equal(first.usage.cache_creation.ephemeral_5m_input_tokens, first.usage.cache_creation_input_tokens);
    assert.equal(first.usage.input_tokens + first.usage.cache_creation_input_tokens, total);
    // Another question after the same prefix: the prefix is read, only the rest is input.
    const second = await message({ system, messages: [{ role: 'user', content: 'Second question, a bit longer?' }] });
    assert.equal(second.usage.cache_read_input_tokens, first.usage.cache_creation_input_tokens);
    assert.equal(second.usage.cache_creation_input_tokens, 0);
    assert.equal(second.usage.input_tokens + second.usage.cache_read_input_tokens, await countTokens({ system, messages: [{ role: 'user', content: 'Second question, a bit longer?' }] }));
    // The stream's message_start carries the same cache fields.
    const events = await stream({ system, messages: [{ role: 'user', content: 'First question?' }] });
    const start = JSON.parse(events[0]!.data) as { message: Message };
    assert.equal(start.message.usage.cache_read_input_tokens, first.usage.cache_creation_input_tokens);
    // A 1h breakpoint is written with its own time to live; a short prefix is never cached.
    const hour = await message({ system: [{ ...system[0]!, text: `${long}\nHourly.`, cache_control: { type: 'ephemeral', ttl: '1h' } }], messages: [{ role: 'user', content: 'Q' }] });
    assert.ok(hour.usage.cache_creation.ephemeral_1h_input_tokens >= 1024);
    const short = await message({ system: [{ type: 'text', text: 'Short.', cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'Q' }] });
    assert.equal(short.usage.cache_creation_input_tokens + short.usage.cache_read_input_tokens, 0);
    // Anthropic's limit: four breakpoints.
    const five = Array.from({ length: 5 }, (_, i) => ({ type: 'text', text: `Part ${i}.`, cache_control: { type: 'ephemeral' } }));
    const refused = await post('/v1/messages', { model: MODEL, max_tokens: 8, system: five, messages: [{ role: 'user', content: 'Q' }] });
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as AnthropicError).error.message, /maximum of 4 blocks with cache_control/);
  });
});

describe('Anthropic Messages through the typed client', { timeout: 120_000 }, () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--ttft', '0', '--itl', '0']);
  });
  after(async () => {
    await server?.stop();
  });

  test('createMessage, streamMessage and countMessageTokens send anthropic-version and read the answers', async () => {
    const client = createMockClient(server.url);
    const params = { model: MODEL, max_tokens: 64, messages: [{ role: 'user' as const, content: PROMPT }] };
    const whole = await client.createMessage(params);
    assert.deepEqual(whole.content, [{ type: 'text', text: PROMPT }]);
    const types: string[] = [];
    let text = '';
    for await (const e of client.streamMessage(params)) {
      types.push(e.type);
      if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
    }
    assert.equal(text, PROMPT);
    assert.equal(types.at(-1), 'message_stop');
    assert.equal((await client.countMessageTokens({ model: MODEL, messages: params.messages })).input_tokens, whole.usage.input_tokens);
    await assert.rejects(client.createMessage({ ...params, max_tokens: 0 }), (err: unknown) => err instanceof MockServerError && err.status === 400 && err.type === 'invalid_request_error');
    const cut = client.streamMessage(params, { headers: { 'x-mock-abort-after': '2' } });
    await assert.rejects(
      (async () => {
        for await (const _ of cut);
      })(),
      (err: unknown) => err instanceof MockServerError && err.type === 'api_error',
    );
  });
});

describe('Anthropic Messages with an API key', { timeout: 120_000 }, () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--ttft', '0', '--itl', '0', '--api-key', 'sk-ant-test']);
  });
  after(async () => {
    await server?.stop();
  });

  test('x-api-key (or a Bearer) opens the route; a wrong or missing key is authentication_error 401', async () => {
    const body = { model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'Hi' }] };
    const url = `${server.url}/v1/messages`;
    assert.equal((await postJson(url, body, { ...VERSION, 'x-api-key': 'sk-ant-test' })).status, 200);
    assert.equal((await postJson(url, body, { ...VERSION, authorization: 'Bearer sk-ant-test' })).status, 200);
    const cases: Array<[Record<string, string>, string]> = [
      [{ ...VERSION, 'x-api-key': 'wrong' }, 'invalid x-api-key'],
      [VERSION, 'x-api-key header is required'],
    ];
    for (const [headers, message] of cases) {
      const res = await postJson(url, body, headers);
      assert.equal(res.status, 401);
      const e = (await res.json()) as AnthropicError;
      assert.deepEqual([e.type, e.error.type, e.error.message], ['error', 'authentication_error', message]);
    }
  });
});

describe('Anthropic Messages prefill with a prompt cache', { timeout: 120_000 }, () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--ttft', '0', '--itl', '0', '--ttft-per-input-token', '1']);
  });
  after(async () => {
    await server?.stop();
  });

  test('a prefix read from the cache is not prefilled again: ttft_per_input_token counts the uncached tokens', async () => {
    const long = Array.from({ length: 120 }, (_, i) => `Rule ${i}: answer briefly and cite the handbook section ${i}.`).join('\n');
    const body = { model: MODEL, max_tokens: 4, system: [{ type: 'text', text: long, cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'Q?' }] };
    const timed = async (): Promise<[number, Message]> => {
      const t0 = performance.now();
      const res = await postJson(`${server.url}/v1/messages`, body, VERSION);
      const m = (await res.json()) as Message;
      return [performance.now() - t0, m];
    };
    const [cold, written] = await timed();
    const [warm, read] = await timed();
    assert.ok(written.usage.cache_creation_input_tokens >= 1024 && read.usage.cache_read_input_tokens === written.usage.cache_creation_input_tokens);
    // At 1 ms per prefilled token, the cold request waits its whole prompt (> 1 s), the warm one its few uncached tokens.
    assert.ok(cold >= written.usage.cache_creation_input_tokens, `cold ${cold.toFixed(0)} ms`);
    assert.ok(warm < cold / 2, `warm ${warm.toFixed(0)} ms, cold ${cold.toFixed(0)} ms`);
  });
});

describe('Anthropic Messages under a full queue', { timeout: 120_000 }, () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--ttft', '0', '--itl', '0', '--max-concurrency', '1', '--max-queue', '0']);
  });
  after(async () => {
    await server?.stop();
  });

  test('a request beyond max_concurrency and max_queue is rate_limit_error 429 with Retry-After', async () => {
    const url = `${server.url}/v1/messages`;
    const body = { model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: PROMPT }] };
    // One stream holds the only slot for two seconds before its first token.
    const held = await postJson(url, { ...body, stream: true }, { ...VERSION, 'x-mock-ttft': '2000' });
    assert.equal(held.status, 200);
    const res = await postJson(url, body, VERSION);
    assert.equal(res.status, 429);
    assert.ok(res.headers.get('retry-after'));
    const e = (await res.json()) as AnthropicError;
    assert.deepEqual([e.type, e.error.type], ['error', 'rate_limit_error']);
    await readSse(held);
  });
});

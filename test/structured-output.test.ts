// response_format in chat completions, over the wire of a real server with the real Qwen3 tokenizer:
// json_object wraps the echo, json_schema answers an instance of the schema, streamed token by token.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { postJson, readSse, startServer, type RunningServer } from './support/server.js';
import { refused } from './support/openai.js';
import type { ChatChunk, ChatResponse } from '../src/types.js';

let server: RunningServer;
const chat = (body: object) => postJson(`${server.url}/v1/chat/completions`, { model: 'Qwen/Qwen3-0.6B', ...body });

async function whole(body: object): Promise<ChatResponse> {
  const res = await chat(body);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as ChatResponse;
}

async function streamedText(body: object): Promise<{ text: string; deltas: number; completion: number; finish: string | null }> {
  const res = await chat({ ...body, stream: true, stream_options: { include_usage: true } });
  assert.equal(res.status, 200);
  const chunks = (await readSse(res)).slice(0, -1).map((e) => JSON.parse(e.data) as ChatChunk);
  const choices = chunks.flatMap((c) => c.choices);
  return {
    text: choices.map((c) => c.delta.content ?? '').join(''),
    deltas: choices.filter((c) => c.delta.content).length,
    completion: chunks.at(-1)!.usage!.completion_tokens,
    finish: choices.at(-1)!.finish_reason,
  };
}

const PERSON = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1 },
    age: { type: 'integer', minimum: 0, maximum: 150 },
    email: { type: 'string', format: 'email' },
    tags: { type: 'array', items: { enum: ['a', 'b', 'c'] }, maxItems: 3 },
    address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  },
  required: ['name', 'age', 'email', 'tags', 'address'],
  additionalProperties: false,
};
const personFormat = { type: 'json_schema', json_schema: { name: 'person', strict: true, schema: PERSON } };

before(async () => {
  server = await startServer(['--ttft', '0', '--itl', '0']);
});
after(async () => {
  await server.stop();
});

describe('structured outputs', () => {
  it('json_object: a JSON object holding the echo, streamed token by token', async () => {
    const messages = [{ role: 'system', content: 'Answer in JSON.' }, { role: 'user', content: 'Say "hi",\nthen 你好 😀' }];
    const body = await whole({ messages, response_format: { type: 'json_object' } });
    const content = body.choices[0]!.message.content!;
    assert.deepEqual(JSON.parse(content), { text: 'Say "hi",\nthen 你好 😀' });
    assert.equal(body.choices[0]!.finish_reason, 'stop');
    const s = await streamedText({ messages, response_format: { type: 'json_object' } });
    assert.equal(s.text, content);
    assert.equal(s.completion, body.usage.completion_tokens);
    assert.ok(s.deltas > 1 && s.deltas <= s.completion, 'one delta per token');
  });

  it('json_schema: an instance valid against the schema, the same for the same prompt', async () => {
    const messages = [{ role: 'user', content: 'Make up a person.' }];
    const body = await whole({ messages, response_format: personFormat });
    const content = body.choices[0]!.message.content!;
    const validate = new Ajv2020({ strict: false }).compile(PERSON);
    assert.ok(validate(JSON.parse(content)), `${content}: ${JSON.stringify(validate.errors)}`);
    assert.equal((await whole({ messages, response_format: personFormat })).choices[0]!.message.content, content);
    const s = await streamedText({ messages, response_format: personFormat });
    assert.equal(s.text, content);
    assert.equal(s.finish, 'stop');
    const others = await Promise.all(['Another person.', 'A third one.'].map(async (q) => (await whole({ messages: [{ role: 'user', content: q }], response_format: personFormat })).choices[0]!.message.content));
    assert.ok(others.some((o) => o !== content), 'the last user message seeds the instance');
  });

  it('reads schemas that name their draft and id, as zod and pydantic emit them, again and again', async () => {
    for (const [draft, id] of [['https://json-schema.org/draft/2020-12/schema', 'urn:a'], ['http://json-schema.org/draft-07/schema#', 'urn:a']]) {
      const schema = { $schema: draft, $id: id, type: 'object', properties: { n: { type: 'number' } }, required: ['n'], additionalProperties: false };
      const body = await whole({ messages: [{ role: 'user', content: draft }], response_format: { type: 'json_schema', json_schema: { name: 'n', schema } } });
      assert.equal(typeof (JSON.parse(body.choices[0]!.message.content!) as { n: unknown }).n, 'number');
    }
  });

  it('text, or no response_format, is the plain echo', async () => {
    const messages = [{ role: 'user', content: 'plain' }];
    assert.equal((await whole({ messages, response_format: { type: 'text' } })).choices[0]!.message.content, 'plain');
  });

  it('the cap cuts the JSON (finish_reason length); ignore_eos and min_tokens do not lengthen it', async () => {
    const messages = [{ role: 'user', content: 'Make up a person.' }];
    const full = (await whole({ messages, response_format: personFormat })).choices[0]!.message.content!;
    const cut = await whole({ messages, response_format: personFormat, max_tokens: 4 });
    assert.equal(cut.choices[0]!.finish_reason, 'length');
    assert.equal(cut.usage.completion_tokens, 4);
    assert.ok(full.startsWith(cut.choices[0]!.message.content!));
    const pushed = await whole({ messages, response_format: personFormat, ignore_eos: true, min_tokens: 500, max_tokens: 1000 });
    assert.equal(pushed.choices[0]!.message.content, full);
  });

  it('tool calls take precedence over a JSON format', async () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }];
    const body = await whole({ messages: [{ role: 'user', content: 'x' }], tools, response_format: personFormat });
    assert.equal(body.choices[0]!.finish_reason, 'tool_calls');
    const text = await whole({ messages: [{ role: 'user', content: 'x' }], tools, tool_choice: 'none', response_format: personFormat });
    assert.doesNotThrow(() => JSON.parse(text.choices[0]!.message.content!));
  });

  it("refuses a schema it cannot instance, in OpenAI's words", async () => {
    const bad = { type: 'json_schema', json_schema: { name: 'broken', schema: { type: 'object', properties: { a: { $ref: '#/$defs/missing' } }, required: ['a'] } } };
    const e = await refused(await chat({ messages: [{ role: 'user', content: 'x' }], response_format: bad }), 400);
    assert.match(e.message, /^Invalid schema for response_format 'broken': /);
    assert.equal(e.param, 'response_format');
    // A schema that no value satisfies: refused, not answered with JSON that does not validate.
    const none = { type: 'json_schema', json_schema: { name: 'nothing', schema: { type: 'object', properties: { a: { type: 'string', minLength: 5, maxLength: 2 } }, required: ['a'] } } };
    const e2 = await refused(await chat({ messages: [{ role: 'user', content: 'x' }], response_format: none }), 400);
    assert.match(e2.message, /^Invalid schema for response_format 'nothing': no value satisfies it/);
    const noName = await chat({ messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema', json_schema: { schema: PERSON } } });
    assert.equal(noName.status, 400, 'json_schema.name is required');
  });
});

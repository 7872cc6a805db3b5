// OpenAI's Python SDK (pinned, .ci/clients-venv.sh) drives the Responses API: create, the stream helper, a tool
// call round trip and parse with a pydantic model (test/python-clients/responses.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suiteServer } from './support/server.js';
import { pythonClientsSkip, pythonJson } from './support/python-clients.js';

const skip = pythonClientsSkip();
const server = suiteServer(undefined, skip === false);

interface Out {
  version: string;
  whole: string;
  status: string;
  usage: { input_tokens: number; output_tokens: number; total_tokens: number };
  streamed: string;
  final: string;
  final_types: string[];
  reasoning_tokens: number;
  call: { name: string; arguments: { city: unknown } };
  after_call: string;
  parsed: { name: unknown; age: unknown };
}

test('openai (Python) reads Responses: whole, streamed, a tool round trip and a parsed format', { skip, timeout: 120_000 }, async () => {
  const prompt = 'Tell me about the river Thames and its bridges.';
  const out = await pythonJson<Out>('responses.py', [server.url, prompt]);
  assert.match(out.version, /^\d+\./);
  assert.equal(out.whole, prompt);
  assert.equal(out.status, 'completed');
  assert.equal(out.usage.total_tokens, out.usage.input_tokens + out.usage.output_tokens);
  assert.equal(out.streamed, prompt);
  assert.equal(out.final, prompt);
  assert.deepEqual(out.final_types, ['reasoning', 'message']);
  assert.ok(out.reasoning_tokens > 0);
  assert.equal(out.call.name, 'get_weather');
  assert.equal(typeof out.call.arguments.city, 'string');
  assert.equal(out.after_call, 'What is the weather in Paris?');
  assert.equal(typeof out.parsed.name, 'string');
  assert.ok(Number.isInteger(out.parsed.age));
});

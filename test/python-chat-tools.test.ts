// OpenAI's Python SDK (pinned, .ci/clients-venv.sh) with chat tool calls and structured outputs
// (test/python-clients/chat_tools.py): tool calls whole and streamed, the round trip, and parse() with pydantic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suiteServer } from './support/server.js';
import { pythonClientsSkip, pythonJson } from './support/python-clients.js';

const skip = pythonClientsSkip();
const server = suiteServer(undefined, skip === false);

interface Out {
  finish: string;
  content: string | null;
  call: { id: string; name: string; arguments: string };
  streamed: { finish: string; arguments: string; deltas: string; done: { city: string; unit: string } | null };
  back: { finish: string; content: string };
  person: { name: string; age: number; tags: string[] };
  person_json: string;
  weather: { city: string; unit: string };
}

test('openai (Python): tool calls, the round trip, and parse() with pydantic models', { skip, timeout: 120_000 }, async () => {
  const out = await pythonJson<Out>('chat_tools.py', [server.url]);
  assert.equal(out.finish, 'tool_calls');
  assert.equal(out.content, null);
  assert.match(out.call.id, /^call_/);
  assert.equal(out.call.name, 'get_weather');
  const args = JSON.parse(out.call.arguments) as { city: string; unit: string };
  assert.ok(typeof args.city === 'string' && ['celsius', 'fahrenheit'].includes(args.unit), out.call.arguments);
  assert.equal(out.streamed.finish, 'tool_calls');
  assert.equal(out.streamed.arguments, out.call.arguments);
  assert.equal(out.streamed.deltas, out.call.arguments);
  assert.deepEqual(out.streamed.done, args);
  assert.deepEqual(out.back, { finish: 'stop', content: 'What is the weather in Oslo?' });
  assert.deepEqual(JSON.parse(out.person_json), out.person);
  assert.ok(Number.isInteger(out.person.age) && out.person.tags.every((t) => t === 'a' || t === 'b'));
  assert.deepEqual(out.weather, args);
});

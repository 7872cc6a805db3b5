// OpenAI's Python SDK (pinned, .ci/clients-venv.sh) drives chat completions: the answer echoes the prompt, whole
// and streamed, with the usage the server counts. The Responses and Messages APIs have their own Python tests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from './support/server.js';
import { pythonClientsSkip, pythonJson } from './support/python-clients.js';

const skip = pythonClientsSkip();
let server: RunningServer;

before(async () => {
  if (skip === false) server = await startServer(['--ttft', '5', '--itl', '1']);
});
after(async () => {
  await server?.stop();
});

test('openai (Python) reads a chat completion, whole and streamed', { skip, timeout: 120_000 }, async () => {
  const prompt = 'Tell me about the river Thames and its bridges.';
  const out = await pythonJson<{ version: string; whole: string; finish: string; streamed: string; usage: { prompt_tokens: number; completion_tokens: number } }>('chat.py', [server.url, prompt]);
  assert.match(out.version, /^3\./);
  assert.equal(out.whole, prompt);
  assert.equal(out.streamed, prompt);
  assert.equal(out.finish, 'stop');
  assert.ok(out.usage.prompt_tokens > out.usage.completion_tokens && out.usage.completion_tokens > 5, JSON.stringify(out.usage));
});

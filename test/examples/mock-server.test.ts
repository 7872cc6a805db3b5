// mock-server.test.ts: node:test
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMockServer, type MockServer } from 'aiperf-mock-server';
import { createMockClient } from 'aiperf-mock-server/client';

let server: MockServer;
before(async () => {
  server = await startMockServer({ ttft: 0, itl: 0 }); // port 0 (the default): a free port
});
after(() => server.close());

test('the mock echoes the prompt', async () => {
  const client = createMockClient(server.url);
  const answer = await client.createChatCompletion({
    model: 'Qwen/Qwen3-0.6B',
    messages: [{ role: 'user', content: 'Hello, world!' }],
  });
  assert.equal(answer.choices[0]?.message.content, 'Hello, world!');
});

test('a stream arrives as typed chunks', async () => {
  const client = createMockClient(server.url);
  let text = '';
  for await (const chunk of client.streamChat({ model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'Hi there' }] })) {
    text += chunk.choices[0]?.delta.content ?? '';
  }
  assert.equal(text, 'Hi there');
});

test('latencies change while the server runs', async () => {
  await server.configure({ ttft: 100 });
  const t0 = performance.now();
  await createMockClient(server.url).createCompletion({ model: 'Qwen/Qwen3-0.6B', prompt: 'Hi', max_tokens: 1 });
  assert.ok(performance.now() - t0 >= 100);
});

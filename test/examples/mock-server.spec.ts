// mock-server.spec.ts: Vitest
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startMockServer, type MockServer } from 'aiperf-mock-server';
import { createMockClient, MockServerError } from 'aiperf-mock-server/client';

let server: MockServer;
beforeAll(async () => {
  server = await startMockServer({ ttft: 0, itl: 0 });
});
afterAll(() => server.close());

test('the mock echoes the prompt', async () => {
  const client = createMockClient(server.url);
  const answer = await client.createChatCompletion({
    model: 'Qwen/Qwen3-0.6B',
    messages: [{ role: 'user', content: 'Hello, world!' }],
  });
  expect(answer.choices[0]?.message.content).toBe('Hello, world!');
});

test('errors carry the OpenAI error body', async () => {
  const client = createMockClient(server.url);
  const failing = client.createChatCompletion({ model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 0 });
  await expect(failing).rejects.toBeInstanceOf(MockServerError);
  await expect(failing).rejects.toMatchObject({ status: 400, param: 'max_tokens' });
});

// openai 7 (Node 22+) against the built server: the calls of test/clients.test.ts (openai 6), with its checks.
// openai 7 changed no call used here; its one breaking change is the Node version.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { VERSION } from 'openai/version';
import { suiteServer } from '../../dist/test/support/server.js';
import {
  ASCII,
  MODEL,
  PROMPTS,
  checkChatCompletion,
  checkChatStream,
  checkCompletions,
  checkModels,
  checkStreamHelper,
  checkTwoCappedChoices,
} from '../../dist/test/support/real-clients.js';

describe('openai 7 parses our answers', { timeout: 120_000 }, () => {
  const server = suiteServer();
  const client = (): OpenAI => new OpenAI({ baseURL: server.baseURL, apiKey: 'test', maxRetries: 0, timeout: 30_000 });

  test('the client is openai 7 and this is Node 22 or later', () => {
    assert.match(VERSION, /^7\./);
    assert.ok(Number(process.versions.node.split('.')[0]) >= 22, process.version);
  });

  for (const [name, prompt, echo] of PROMPTS) {
    test(`chat.completions.create, non-streaming and raw stream, ${name}`, async () => {
      const messages = [{ role: 'user' as const, content: prompt }];
      const whole = await client().chat.completions.create({ model: MODEL, messages });
      checkChatCompletion(whole, echo);
      const stream = await client().chat.completions.create({ model: MODEL, messages, stream: true, stream_options: { include_usage: true } });
      await checkChatStream(stream, whole);
    });

    test(`chat.completions.stream() helper and finalChatCompletion(), ${name}`, async () => {
      const runner = client().chat.completions.stream({
        model: MODEL,
        messages: [{ role: 'user', content: prompt }],
        stream_options: { include_usage: true },
      });
      let deltas = '';
      runner.on('content', (delta) => (deltas += delta));
      checkStreamHelper(await runner.finalChatCompletion(), deltas, echo);
    });

    test(`completions.create, non-streaming and streaming, ${name}`, async () => {
      const whole = await client().completions.create({ model: MODEL, prompt });
      const stream = await client().completions.create({ model: MODEL, prompt, stream: true, stream_options: { include_usage: true } });
      await checkCompletions(whole, stream, echo);
    });
  }

  test('chat.completions.stream() helper with n=2 and a cap: every choice has its role and finish_reason', async () => {
    const final = await client()
      .chat.completions.stream({ model: MODEL, messages: [{ role: 'user', content: ASCII }], n: 2, max_tokens: 3 })
      .finalChatCompletion();
    checkTwoCappedChoices(final);
  });

  test('models.list() and models.retrieve()', async () => {
    await checkModels(client().models.list(), (id) => client().models.retrieve(id));
  });
});

// Real clients against the real server: the official OpenAI SDK and the Vercel AI SDK (openai-compatible
// provider) must parse our answers, streamed and not, exactly as they parse OpenAI's. These are the majors that
// run on Node 20 (openai 6, AI SDK 6); test/current-clients runs today's majors on Node 24 with the same checks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { generateText, streamText } from 'ai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { suiteServer } from './support/server.js';
import {
  ASCII,
  MODEL,
  PROMPTS,
  checkAiUsage,
  checkChatCompletion,
  checkChatStream,
  checkCompletions,
  checkModels,
  checkPartTypes,
  checkStreamHelper,
  checkTwoCappedChoices,
  drainParts,
  recordingFetch,
  wireUsage,
} from './support/real-clients.js';

describe('real clients parse our answers', { timeout: 120_000 }, () => {
  const server = suiteServer();

  // ------------------------------------------------------------------------------------ openai@6

  describe('openai SDK', () => {
    const client = (): OpenAI => new OpenAI({ baseURL: server.baseURL, apiKey: 'test', maxRetries: 0, timeout: 30_000 });

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
    }

    test('chat.completions.stream() helper with n=2 and a cap: every choice has its role and finish_reason', async () => {
      const final = await client()
        .chat.completions.stream({ model: MODEL, messages: [{ role: 'user', content: ASCII }], n: 2, max_tokens: 3 })
        .finalChatCompletion();
      checkTwoCappedChoices(final);
    });

    test('chat.completions.create with max_tokens: finish_reason length, completion_tokens = cap', async () => {
      const whole = await client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: ASCII }], max_tokens: 4 });
      assert.equal(whole.choices[0]!.finish_reason, 'length');
      assert.equal(whole.usage!.completion_tokens, 4);
    });

    for (const [name, prompt, echo] of PROMPTS) {
      test(`completions.create, non-streaming and streaming, ${name}`, async () => {
        const whole = await client().completions.create({ model: MODEL, prompt });
        const stream = await client().completions.create({ model: MODEL, prompt, stream: true, stream_options: { include_usage: true } });
        await checkCompletions(whole, stream, echo);
      });
    }

    test('models.list() and models.retrieve()', async () => {
      await checkModels(client().models.list(), (id) => client().models.retrieve(id));
    });
  });

  // ------------------------------------------------------------------------------------ Vercel AI SDK 6

  describe('Vercel AI SDK with @ai-sdk/openai-compatible', () => {
    const provider = (f: typeof fetch) => createOpenAICompatible({ name: 'mock', baseURL: server.baseURL, apiKey: 'test', includeUsage: true, fetch: f });

    for (const [name, prompt, echo] of PROMPTS) {
      test(`generateText and streamText, ${name}`, async () => {
        const rec = recordingFetch();
        const model = provider(rec.fetch).chatModel(MODEL);

        const whole = await generateText({ model, prompt, maxRetries: 0 });
        assert.equal(whole.text, echo);
        assert.equal(whole.finishReason, 'stop');
        const wholeWire = wireUsage(await rec.bodies[0]!);
        checkAiUsage(whole.usage, wholeWire);

        const streamed = streamText({ model, prompt, maxRetries: 0 });
        const { text, types } = await drainParts(streamed.fullStream);
        assert.equal(text, whole.text, 'the joined stream equals the non-streamed text');
        assert.equal(await streamed.text, echo);
        assert.equal(await streamed.finishReason, 'stop');
        checkPartTypes(types);
        const streamWire = wireUsage(await rec.bodies[1]!);
        checkAiUsage(await streamed.usage, streamWire);
        assert.deepEqual(streamWire, wholeWire);
      });
    }

    test('maxOutputTokens smaller than the prompt: finishReason length, outputTokens = the cap', async () => {
      const rec = recordingFetch();
      const model = provider(rec.fetch).chatModel(MODEL);
      const whole = await generateText({ model, prompt: ASCII, maxOutputTokens: 3, maxRetries: 0 });
      assert.equal(whole.finishReason, 'length');
      assert.equal(whole.usage.outputTokens, 3);
      assert.ok(ASCII.startsWith(whole.text) && whole.text.length < ASCII.length);
      assert.equal(whole.usage.inputTokens, wireUsage(await rec.bodies[0]!).prompt_tokens);

      const streamed = streamText({ model, prompt: ASCII, maxOutputTokens: 3, maxRetries: 0 });
      const { text } = await drainParts(streamed.fullStream);
      assert.equal(text, whole.text);
      assert.equal(await streamed.finishReason, 'length');
      assert.equal((await streamed.usage).outputTokens, 3);
    });
  });
});

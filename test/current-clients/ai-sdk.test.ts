// The AI SDK 7 with @ai-sdk/openai-compatible 3 (Node 22+) against the built server: the calls of
// test/clients.test.ts (AI SDK 6), with its checks, adapted to what 7 changed. streamText's parts are read from
// `stream` (7 deprecates `fullStream`), `usage` is the whole call's (7 deprecates `totalUsage`), and the finish
// part carries that usage too.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { generateText, streamText, type TextStreamPart, type ToolSet } from 'ai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { suiteServer } from '../../dist/test/support/server.js';
import { ASCII, MODEL, PROMPTS, checkAiUsage, checkPartTypes, drainParts, recordingFetch, wireUsage } from '../../dist/test/support/real-clients.js';

const versionOf = (name: string): string => (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version;

describe('the AI SDK 7 parses our answers', { timeout: 120_000 }, () => {
  const server = suiteServer();
  const provider = (f: typeof fetch) => createOpenAICompatible({ name: 'mock', baseURL: server.baseURL, apiKey: 'test', includeUsage: true, fetch: f });

  test('the SDK is ai 7 with @ai-sdk/openai-compatible 3', () => {
    assert.match(versionOf('ai'), /^7\./);
    assert.match(versionOf('@ai-sdk/openai-compatible'), /^3\./);
  });

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
      const parts: Array<TextStreamPart<ToolSet>> = [];
      for await (const part of streamed.stream) parts.push(part);
      const { text, types } = await drainParts(parts);
      assert.equal(text, whole.text, 'the joined stream equals the non-streamed text');
      assert.equal(await streamed.text, echo);
      assert.equal(await streamed.finishReason, 'stop');
      checkPartTypes(types);
      const streamWire = wireUsage(await rec.bodies[1]!);
      checkAiUsage(await streamed.usage, streamWire);
      const finish = parts.find((p) => p.type === 'finish');
      assert.ok(finish, 'a finish part');
      checkAiUsage(finish.totalUsage, streamWire);
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
    const { text } = await drainParts(streamed.stream);
    assert.equal(text, whole.text);
    assert.equal(await streamed.finishReason, 'length');
    assert.equal((await streamed.usage).outputTokens, 3);
  });
});

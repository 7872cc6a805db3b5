// Real Anthropic clients against the real server: @anthropic-ai/sdk 1.14.0 (messages.create,
// messages.stream().finalMessage(), countTokens, tool use, thinking, its error classes), the AI SDK 6 with
// @ai-sdk/anthropic 3.0.140 (generateText with tools, streamText, streamObject), and the Python `anthropic` package
// (test/python-clients/messages.py). They must parse our answers as they parse Anthropic's.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { generateText, streamObject, streamText, tool } from 'ai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { z } from 'zod';
import { suiteServer } from './support/server.js';
import { pythonClientsSkip, pythonJson } from './support/python-clients.js';

const MODEL = 'Qwen/Qwen3-0.6B';
const PROMPT = 'Tell me about the river Thames and its bridges.';
const WEATHER = {
  name: 'get_weather',
  description: 'The weather in a city.',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['C', 'F'] } }, required: ['city', 'unit'] },
};

describe('Anthropic clients parse our Messages answers', { timeout: 120_000 }, () => {
  const server = suiteServer();
  const client = (apiKey = 'test'): Anthropic => new Anthropic({ baseURL: server.url, apiKey, maxRetries: 0, timeout: 30_000 });

  test('@anthropic-ai/sdk: messages.create, messages.stream().finalMessage() and countTokens agree', async () => {
    const params = { model: MODEL, max_tokens: 256, system: 'Be brief.', messages: [{ role: 'user' as const, content: PROMPT }] };
    const whole = await client().messages.create(params);
    assert.equal(whole.content[0]?.type, 'text');
    assert.equal(whole.content[0]?.type === 'text' && whole.content[0].text, PROMPT);
    assert.equal(whole.stop_reason, 'end_turn');
    let streamed = '';
    const stream = client().messages.stream(params);
    stream.on('text', (t) => (streamed += t));
    const final = await stream.finalMessage();
    assert.equal(streamed, PROMPT);
    assert.deepEqual(final.content.map((b) => b.type === 'text' && b.text), [PROMPT]);
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(final.usage.output_tokens, whole.usage.output_tokens);
    assert.equal(final.usage.input_tokens, whole.usage.input_tokens);
    const counted = await client().messages.countTokens({ model: MODEL, system: params.system, messages: params.messages });
    assert.equal(counted.input_tokens, whole.usage.input_tokens);
  });

  test('@anthropic-ai/sdk: tool use, whole and streamed, then the tool_result round trip', async () => {
    const messages = [{ role: 'user' as const, content: 'What is the weather in Paris?' }];
    const whole = await client().messages.create({ model: MODEL, max_tokens: 256, tools: [WEATHER], messages });
    assert.equal(whole.stop_reason, 'tool_use');
    const call = whole.content[0];
    assert.ok(call?.type === 'tool_use');
    assert.equal(call.name, 'get_weather');
    const input = call.input as { city: unknown; unit: unknown };
    assert.equal(typeof input.city, 'string');
    assert.ok(input.unit === 'C' || input.unit === 'F');
    let json = '';
    const stream = client().messages.stream({ model: MODEL, max_tokens: 256, tools: [WEATHER], messages });
    stream.on('inputJson', (partial) => (json += partial));
    const final = await stream.finalMessage();
    const streamedCall = final.content[0];
    assert.ok(streamedCall?.type === 'tool_use');
    assert.deepEqual(streamedCall.input, call.input);
    assert.deepEqual(JSON.parse(json), call.input);
    const answer = await client().messages.create({
      model: MODEL,
      max_tokens: 256,
      tools: [WEATHER],
      messages: [...messages, { role: 'assistant', content: whole.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'Sunny.' }] }],
    });
    assert.equal(answer.stop_reason, 'end_turn');
    assert.deepEqual(answer.content.map((b) => b.type === 'text' && b.text), ['What is the weather in Paris?\nSunny.']);
  });

  test('@anthropic-ai/sdk: thinking blocks and their signature in the final message of a stream', async () => {
    const params = { model: MODEL, max_tokens: 2048, thinking: { type: 'enabled' as const, budget_tokens: 1024 }, messages: [{ role: 'user' as const, content: PROMPT }] };
    let thinking = '';
    const stream = client().messages.stream(params);
    stream.on('thinking', (t) => (thinking += t));
    const final = await stream.finalMessage();
    assert.deepEqual(final.content.map((b) => b.type), ['thinking', 'text']);
    const block = final.content[0];
    assert.ok(block?.type === 'thinking');
    assert.equal(block.thinking, thinking);
    assert.ok(block.signature.length > 0);
    const whole = await client().messages.create(params);
    assert.deepEqual(whole.content, final.content);
  });

  test("@anthropic-ai/sdk: errors arrive as the SDK's error classes with Anthropic's types", async () => {
    await assert.rejects(client().messages.create({ model: MODEL, max_tokens: 0, messages: [{ role: 'user', content: 'Hi' }] }), (err: unknown) => {
      assert.ok(err instanceof Anthropic.BadRequestError);
      assert.equal((err.error as { error: { type: string } }).error.type, 'invalid_request_error');
      return true;
    });
    await assert.rejects(
      client().messages.create({ model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'Hi' }] }, { headers: { 'x-mock-error': '429' } }),
      (err: unknown) => err instanceof Anthropic.RateLimitError,
    );
    // A stream cut after the 200: the SDK raises the error event.
    await assert.rejects(client().messages.stream({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: PROMPT }] }, { headers: { 'x-mock-abort-after': '2' } }).finalMessage(), /cut on purpose/);
  });

  test('AI SDK (@ai-sdk/anthropic): generateText with a tool, streamText and streamObject', async () => {
    const anthropic = createAnthropic({ baseURL: `${server.url}/v1`, apiKey: 'test' });
    const result = await generateText({
      model: anthropic(MODEL),
      prompt: 'What is the weather in Paris? Use get_weather.',
      tools: {
        get_weather: tool({
          description: 'The weather in a city.',
          inputSchema: z.object({ city: z.string(), unit: z.enum(['C', 'F']) }),
          execute: async ({ city }) => `Sunny in ${city}.`,
        }),
      },
    });
    assert.equal(result.finishReason, 'tool-calls');
    assert.equal(result.toolCalls.length, 1);
    assert.equal(result.toolCalls[0]!.toolName, 'get_weather');
    const input = result.toolCalls[0]!.input as { city: string; unit: string };
    assert.equal(typeof input.city, 'string');
    assert.equal(result.toolResults[0]!.output, `Sunny in ${input.city}.`);
    assert.ok(result.usage.inputTokens! > 0 && result.usage.outputTokens! > 0);

    // Text, streamed: the deltas join to the echo, and the usage is the server's.
    const streamed = streamText({ model: anthropic(MODEL), prompt: PROMPT, maxOutputTokens: 256 });
    let text = '';
    for await (const delta of streamed.textStream) text += delta;
    assert.equal(text, PROMPT);
    assert.equal(await streamed.finishReason, 'stop');
    const usage = await streamed.usage;
    const counted = await client().messages.countTokens({ model: MODEL, messages: [{ role: 'user', content: PROMPT }] });
    assert.equal(usage.inputTokens, counted.input_tokens);

    const schema = z.object({ title: z.string(), year: z.number().int().min(1900).max(2100), tags: z.array(z.string()) });
    const { partialObjectStream, object } = streamObject({ model: anthropic(MODEL), schema, prompt: 'A film, as JSON.' });
    let partials = 0;
    for await (const _ of partialObjectStream) partials++;
    const final = await object;
    assert.ok(schema.safeParse(final).success, JSON.stringify(final));
    assert.ok(partials > 1, `${partials} partial objects`);
  });

  test('anthropic (Python) reads a message whole and streamed, and counts its tokens', { skip: pythonClientsSkip() }, async () => {
    const out = await pythonJson<{ version: string; whole: string; stop: string; streamed: string; final: string; input_tokens: number; counted: number; tool: { name: string; input: Record<string, unknown> } }>(
      'messages.py',
      [server.url, PROMPT],
    );
    assert.match(out.version, /^\d+\./);
    assert.equal(out.whole, PROMPT);
    assert.equal(out.streamed, PROMPT);
    assert.equal(out.final, PROMPT);
    assert.equal(out.stop, 'end_turn');
    assert.equal(out.counted, out.input_tokens);
    assert.equal(out.tool.name, 'get_weather');
    assert.equal(typeof out.tool.input['city'], 'string');
  });
});

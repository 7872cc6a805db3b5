// Real clients of the Responses API against the real server: openai-node 6 (responses.create, the stream
// helper's accumulator, responses.parse with a zod text format) and the AI SDK 6's OpenAI provider, whose
// `.responses(model)` speaks this API (generateText with tools, streamObject).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { generateText, jsonSchema, stepCountIs, streamObject, streamText, tool } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { suiteServer } from './support/server.js';

const MODEL = 'Qwen/Qwen3-0.6B';
const PROMPT = 'The quick brown fox jumps over the lazy dog.';

describe('real clients of the Responses API', { timeout: 120_000 }, () => {
  const server = suiteServer();

  const client = (): OpenAI => new OpenAI({ baseURL: server.baseURL, apiKey: 'test', maxRetries: 0, timeout: 30_000 });

  test('openai: responses.create, whole and raw stream; responses.retrieve', async () => {
    const r = await client().responses.create({ model: MODEL, input: PROMPT, instructions: 'Be terse.' });
    assert.equal(r.output_text, PROMPT);
    assert.equal(r.status, 'completed');
    assert.ok(r.usage && r.usage.input_tokens > 0 && r.usage.output_tokens > 0);
    const stream = await client().responses.create({ model: MODEL, input: PROMPT, stream: true });
    let text = '';
    const seen: number[] = [];
    for await (const event of stream) {
      seen.push(event.sequence_number);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    assert.equal(text, PROMPT);
    assert.deepEqual(seen, seen.map((_, i) => i));
    const again = await client().responses.retrieve(r.id);
    assert.equal(again.output_text, PROMPT);
  });

  test('openai: responses.stream(...).finalResponse() accumulates reasoning, text and usage', async () => {
    const stream = client().responses.stream({ model: MODEL, input: PROMPT, reasoning: { effort: 'low' } });
    let deltas = '';
    stream.on('response.output_text.delta', (e) => (deltas += e.delta));
    const final = await stream.finalResponse();
    assert.equal(final.output_text, PROMPT);
    assert.equal(deltas, PROMPT);
    assert.deepEqual(final.output.map((o) => o.type), ['reasoning', 'message']);
    assert.ok((final.usage?.output_tokens_details.reasoning_tokens ?? 0) > 0);
  });

  test('openai: a tool call round trip, and previous_response_id', async () => {
    const tools: OpenAI.Responses.Tool[] = [
      { type: 'function', name: 'get_weather', strict: true, parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } },
    ];
    const first = await client().responses.create({ model: MODEL, input: 'What is the weather in Paris?', tools });
    const call = first.output.find((o) => o.type === 'function_call');
    assert.ok(call && call.type === 'function_call');
    assert.equal(call.name, 'get_weather');
    assert.equal(typeof (JSON.parse(call.arguments) as { city: unknown }).city, 'string');
    const second = await client().responses.create({
      model: MODEL,
      previous_response_id: first.id,
      tools,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '21 C' }],
    });
    assert.equal(second.output_text, 'What is the weather in Paris?');
  });

  test('openai: responses.parse with zodTextFormat gives a parsed object', async () => {
    const Person = z.object({ name: z.string(), age: z.number().int() });
    const r = await client().responses.parse({ model: MODEL, input: PROMPT, text: { format: zodTextFormat(Person, 'person') } });
    const parsed = r.output_parsed;
    assert.ok(parsed);
    assert.equal(typeof parsed.name, 'string');
    assert.ok(Number.isInteger(parsed.age));
  });

  test('openai: a fault is an APIError; an error event mid-stream fails finalResponse()', async () => {
    await assert.rejects(
      client().responses.create({ model: MODEL, input: PROMPT }, { headers: { 'x-mock-error': '429' } }),
      (e: unknown) => e instanceof OpenAI.APIError && e.status === 429,
    );
    const cut = client().responses.stream({ model: MODEL, input: PROMPT }, { headers: { 'x-mock-abort-after': '2' } });
    // openai-node rejects with the error event itself, as it would with OpenAI's.
    await assert.rejects(cut.finalResponse(), (e: unknown) => (e as { type?: string; code?: string }).type === 'error' && (e as { code?: string }).code === 'stream_aborted');
  });

  // ------------------------------------------------------------------------------------ AI SDK 6

  const provider = () => createOpenAI({ baseURL: server.baseURL, apiKey: 'test' });

  test('AI SDK: generateText and streamText over .responses(model)', async () => {
    const whole = await generateText({ model: provider().responses(MODEL), prompt: PROMPT });
    assert.equal(whole.text, PROMPT);
    assert.equal(whole.finishReason, 'stop');
    assert.ok((whole.usage.inputTokens ?? 0) > 0);
    const streamed = streamText({ model: provider().responses(MODEL), prompt: PROMPT });
    assert.equal(await streamed.text, PROMPT);
  });

  test('AI SDK: generateText with a tool runs the call, then answers in text', async () => {
    const calls: unknown[] = [];
    const result = await generateText({
      model: provider().responses(MODEL),
      prompt: 'What is the weather in Paris?',
      tools: {
        get_weather: tool({
          description: 'The weather in a city',
          inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }),
          execute: async (input) => {
            calls.push(input);
            return { temperature: 21 };
          },
        }),
      },
      stopWhen: stepCountIs(3),
      providerOptions: { openai: { store: false } },
    });
    assert.equal(calls.length, 1);
    assert.equal(typeof (calls[0] as { city: unknown }).city, 'string');
    assert.equal(result.steps.length, 2);
    assert.equal(result.text, 'What is the weather in Paris?');
  });

  test('AI SDK: streamObject with a zod schema', async () => {
    const result = streamObject({ model: provider().responses(MODEL), schema: z.object({ title: z.string(), pages: z.number().int() }), prompt: PROMPT });
    // The AI SDK's promises settle as its stream is read: read it, as an app does.
    let partials = 0;
    for await (const _partial of result.partialObjectStream) partials++;
    assert.ok(partials > 1, 'the object arrives in parts, token by token');
    const object = await result.object;
    assert.equal(typeof object.title, 'string');
    assert.ok(Number.isInteger(object.pages));
  });
});

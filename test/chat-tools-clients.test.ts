// Real clients against tool calls and structured outputs: openai-node's parse, stream and runTools helpers, and
// the AI SDK's openai-compatible chat model (a tool executed between two steps, streamObject with a zod schema).
// They must take our answers as they take OpenAI's (openai 6.49.0, ai 6.0.326, @ai-sdk/openai-compatible
// 2.0.92, zod 4.6.7: the versions that run on Node 20).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import { generateText, stepCountIs, streamObject, tool } from 'ai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { z } from 'zod';
import { suiteServer } from './support/server.js';
import { MODEL } from './support/real-clients.js';

const Person = z.object({ name: z.string(), age: z.number().int(), tags: z.array(z.enum(['a', 'b'])) });
const Weather = z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']) });
const WEATHER_PARAMETERS = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { enum: ['celsius', 'fahrenheit'] } },
  required: ['city', 'unit'],
  additionalProperties: false,
};

describe('real clients with tool calls and structured outputs', { timeout: 120_000 }, () => {
  const server = suiteServer();

  describe('openai SDK', () => {
    const client = (): OpenAI => new OpenAI({ baseURL: server.baseURL, apiKey: 'test', maxRetries: 0, timeout: 30_000 });

    test('chat.completions.parse with zodResponseFormat: message.parsed is the schema instance', async () => {
      const completion = await client().chat.completions.parse({
        model: MODEL,
        messages: [{ role: 'user', content: 'Make up a person.' }],
        response_format: zodResponseFormat(Person, 'person'),
      });
      const message = completion.choices[0]!.message;
      assert.ok(message.parsed, message.content ?? '');
      assert.deepEqual(Person.parse(message.parsed), message.parsed);
      assert.deepEqual(JSON.parse(message.content!), message.parsed);
    });

    test('chat.completions.parse with a zodFunction tool: parsed_arguments', async () => {
      const completion = await client().chat.completions.parse({
        model: MODEL,
        messages: [{ role: 'user', content: 'What is the weather in Oslo?' }],
        tools: [zodFunction({ name: 'get_weather', parameters: Weather })],
      });
      const call = completion.choices[0]!.message.tool_calls![0]!;
      assert.equal(completion.choices[0]!.finish_reason, 'tool_calls');
      assert.equal(call.type, 'function');
      if (call.type !== 'function') return;
      assert.deepEqual(Weather.parse(call.function.parsed_arguments), call.function.parsed_arguments);
    });

    test('chat.completions.stream with tools: argument delta events, finalChatCompletion holds the calls', async () => {
      const messages = [{ role: 'user' as const, content: 'Weather in Oslo? Use get_weather and get_time.' }];
      const tools = [
        { type: 'function' as const, function: { name: 'get_weather', parameters: WEATHER_PARAMETERS } },
        { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: { tz: { type: 'string' } }, required: ['tz'] } } },
      ];
      const runner = client().chat.completions.stream({ model: MODEL, messages, tools, stream_options: { include_usage: true } });
      const deltas = new Map<number, string>();
      const done = new Map<number, string>();
      runner.on('tool_calls.function.arguments.delta', (e) => deltas.set(e.index, (deltas.get(e.index) ?? '') + e.arguments_delta));
      runner.on('tool_calls.function.arguments.done', (e) => done.set(e.index, e.arguments));
      const final = await runner.finalChatCompletion();
      const calls = final.choices[0]!.message.tool_calls!;
      assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
      assert.deepEqual(calls.map((c) => (c.type === 'function' ? c.function.name : c.type)), ['get_weather', 'get_time']);
      const whole = await client().chat.completions.create({ model: MODEL, messages, tools });
      calls.forEach((c, i) => {
        assert.match(c.id, /^call_/);
        const expected = whole.choices[0]!.message.tool_calls![i]!;
        assert.ok(c.type === 'function' && expected.type === 'function');
        assert.equal(c.function.arguments, expected.function.arguments);
        assert.equal(deltas.get(i), c.function.arguments);
        assert.equal(done.get(i), c.function.arguments);
      });
      assert.equal(final.usage?.completion_tokens, whole.usage?.completion_tokens);
    });

    test('runTools: the loop executes the tool, sends its result back, and gets the final text', async () => {
      const seen: unknown[] = [];
      const runner = client().chat.completions.runTools({
        model: MODEL,
        messages: [{ role: 'user', content: 'What is the weather in Oslo?' }],
        tools: [
          {
            type: 'function',
            function: {
              name: 'get_weather',
              description: 'The weather in a city',
              parameters: WEATHER_PARAMETERS,
              parse: (input: string) => JSON.parse(input) as z.infer<typeof Weather>,
              function: (args: z.infer<typeof Weather>) => {
                seen.push(args);
                return { temperature: 21 };
              },
            },
          },
        ],
      });
      assert.equal(await runner.finalContent(), 'What is the weather in Oslo?');
      assert.equal(seen.length, 1);
      Weather.parse(seen[0]);
      const roles = runner.messages.map((m) => m.role);
      assert.deepEqual(roles, ['user', 'assistant', 'tool', 'assistant']);
    });

    test('runTools streaming: the same loop over streamed calls', async () => {
      let calls = 0;
      const runner = client().chat.completions.runTools({
        model: MODEL,
        stream: true,
        messages: [{ role: 'user', content: 'Weather in Lima?' }],
        tools: [{ type: 'function', function: { name: 'get_weather', description: 'The weather', parameters: WEATHER_PARAMETERS, parse: JSON.parse, function: () => (calls++, 'sunny') } }],
      });
      assert.equal(await runner.finalContent(), 'Weather in Lima?');
      assert.equal(calls, 1);
    });
  });

  describe('AI SDK (openai-compatible chat model)', () => {
    const provider = () => createOpenAICompatible({ name: 'mock', baseURL: server.baseURL, apiKey: 'test', supportsStructuredOutputs: true });

    test('generateText with a tool and stopWhen: step 1 calls and executes it, step 2 answers', async () => {
      const executed: Array<z.infer<typeof Weather>> = [];
      const result = await generateText({
        model: provider().chatModel(MODEL),
        prompt: 'What is the weather in Oslo?',
        tools: {
          get_weather: tool({
            description: 'The weather in a city',
            inputSchema: Weather,
            execute: async (input) => {
              executed.push(input);
              return { temperature: 21 };
            },
          }),
        },
        stopWhen: stepCountIs(3),
      });
      assert.equal(result.steps.length, 2);
      assert.equal(result.steps[0]!.finishReason, 'tool-calls');
      assert.equal(result.steps[0]!.toolCalls[0]!.toolName, 'get_weather');
      assert.equal(executed.length, 1);
      assert.deepEqual(result.steps[0]!.toolResults[0]!.output, { temperature: 21 });
      assert.equal(result.finishReason, 'stop');
      assert.equal(result.text, 'What is the weather in Oslo?');
    });

    test('streamObject with a zod schema: partial objects stream, the final object validates', async () => {
      const result = streamObject({ model: provider().chatModel(MODEL), schema: Person, prompt: 'Make up a person.' });
      let partials = 0;
      for await (const _ of result.partialObjectStream) partials++;
      const object = await result.object;
      assert.deepEqual(Person.parse(object), object);
      assert.ok(partials > 1, 'the object arrives in parts');
    });
  });
});

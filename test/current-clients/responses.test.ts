// openai 7 and the AI SDK 7's @ai-sdk/openai 4 (Node 22+) with the Responses API and chat tool calls: the calls
// of test/responses-clients.test.ts and test/chat-tools-clients.test.ts that need no zod (not a dependency
// here), with their checks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { suiteServer } from '../../dist/test/support/server.js';
import { MODEL } from '../../dist/test/support/real-clients.js';

const PROMPT = 'The quick brown fox jumps over the lazy dog.';
const CITY = { type: 'object' as const, properties: { city: { type: 'string' as const } }, required: ['city'], additionalProperties: false };

describe('openai 7 and the AI SDK 7 with Responses and tool calls', { timeout: 120_000 }, () => {
  const server = suiteServer();
  const client = (): OpenAI => new OpenAI({ baseURL: server.baseURL, apiKey: 'test', maxRetries: 0, timeout: 30_000 });

  test('responses.create, whole and raw stream (sequence numbers in order); responses.retrieve', async () => {
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
    assert.equal((await client().responses.retrieve(r.id)).output_text, PROMPT);
  });

  test('responses.stream(...).finalResponse() accumulates reasoning, text and usage', async () => {
    const stream = client().responses.stream({ model: MODEL, input: PROMPT, reasoning: { effort: 'low' } });
    let deltas = '';
    stream.on('response.output_text.delta', (e) => (deltas += e.delta));
    const final = await stream.finalResponse();
    assert.equal(final.output_text, PROMPT);
    assert.equal(deltas, PROMPT);
    assert.deepEqual(final.output.map((o) => o.type), ['reasoning', 'message']);
    assert.ok((final.usage?.output_tokens_details.reasoning_tokens ?? 0) > 0);
  });

  test('a Responses function call round trip through previous_response_id', async () => {
    const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_weather', strict: true, parameters: CITY }];
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

  test('chat tool calls, whole and through the stream helper, and a JSON-schema answer', async () => {
    const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: CITY } }];
    const messages = [{ role: 'user' as const, content: 'What is the weather in Paris?' }];
    const whole = await client().chat.completions.create({ model: MODEL, messages, tools, tool_choice: 'required' });
    assert.equal(whole.choices[0]!.finish_reason, 'tool_calls');
    const call = whole.choices[0]!.message.tool_calls?.[0];
    assert.ok(call && call.type === 'function');
    assert.equal(call.function.name, 'get_weather');
    const args = JSON.parse(call.function.arguments) as { city: unknown };
    assert.equal(typeof args.city, 'string');
    const streamed = await client().chat.completions.stream({ model: MODEL, messages, tools, tool_choice: 'required' }).finalChatCompletion();
    const again = streamed.choices[0]!.message.tool_calls?.[0];
    assert.ok(again && again.type === 'function');
    assert.equal(again.function.arguments, call.function.arguments, 'the same prompt calls with the same arguments');
    const json = await client().chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Where is it warm?' }],
      response_format: { type: 'json_schema', json_schema: { name: 'place', strict: true, schema: CITY } },
    });
    assert.equal(typeof (JSON.parse(json.choices[0]!.message.content!) as { city: unknown }).city, 'string');
  });

  test('AI SDK 7: generateText and streamText over .responses(model)', async () => {
    const provider = createOpenAI({ baseURL: server.baseURL, apiKey: 'test' });
    const whole = await generateText({ model: provider.responses(MODEL), prompt: PROMPT, maxRetries: 0 });
    assert.equal(whole.text, PROMPT);
    assert.equal(whole.finishReason, 'stop');
    assert.ok((whole.usage.inputTokens ?? 0) > 0);
    const streamed = streamText({ model: provider.responses(MODEL), prompt: PROMPT, maxRetries: 0 });
    assert.equal(await streamed.text, PROMPT);
  });

  test('AI SDK 7: generateText over .responses(model) runs a tool call, then answers in text', async () => {
    const provider = createOpenAI({ baseURL: server.baseURL, apiKey: 'test' });
    const calls: unknown[] = [];
    const result = await generateText({
      model: provider.responses(MODEL),
      prompt: 'What is the weather in Paris?',
      tools: {
        get_weather: tool({
          description: 'The weather in a city',
          inputSchema: jsonSchema<{ city: string }>(CITY),
          execute: async (input) => {
            calls.push(input);
            return { temperature: 21 };
          },
        }),
      },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
      providerOptions: { openai: { store: false } },
    });
    assert.equal(calls.length, 1);
    assert.equal(typeof (calls[0] as { city: unknown }).city, 'string');
    assert.equal(result.steps.length, 2);
    assert.equal(result.text, 'What is the weather in Paris?');
  });
});

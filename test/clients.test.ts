// Real clients against the real server: the official OpenAI SDK and the Vercel AI SDK (openai-compatible
// provider) must parse our answers, streamed and not, exactly as they parse OpenAI's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { generateText, streamText, type TextStreamPart, type ToolSet } from 'ai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { startServer, type RunningServer } from './support/server.js';

const MODEL = 'Qwen/Qwen3-0.6B';
const ASCII = 'The quick brown fox jumps over the lazy dog.';
// Multi-token characters: an emoji with a skin tone modifier, CJK, a combining accent and a flag (two regional
// indicators), so that token boundaries fall inside UTF-8 sequences and grapheme clusters.
const UNICODE = 'Grüße 👋🏽 你好 e\u0301 🇫🇷 done.';
// The echo is the prompt's tokens decoded, and Qwen3's tokenizer normalizes its input to NFC (as the real model
// does under vLLM), so "e\u0301" comes back as "\u00e9": the expected text is the prompt in NFC.
const PROMPTS: Array<[name: string, prompt: string, echo: string]> = [
  ['an ASCII prompt', ASCII, ASCII],
  ['an emoji/CJK/combining prompt', UNICODE, UNICODE.normalize('NFC')],
];

interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** The `usage` the server put on the wire in one response body: JSON, or the usage chunk of an SSE stream. */
function wireUsage(body: string): WireUsage {
  if (!body.startsWith('data: ')) return (JSON.parse(body) as { usage: WireUsage }).usage;
  const found = body
    .split('\n\n')
    .filter((b) => b.startsWith('data: {'))
    .map((b) => JSON.parse(b.slice(6)) as { usage?: WireUsage | null })
    .filter((c) => c.usage != null);
  assert.equal(found.length, 1, 'one usage chunk on the wire');
  return found[0]!.usage!;
}

/** A fetch that keeps a copy of every response body, to compare what clients report with what was sent. */
function recordingFetch(): { fetch: typeof fetch; bodies: Array<Promise<string>> } {
  const bodies: Array<Promise<string>> = [];
  const recording: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    bodies.push(res.clone().text());
    return res;
  };
  return { fetch: recording, bodies };
}

describe('real clients parse our answers', { timeout: 120_000 }, () => {
  let server: RunningServer;
  let baseURL: string;

  before(async () => {
    server = await startServer(['--ttft', '0', '--itl', '0']);
    baseURL = `${server.url}/v1`;
  });
  after(async () => {
    await server?.stop();
  });

  // ------------------------------------------------------------------------------------ openai@6

  describe('openai SDK', () => {
    const client = (): OpenAI => new OpenAI({ baseURL, apiKey: 'test', maxRetries: 0, timeout: 30_000 });

    for (const [name, prompt, echo] of PROMPTS) {
      test(`chat.completions.create, non-streaming and raw stream, ${name}`, async () => {
        const messages = [{ role: 'user' as const, content: prompt }];
        const whole = await client().chat.completions.create({ model: MODEL, messages });
        assert.equal(whole.object, 'chat.completion');
        assert.equal(whole.choices.length, 1);
        const choice = whole.choices[0]!;
        assert.equal(choice.message.role, 'assistant');
        assert.equal(choice.message.content, echo);
        assert.equal(choice.finish_reason, 'stop');
        const usage = whole.usage!;
        assert.ok(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
        assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);

        const stream = await client().chat.completions.create({
          model: MODEL,
          messages,
          stream: true,
          stream_options: { include_usage: true },
        });
        let text = '';
        const usageChunks: OpenAI.CompletionUsage[] = [];
        const choiceChunks: OpenAI.Chat.Completions.ChatCompletionChunk.Choice[] = [];
        let roles = 0;
        for await (const chunk of stream) {
          assert.equal(chunk.object, 'chat.completion.chunk');
          if (chunk.usage) {
            usageChunks.push(chunk.usage);
            assert.deepEqual(chunk.choices, [], 'the usage chunk has no choices');
          }
          for (const c of chunk.choices) {
            choiceChunks.push(c);
            text += c.delta.content ?? '';
            if (c.delta.role !== undefined) roles++;
          }
        }
        assert.equal(text, choice.message.content, 'the joined deltas equal the non-streamed content');
        assert.equal(roles, 1, 'the role is sent once');
        assert.equal(choiceChunks[0]!.delta.role, 'assistant');
        assert.equal(usageChunks.length, 1, 'exactly one usage chunk');
        assert.deepEqual(usageChunks[0], usage, 'streamed usage equals non-streamed usage');
        assert.equal(choiceChunks.at(-1)!.finish_reason, 'stop', 'the last choice chunk finishes');
        assert.ok(choiceChunks.slice(0, -1).every((c) => c.finish_reason === null), 'no earlier chunk finishes');
      });

      test(`chat.completions.stream() helper and finalChatCompletion(), ${name}`, async () => {
        const runner = client().chat.completions.stream({
          model: MODEL,
          messages: [{ role: 'user', content: prompt }],
          stream_options: { include_usage: true },
        });
        let deltas = '';
        runner.on('content', (delta) => (deltas += delta));
        const final = await runner.finalChatCompletion();
        assert.equal(final.choices.length, 1);
        assert.equal(final.choices[0]!.message.role, 'assistant');
        assert.equal(final.choices[0]!.message.content, echo);
        assert.equal(final.choices[0]!.finish_reason, 'stop');
        assert.equal(deltas, echo);
        assert.ok(final.usage && final.usage.completion_tokens > 0);
      });
    }

    test('chat.completions.stream() helper with n=2 and a cap: every choice has its role and finish_reason', async () => {
      const final = await client()
        .chat.completions.stream({ model: MODEL, messages: [{ role: 'user', content: ASCII }], n: 2, max_tokens: 3 })
        .finalChatCompletion();
      assert.deepEqual(final.choices.map((c) => c.index), [0, 1]);
      for (const c of final.choices) {
        assert.equal(c.finish_reason, 'length');
        assert.equal(c.message.role, 'assistant');
        assert.ok(ASCII.startsWith(c.message.content ?? '') && c.message.content !== ASCII);
      }
    });

    test('chat.completions.create with max_tokens: finish_reason length, completion_tokens = cap', async () => {
      const whole = await client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: ASCII }], max_tokens: 4 });
      assert.equal(whole.choices[0]!.finish_reason, 'length');
      assert.equal(whole.usage!.completion_tokens, 4);
    });

    for (const [name, prompt, echo] of PROMPTS) {
      test(`completions.create, non-streaming and streaming, ${name}`, async () => {
        const whole = await client().completions.create({ model: MODEL, prompt });
        assert.equal(whole.object, 'text_completion');
        assert.equal(whole.choices.length, 1);
        assert.equal(whole.choices[0]!.text, echo);
        assert.equal(whole.choices[0]!.finish_reason, 'stop');
        const usage = whole.usage!;
        assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);

        const stream = await client().completions.create({ model: MODEL, prompt, stream: true, stream_options: { include_usage: true } });
        let text = '';
        const usages: OpenAI.CompletionUsage[] = [];
        const finishes: Array<string | null> = [];
        for await (const chunk of stream) {
          assert.equal(chunk.object, 'text_completion');
          if (chunk.usage) usages.push(chunk.usage);
          for (const c of chunk.choices) {
            text += c.text;
            finishes.push(c.finish_reason);
          }
        }
        assert.equal(text, whole.choices[0]!.text);
        assert.equal(finishes.at(-1), 'stop');
        assert.ok(finishes.slice(0, -1).every((f) => f === null));
        assert.deepEqual(usages, [usage]);
      });
    }

    test('models.list() and models.retrieve()', async () => {
      const ids: string[] = [];
      for await (const m of client().models.list()) {
        assert.equal(m.object, 'model');
        assert.equal(typeof m.created, 'number');
        assert.equal(typeof m.owned_by, 'string');
        ids.push(m.id);
      }
      assert.ok(ids.includes(MODEL), `models.list() has ${MODEL}: ${ids.join(', ')}`);
      const one = await client().models.retrieve(MODEL);
      assert.equal(one.id, MODEL);
      assert.equal(one.object, 'model');
    });
  });

  // ------------------------------------------------------------------------------------ Vercel AI SDK

  describe('Vercel AI SDK with @ai-sdk/openai-compatible', () => {
    const provider = (f: typeof fetch) => createOpenAICompatible({ name: 'mock', baseURL, apiKey: 'test', includeUsage: true, fetch: f });

    /** Iterates fullStream, failing on any error part; returns the text deltas joined and the parts' types. */
    async function drain(parts: AsyncIterable<TextStreamPart<ToolSet>>): Promise<{ text: string; types: string[] }> {
      let text = '';
      const types: string[] = [];
      for await (const part of parts) {
        types.push(part.type);
        if (part.type === 'error') assert.fail(`fullStream error part: ${String(part.error)}`);
        if (part.type === 'text-delta') text += part.text;
      }
      return { text, types };
    }

    for (const [name, prompt, echo] of PROMPTS) {
      test(`generateText and streamText, ${name}`, async () => {
        const rec = recordingFetch();
        const model = provider(rec.fetch).chatModel(MODEL);

        const whole = await generateText({ model, prompt, maxRetries: 0 });
        assert.equal(whole.text, echo);
        assert.equal(whole.finishReason, 'stop');
        const wholeWire = wireUsage(await rec.bodies[0]!);
        assert.equal(whole.usage.inputTokens, wholeWire.prompt_tokens);
        assert.equal(whole.usage.outputTokens, wholeWire.completion_tokens);
        assert.equal(whole.usage.totalTokens, wholeWire.total_tokens);

        const streamed = streamText({ model, prompt, maxRetries: 0 });
        const { text, types } = await drain(streamed.fullStream);
        assert.equal(text, whole.text, 'the joined stream equals the non-streamed text');
        assert.equal(await streamed.text, echo);
        assert.equal(await streamed.finishReason, 'stop');
        assert.ok(types.includes('text-start') && types.includes('text-end') && types.at(-1) === 'finish', types.join(','));
        const usage = await streamed.usage;
        const streamWire = wireUsage(await rec.bodies[1]!);
        assert.equal(usage.inputTokens, streamWire.prompt_tokens);
        assert.equal(usage.outputTokens, streamWire.completion_tokens);
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
      const { text } = await drain(streamed.fullStream);
      assert.equal(text, whole.text);
      assert.equal(await streamed.finishReason, 'length');
      assert.equal((await streamed.usage).outputTokens, 3);
    });
  });
});

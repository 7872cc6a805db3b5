// max_model_len: vLLM's context window, its 400s in vLLM's wording and shape, and /v1/models' vLLM fields.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, runCli, startServer, type RunningServer } from './support/server.js';
import type { ChatResponse, CompletionResponse, ErrorBody, Model, ModelList } from '../src/types.js';

const MODEL = 'Qwen/Qwen3-0.6B';
const MESSAGES = [{ role: 'user', content: 'The quick brown fox jumps over the lazy dog.' }];
const PROMPT = 'The quick brown fox jumps over the lazy dog.';

let server: RunningServer;
const configure = async (body: unknown): Promise<void> => {
  const res = await postJson(`${server.url}/configure`, body);
  assert.equal(res.status, 200, await res.text());
};
const chat = (extra: Record<string, unknown>) => postJson(`${server.url}/v1/chat/completions`, { model: MODEL, messages: MESSAGES, ...extra });
const completion = (extra: Record<string, unknown>) => postJson(`${server.url}/v1/completions`, { model: MODEL, prompt: PROMPT, ...extra });

async function refusal(res: Response): Promise<ErrorBody['error']> {
  const text = await res.text();
  assert.equal(res.status, 400, text);
  return (JSON.parse(text) as ErrorBody).error;
}

/** vLLM's refusal of a cap that does not fit beside the prompt. */
const tooLarge = (cap: number, len: number, prompt: number) => ({
  message: `'max_tokens' or 'max_completion_tokens' is too large: ${cap}. This model's maximum context length is ${len} tokens and your request has ${prompt} input tokens (${cap} > ${len} - ${prompt}). (parameter=max_tokens, value=${cap})`,
  type: 'BadRequestError',
  param: 'max_tokens',
  code: 400,
});
/** vLLM's refusal of a prompt that leaves no room. */
const tooLong = (len: number, prompt: number) => ({
  message: `This model's maximum context length is ${len} tokens. However, your request has ${prompt} input tokens. Please reduce the length of the input messages. (parameter=input_tokens, value=${prompt})`,
  type: 'BadRequestError',
  param: 'input_tokens',
  code: 400,
});

let chatPrompt = 0;
let completionPrompt = 0;

before(async () => {
  server = await startServer(['-t', '0', '-i', '0']);
  chatPrompt = ((await (await chat({ max_tokens: 1 })).json()) as ChatResponse).usage.prompt_tokens;
  completionPrompt = ((await (await completion({ max_tokens: 1 })).json()) as CompletionResponse).usage.prompt_tokens;
  assert.ok(chatPrompt > completionPrompt && completionPrompt > 5, `${chatPrompt} ${completionPrompt}`);
});
after(async () => {
  await server.stop();
});

describe('max_model_len', () => {
  it('defaults to 32768: a cap that fills the window is served, one more token is refused', async () => {
    assert.equal((await chat({ max_tokens: 32768 - chatPrompt })).status, 200);
    assert.deepEqual(await refusal(await chat({ max_tokens: 32769 - chatPrompt })), tooLarge(32769 - chatPrompt, 32768, chatPrompt));
  });

  it('refuses prompt + max_tokens at max_model_len + 1 and serves it at max_model_len (chat)', async () => {
    await configure({ max_model_len: chatPrompt + 10 });
    try {
      const ok = await chat({ max_tokens: 10 });
      assert.equal(ok.status, 200, await ok.clone().text());
      assert.equal(((await ok.json()) as ChatResponse).usage.prompt_tokens, chatPrompt);
      assert.deepEqual(await refusal(await chat({ max_tokens: 11 })), tooLarge(11, chatPrompt + 10, chatPrompt));
      // max_completion_tokens is the cap when both are given, as in vLLM; the message still names both.
      assert.deepEqual(await refusal(await chat({ max_tokens: 1, max_completion_tokens: 11 })), tooLarge(11, chatPrompt + 10, chatPrompt));
      assert.deepEqual(await refusal(await chat({ max_tokens: 11, stream: true })), tooLarge(11, chatPrompt + 10, chatPrompt));
    } finally {
      await configure({ max_model_len: 32768 });
    }
  });

  it('refuses prompt + max_tokens at max_model_len + 1 and serves it at max_model_len (completions)', async () => {
    await configure({ max_model_len: completionPrompt + 3 });
    try {
      assert.equal((await completion({ max_tokens: 3 })).status, 200);
      assert.deepEqual(await refusal(await completion({ max_tokens: 4 })), tooLarge(4, completionPrompt + 3, completionPrompt));
      // Each prompt of a batch is checked on its own.
      assert.deepEqual(await refusal(await completion({ prompt: ['Hi', PROMPT + ' Again'], max_tokens: 3 })).then((e) => e.param), 'max_tokens');
    } finally {
      await configure({ max_model_len: 32768 });
    }
  });

  it('refuses a prompt longer than the window whatever the cap, and one that fills it when no cap is given', async () => {
    await configure({ max_model_len: chatPrompt - 1 });
    assert.deepEqual(await refusal(await chat({ max_tokens: 1 })), tooLong(chatPrompt - 1, chatPrompt));
    assert.deepEqual(await refusal(await chat({})), tooLong(chatPrompt - 1, chatPrompt));
    await configure({ max_model_len: chatPrompt });
    assert.deepEqual(await refusal(await chat({})), tooLong(chatPrompt, chatPrompt));
    await configure({ max_model_len: completionPrompt });
    assert.deepEqual(await refusal(await completion({})), tooLong(completionPrompt, completionPrompt));
    await configure({ max_model_len: 32768 });
  });

  it('without a cap, the answer takes what is left of the window', async () => {
    await configure({ max_model_len: chatPrompt + 2 });
    try {
      const res = await chat({});
      assert.equal(res.status, 200);
      const body = (await res.json()) as ChatResponse;
      assert.equal(body.usage.completion_tokens, 2);
      assert.equal(body.choices[0]!.finish_reason, 'length');
    } finally {
      await configure({ max_model_len: 32768 });
    }
  });

  it('is refused by /configure outside 1..2147483647', async () => {
    for (const bad of [0, -1, 1.5, 'long']) {
      const res = await postJson(`${server.url}/configure`, { max_model_len: bad });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as ErrorBody).error.param, 'max_model_len');
    }
  });
});

describe('/v1/models with vLLM fields', () => {
  it('lists max_model_len, root, parent, owned_by and permission as vLLM does, following /configure', async () => {
    const check = (m: Model, len: number) => {
      assert.equal(m.id, MODEL);
      assert.equal(m.object, 'model');
      assert.equal(typeof m.created, 'number');
      assert.equal(m.owned_by, 'vllm');
      assert.equal(m.root, MODEL);
      assert.equal(m.parent, null);
      assert.equal(m.max_model_len, len);
      assert.equal(m.permission.length, 1);
      const p = m.permission[0]!;
      assert.match(p.id, /^modelperm-[0-9a-f]{32}$/);
      assert.deepEqual({ ...p, id: '' }, {
        id: '',
        object: 'model_permission',
        created: m.created,
        allow_create_engine: false,
        allow_sampling: true,
        allow_logprobs: true,
        allow_search_indices: false,
        allow_view: true,
        allow_fine_tuning: false,
        organization: '*',
        group: null,
        is_blocking: false,
      });
    };
    const list = (await (await fetch(`${server.url}/v1/models`)).json()) as ModelList;
    check(list.data[0]!, 32768);
    await configure({ max_model_len: 4096 });
    try {
      check(((await (await fetch(`${server.url}/v1/models`)).json()) as ModelList).data[0]!, 4096);
      check((await (await fetch(`${server.url}/v1/models/${encodeURIComponent(MODEL)}`)).json()) as Model, 4096);
    } finally {
      await configure({ max_model_len: 32768 });
    }
  });
});

describe('max_model_len from the command line and the environment', () => {
  it('takes --max-model-len and MOCK_SERVER_MAX_MODEL_LEN, and refuses a bad value', async () => {
    for (const [args, env, want] of [
      [['--max-model-len', '2048'], {}, 2048],
      [[], { MOCK_SERVER_MAX_MODEL_LEN: '1024' }, 1024],
    ] as const) {
      const s = await startServer(['-t', '0', '-i', '0', ...args], env);
      try {
        const m = ((await (await fetch(`${s.url}/v1/models`)).json()) as ModelList).data[0]!;
        assert.equal(m.max_model_len, want);
      } finally {
        await s.stop();
      }
    }
    const bad = await runCli(['--max-model-len', '0']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /max.model.len/);
  });
});

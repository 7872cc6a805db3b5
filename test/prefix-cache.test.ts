// Prefix caching (enable_prefix_caching): chained block hashes, LRU under the capacity, the hit within the
// first prompt − 1 tokens, and as a client sees it: a shared system prompt's cached blocks take exactly
// ttft_per_input_token per cached token off the next request's TTFT, and usage tells them. Lower bounds on
// times are exact (no token leaves early), upper bounds loose for a loaded machine.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { PrefixCache, type PrefixSettings } from '../src/model/prefixCache.js';
import { withPrefixHit } from '../src/model/promptCache.js';
import { postJson, readSse, startServer, type RunningServer } from './support/server.js';
import { metric } from './support/prometheus.js';
import type { ChatChunk, CompletionResponse, MessageStreamEvent, ResponseObject, Usage } from '../src/types.js';

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

describe('the prefix cache model', () => {
  const settings: PrefixSettings = { kv_cache_tokens: 1000, block_size: 4 };

  it('hits the longest run of cached blocks from the start, within the first prompt − 1 tokens', () => {
    const cache = new PrefixCache(() => settings);
    assert.equal(cache.lookup('m', range(0, 12)), 0, 'nothing cached yet');
    assert.equal(cache.size, 3);
    assert.equal(cache.lookup('m', range(0, 12)), 8, 'the same 12 tokens: the last block holds the last token, which is computed');
    assert.equal(cache.lookup('m', [...range(0, 12), 99]), 12, 'one token more: all three blocks');
    assert.equal(cache.lookup('m', [...range(0, 6), 50, 51, ...range(8, 8)]), 4, 'a changed second block ends the run, even where later tokens match');
    assert.equal(cache.lookup('other-model', range(0, 13)), 0, 'another model: other blocks');
    assert.equal(cache.lookup('m', range(0, 3)), 0, 'no full block');
  });

  it('keeps at most floor(kv_cache_tokens / block_size) blocks, evicting the least recently used', () => {
    const small: PrefixSettings = { kv_cache_tokens: 8, block_size: 4 };
    const cache = new PrefixCache(() => small);
    cache.lookup('m', range(0, 9)); // blocks A, AB
    cache.lookup('m', range(100, 5)); // block C: A is the least recently used and goes
    assert.equal(cache.size, 2);
    assert.equal(cache.lookup('m', range(0, 9)), 0, 'A was evicted, and with it the run');
  });
});

describe('Anthropic cache fields with the prefix cache', () => {
  it('count the hit as read; writes the hit holds are read instead, the 1-hour ones first', () => {
    const use = { read: 1000, created1h: 500, created5m: 300 };
    assert.deepEqual(withPrefixHit(use, 800), use, 'a hit shorter than the read changes nothing');
    assert.deepEqual(withPrefixHit(use, 1200), { read: 1200, created1h: 300, created5m: 300 });
    assert.deepEqual(withPrefixHit(use, 1600), { read: 1600, created1h: 0, created5m: 200 });
    assert.deepEqual(withPrefixHit(use, 2000), { read: 2000, created1h: 0, created5m: 0 }, 'beyond every breakpoint');
    assert.deepEqual(withPrefixHit({ read: 0, created1h: 0, created5m: 0 }, 64), { read: 64, created1h: 0, created5m: 0 }, 'no cache_control: the hit alone');
  });
});

describe('prefix caching as a client sees it', () => {
  let server: RunningServer;
  const perToken = 4;
  before(async () => {
    server = await startServer(['-t', '0', '-i', '0', '--ttft-per-input-token', String(perToken), '--enable-prefix-caching', '--block-size', '16']);
  });
  after(async () => {
    await server.stop();
  });

  // A system prompt of over 512 tokens, shared by the two requests below.
  const system = Array.from({ length: 160 }, (_, i) => `rule${i}`).join(' ');
  const ask = async (question: string): Promise<{ ttft: number; usage: Usage }> => {
    const sent = performance.now();
    const res = await postJson(`${server.url}/v1/chat/completions`, {
      model: 'm',
      messages: [
        { role: 'system', content: system },
        { role: 'user', content: question },
      ],
      max_tokens: 2,
      stream: true,
      stream_options: { include_usage: true },
    });
    const events = await readSse(res);
    const chunks = events.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data) as ChatChunk);
    return { ttft: events[0]!.at - sent, usage: chunks.at(-1)!.usage! };
  };

  it('a shared system prompt lowers the second request TTFT by ttft_per_input_token × its cached tokens', async () => {
    // A first chat loads what a first chat loads (the template), so that the two measured ones compare alike.
    await postJson(`${server.url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'warm up' }], max_tokens: 1 });
    const first = await ask('What is the first rule?');
    const second = await ask('What is the last rule?');
    const prompt = first.usage.prompt_tokens;
    assert.ok(prompt >= 512, `${prompt} prompt tokens`);
    assert.equal(second.usage.prompt_tokens, prompt, 'the two prompts have as many tokens');
    assert.equal(first.usage.prompt_tokens_details?.cached_tokens, 0);
    const cached = second.usage.prompt_tokens_details!.cached_tokens;
    assert.ok(cached >= 512 && cached < prompt && cached % 16 === 0, `${cached} cached tokens: the system prompt's full blocks`);
    // Each TTFT is its formula, never less, and loosely no more; so is their difference.
    assert.ok(first.ttft >= perToken * prompt && first.ttft < perToken * prompt + 400, `first TTFT ${first.ttft.toFixed(0)} ms, formula ${perToken * prompt}`);
    const uncached = prompt - cached;
    assert.ok(second.ttft >= perToken * uncached && second.ttft < perToken * uncached + 400, `second TTFT ${second.ttft.toFixed(0)} ms, formula ${perToken * uncached}`);
    const saved = first.ttft - second.ttft;
    assert.ok(Math.abs(saved - perToken * cached) < 400, `TTFT lower by ${saved.toFixed(0)} ms, formula ${perToken * cached}`);
  });

  it('text completions report cached tokens too, and vLLM counters count tokens', async () => {
    const before = await (await fetch(`${server.url}/metrics`)).text();
    const hits0 = metric(before, 'vllm:prefix_cache_hits_total') ?? 0;
    const queries0 = metric(before, 'vllm:prefix_cache_queries_total') ?? 0;
    const prompt = range(5000, 100);
    const complete = async (): Promise<CompletionResponse> =>
      (await (await postJson(`${server.url}/v1/completions`, { model: 'm', prompt, max_tokens: 1 })).json()) as CompletionResponse;
    assert.equal((await complete()).usage.prompt_tokens_details?.cached_tokens, 0);
    // The same 100 tokens: 6 full blocks within the first 99.
    assert.equal((await complete()).usage.prompt_tokens_details?.cached_tokens, 96);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.equal(metric(text, 'vllm:prefix_cache_hits_total')! - hits0, 96);
    assert.equal(metric(text, 'vllm:prefix_cache_queries_total')! - queries0, 200);
  });

  it('Anthropic Messages: the cached system prompt is cache_read_input_tokens, at message_start and in the message', async () => {
    const client = new Anthropic({ baseURL: server.url, apiKey: 'test', maxRetries: 0, timeout: 30_000 });
    const ask = (question: string) => ({ model: 'Qwen/Qwen3-0.6B', max_tokens: 2, system, messages: [{ role: 'user' as const, content: question }] });
    const first = await client.messages.create(ask('Which rule comes first?'));
    assert.equal(first.usage.cache_read_input_tokens, 0);
    const prompt = first.usage.input_tokens;
    assert.ok(prompt >= 512, `${prompt} input tokens`);
    const second = await client.messages.create(ask('Which rule comes last?'));
    const read = second.usage.cache_read_input_tokens!;
    assert.ok(read >= 512 && read < prompt && read % 16 === 0, `${read} tokens read: the system prompt's full blocks`);
    assert.equal(second.usage.input_tokens + read, prompt, 'input_tokens are the rest');
    assert.equal(second.usage.cache_creation_input_tokens, 0);
    // Streamed, message_start tells the read already (the lookup comes before the first event).
    const res = await postJson(`${server.url}/v1/messages`, { ...ask('Which rule is in the middle?'), stream: true }, { 'x-api-key': 'test', 'anthropic-version': '2023-06-01' });
    const events = (await readSse(res)).map((e) => JSON.parse(e.data) as MessageStreamEvent);
    const start = events.find((e) => e.type === 'message_start');
    assert.ok(start?.type === 'message_start');
    assert.equal(start.message.usage.cache_read_input_tokens, read);
    const delta = events.find((e) => e.type === 'message_delta');
    assert.ok(delta?.type === 'message_delta');
    assert.equal(delta.usage.cache_read_input_tokens, read);
  });

  it('OpenAI Responses: usage.input_tokens_details.cached_tokens tells the hit', async () => {
    // Instructions of their own: the chats above cached the same system prompt for this model, and would hit.
    const instructions = Array.from({ length: 160 }, (_, i) => `step${i}`).join(' ');
    const ask = async (question: string): Promise<ResponseObject> =>
      (await (await postJson(`${server.url}/v1/responses`, { model: 'm', instructions, input: question, max_output_tokens: 16, store: false })).json()) as ResponseObject;
    const first = await ask('Name the first rule.');
    assert.equal(first.usage?.input_tokens_details.cached_tokens, 0);
    const second = await ask('Name the last rule.');
    const cached = second.usage!.input_tokens_details.cached_tokens;
    assert.ok(cached >= 512 && cached < second.usage!.input_tokens && cached % 16 === 0, `${cached} cached of ${second.usage!.input_tokens}`);
  });

  it('off, usage has no prompt_tokens_details and nothing is cached', async () => {
    await postJson(`${server.url}/configure`, { enable_prefix_caching: false });
    try {
      const res = (await (await postJson(`${server.url}/v1/completions`, { model: 'm', prompt: range(5000, 100), max_tokens: 1 })).json()) as CompletionResponse;
      assert.equal(res.usage.prompt_tokens_details, undefined);
    } finally {
      await postJson(`${server.url}/configure`, { enable_prefix_caching: true });
    }
  });
});

// GET /metrics: Prometheus text with vLLM's names and the model_name label, whose values equal the test
// client's own counts after a known workload; the queue time; and with --workers, the sum over every worker.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { postJson, readSse, startServer, type RunningServer } from './support/server.js';
import { metric, samples } from './support/prometheus.js';
import type { ChatChunk, ChatResponse, CompletionResponse, Usage } from '../src/types.js';

const words = (n: number): string => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');

const COUNTERS = ['vllm:prompt_tokens_total', 'vllm:generation_tokens_total', 'vllm:request_success_total'];
const GAUGES = ['vllm:num_requests_running', 'vllm:num_requests_waiting'];
const HISTOGRAMS = [
  'vllm:time_to_first_token_seconds',
  'vllm:inter_token_latency_seconds',
  'vllm:e2e_request_latency_seconds',
  'vllm:request_queue_time_seconds',
  'vllm:request_prompt_tokens',
  'vllm:request_generation_tokens',
];

/** What the client itself saw of one finished request. */
interface Seen {
  model: string;
  prompt: number;
  /** Tokens received, over all choices. */
  tokens: number;
  finished: 'stop' | 'length' | 'abort' | 'tool_calls';
}

/** The client's own totals per model, in the metrics' terms. */
function expected(seen: Seen[], model: string) {
  const mine = seen.filter((s) => s.model === model);
  const sum = (f: (s: Seen) => number): number => mine.reduce((a, s) => a + f(s), 0);
  return {
    requests: mine.length,
    prompt: sum((s) => s.prompt),
    tokens: sum((s) => s.tokens),
    withTokens: mine.filter((s) => s.tokens > 0).length,
    gaps: sum((s) => Math.max(0, s.tokens - 1)),
    finished: (reason: Seen['finished']) => mine.filter((s) => s.finished === reason).length,
  };
}

/** Checks every metric of one model against what the client saw. */
function assertMatches(text: string, seen: Seen[], model: string): void {
  const want = expected(seen, model);
  const m = (name: string, labels: Record<string, string> = {}): number | undefined => metric(text, name, { model_name: model, ...labels });
  assert.equal(m('vllm:num_requests_running'), 0, `${model}: nothing running`);
  assert.equal(m('vllm:num_requests_waiting'), 0, `${model}: nothing waiting`);
  assert.equal(m('vllm:prompt_tokens_total'), want.prompt, `${model}: prompt tokens`);
  assert.equal(m('vllm:generation_tokens_total'), want.tokens, `${model}: generation tokens`);
  for (const reason of ['stop', 'length', 'abort'] as const) {
    assert.equal(m('vllm:request_success_total', { finished_reason: reason }) ?? 0, want.finished(reason), `${model}: finished ${reason}`);
  }
  assert.equal(m('vllm:time_to_first_token_seconds_count'), want.withTokens, `${model}: one TTFT per request with a token`);
  assert.equal(m('vllm:inter_token_latency_seconds_count'), want.gaps, `${model}: one ITL per token after the first`);
  assert.equal(m('vllm:e2e_request_latency_seconds_count'), want.requests, `${model}: one e2e latency per request`);
  assert.equal(m('vllm:request_queue_time_seconds_count'), want.requests, `${model}: one queue time per request`);
  assert.equal(m('vllm:request_prompt_tokens_count'), want.requests);
  assert.equal(m('vllm:request_prompt_tokens_sum'), want.prompt);
  assert.equal(m('vllm:request_generation_tokens_count'), want.requests);
  assert.equal(m('vllm:request_generation_tokens_sum'), want.tokens);
  // Histograms are cumulative: the +Inf bucket is the count, and no bucket holds more than the next.
  for (const h of HISTOGRAMS) {
    const buckets = samples(text).filter((s) => s.name === `${h}_bucket` && s.labels['model_name'] === model);
    assert.ok(buckets.length > 1, `${h} has buckets`);
    assert.equal(buckets.at(-1)!.labels['le'], '+Inf');
    assert.equal(buckets.at(-1)!.value, m(`${h}_count`), `${h}: +Inf bucket = count`);
    buckets.slice(1).forEach((b, i) => assert.ok(b.value >= buckets[i]!.value, `${h}: cumulative`));
  }
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return res.text();
}

/** A known workload over both endpoints, streaming and not, with caps, n > 1, cuts and forced errors. */
async function workload(post: (path: string, body: object, headers?: Record<string, string>) => Promise<Response>): Promise<Seen[]> {
  const seen: Seen[] = [];
  const jobs: Array<Promise<void>> = [];
  // Non-streaming chat: the usage says it all.
  for (const [model, content, max] of [
    ['alpha', words(12), undefined],
    ['alpha', words(12), 5],
    ['beta', words(3), undefined],
    ['beta', words(40), 7],
  ] as const) {
    jobs.push(
      (async () => {
        const body = (await (await post('/v1/chat/completions', { model, messages: [{ role: 'user', content }], max_tokens: max, n: 2 })).json()) as ChatResponse;
        seen.push({ model, prompt: body.usage.prompt_tokens, tokens: body.usage.completion_tokens, finished: body.choices[0]!.finish_reason });
      })(),
    );
  }
  // Streams: count the tokens received, the usage chunk gives the prompt.
  for (const [model, n, max] of [
    ['alpha', 1, 4],
    ['beta', 3, undefined],
    ['beta', 1, 9],
  ] as const) {
    jobs.push(
      (async () => {
        const res = await post('/v1/chat/completions', {
          model,
          messages: [{ role: 'user', content: words(9) }],
          max_tokens: max,
          n,
          stream: true,
          stream_options: { include_usage: true },
        });
        const chunks = (await readSse(res)).slice(0, -1).map((e) => JSON.parse(e.data) as ChatChunk);
        const usage = chunks.at(-1)!.usage as Usage;
        const tokens = chunks.filter((c) => c.choices.length > 0 && c.choices[0]!.delta.content).length;
        assert.equal(tokens, usage.completion_tokens, 'every token in its own chunk');
        const finished = chunks.find((c) => c.choices[0]?.finish_reason)!.choices[0]!.finish_reason!;
        seen.push({ model, prompt: usage.prompt_tokens, tokens, finished });
      })(),
    );
  }
  // Completions cut after 3 tokens: the client counts what arrived; the prompt from an uncut twin.
  for (const model of ['alpha', 'beta']) {
    jobs.push(
      (async () => {
        const prompt = words(20);
        const twin = (await (await post('/v1/completions', { model, prompt, max_tokens: 1 })).json()) as CompletionResponse;
        seen.push({ model, prompt: twin.usage.prompt_tokens, tokens: 1, finished: 'length' });
        const events = await readSse(await post('/v1/completions', { model, prompt, stream: true }, { 'X-Mock-Abort-After': '3' }));
        const tokens = events.filter((e) => e.data.startsWith('{"id"')).length;
        assert.equal(tokens, 3);
        seen.push({ model, prompt: twin.usage.prompt_tokens, tokens, finished: 'abort' });
      })(),
    );
  }
  // Forced errors and refused requests are not served: they count nowhere.
  for (const model of ['alpha', 'beta']) {
    jobs.push(
      (async () => {
        assert.equal((await post('/v1/completions', { model, prompt: 'x' }, { 'X-Mock-Error': '503' })).status, 503);
        assert.equal((await post('/v1/completions', { model, prompt: 'x', max_tokens: -1 })).status, 400);
      })(),
    );
  }
  await Promise.all(jobs);
  return seen;
}

describe('GET /metrics', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['-t', '30', '-i', '2']);
  });
  after(async () => {
    await server.stop();
  });

  it("has vLLM's metric names and types, with the model_name label", async () => {
    await postJson(`${server.url}/v1/completions`, { model: 'gamma', prompt: 'hello there', max_tokens: 1 });
    const text = await scrape(server.url);
    const typeOf = (name: string): string | undefined => new RegExp(`^# TYPE ${name} (\\w+)$`, 'm').exec(text)?.[1];
    for (const name of GAUGES) assert.equal(typeOf(name), 'gauge', name);
    for (const name of COUNTERS) assert.equal(typeOf(name), 'counter', name);
    for (const name of HISTOGRAMS) assert.equal(typeOf(name), 'histogram', name);
    for (const name of [...GAUGES, ...COUNTERS]) assert.ok(samples(text).some((s) => s.name === name && s.labels['model_name'] === 'gamma'), name);
    assert.equal(metric(text, 'vllm:request_success_total', { model_name: 'gamma', finished_reason: 'length' }), 1);
    assert.equal(metric(text, 'vllm:generation_tokens_total', { model_name: 'gamma' }), 1);
  });

  it("equals the client's own counts after a known workload, per model", async () => {
    const seen = await workload((path, body, headers) => postJson(server.url + path, body, headers));
    const text = await scrape(server.url);
    assertMatches(text, seen, 'alpha');
    assertMatches(text, seen, 'beta');
    // Measured, not copied from the settings: every first token came at least 30 ms after its arrival.
    const ttft = (le: string): number | undefined => metric(text, 'vllm:time_to_first_token_seconds_bucket', { le, model_name: 'alpha' });
    assert.equal(ttft('0.02'), 0, 'no TTFT below the configured 30 ms');
    const count = metric(text, 'vllm:time_to_first_token_seconds_count', { model_name: 'alpha' })!;
    assert.ok(metric(text, 'vllm:time_to_first_token_seconds_sum', { model_name: 'alpha' })! >= 0.03 * count);
    assert.ok(metric(text, 'vllm:e2e_request_latency_seconds_sum', { model_name: 'alpha' })! >= 0.03 * count);
  });

  it('measures what was sent: a forced TTFT shows in the histogram', async () => {
    const before = await scrape(server.url);
    const res = await postJson(`${server.url}/v1/completions`, { model: 'delta', prompt: 'a b c', stream: true }, { 'X-Mock-TTFT': '300' });
    await readSse(res);
    const text = await scrape(server.url);
    assert.equal(metric(before, 'vllm:time_to_first_token_seconds_count', { model_name: 'delta' }), undefined);
    assert.equal(metric(text, 'vllm:time_to_first_token_seconds_count', { model_name: 'delta' }), 1);
    assert.equal(metric(text, 'vllm:time_to_first_token_seconds_bucket', { le: '0.25', model_name: 'delta' }), 0, 'TTFT above 250 ms');
    assert.equal(metric(text, 'vllm:time_to_first_token_seconds_bucket', { le: '2.5', model_name: 'delta' }), 1);
    const sum = metric(text, 'vllm:time_to_first_token_seconds_sum', { model_name: 'delta' })!;
    assert.ok(sum >= 0.3 && sum < 2.5, `TTFT ${sum} s`);
  });

  it('shows streams running and waiting, and their time in the queue', async () => {
    await postJson(`${server.url}/configure`, { max_concurrency: 1, ttft: 0, itl: 100 });
    try {
      const body = { model: 'queued', prompt: words(10), max_tokens: 6, ignore_eos: true, stream: true };
      const first = postJson(`${server.url}/v1/completions`, body).then(readSse);
      let text = '';
      for (let i = 0; i < 500 && metric(text, 'vllm:num_requests_running', { model_name: 'queued' }) !== 1; i++) text = await scrape(server.url);
      const second = postJson(`${server.url}/v1/completions`, body).then(readSse);
      for (let i = 0; i < 500 && metric(text, 'vllm:num_requests_waiting', { model_name: 'queued' }) !== 1; i++) text = await scrape(server.url);
      assert.equal(metric(text, 'vllm:num_requests_running', { model_name: 'queued' }), 1);
      assert.equal(metric(text, 'vllm:num_requests_waiting', { model_name: 'queued' }), 1);
      await Promise.all([first, second]);
      text = await scrape(server.url);
      assert.equal(metric(text, 'vllm:num_requests_running', { model_name: 'queued' }), 0);
      assert.equal(metric(text, 'vllm:num_requests_waiting', { model_name: 'queued' }), 0);
      const q = (le: string): number | undefined => metric(text, 'vllm:request_queue_time_seconds_bucket', { le, model_name: 'queued' });
      assert.equal(metric(text, 'vllm:request_queue_time_seconds_count', { model_name: 'queued' }), 2);
      assert.equal(q('0.1'), 1, 'the first did not wait; the second waited for the first (500 ms)');
      assert.ok(metric(text, 'vllm:request_queue_time_seconds_sum', { model_name: 'queued' })! >= 0.2);
    } finally {
      await postJson(`${server.url}/configure`, { max_concurrency: 0, ttft: 30, itl: 2 });
    }
  });
});

/** A POST on a fresh connection, so the kernel may hand it to any worker. */
function postFresh(url: string, body: object, headers: Record<string, string> = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', connection: 'close', ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        resolve(new Response(Buffer.concat(parts), { status: res.statusCode ?? 0, headers: h }));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

function getFresh(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve(text));
    })
      .on('error', reject)
      .end();
  });
}

describe('GET /metrics with --workers', () => {
  it('sums every worker: whichever worker answers, the values equal the client counts', async () => {
    const server = await startServer(['-w', '2', '-t', '5', '-i', '1']);
    try {
      const pids = new Set<number>();
      for (let i = 0; i < 10; i++) pids.add((JSON.parse(await getFresh(`${server.url}/health`)) as { pid: number }).pid);
      assert.equal(pids.size, 2, 'both workers answer');
      // Twice the workload, each request on a fresh connection: both workers serve part of it.
      const seen = [...(await workload((path, body, headers) => postFresh(server.url + path, body, headers)))];
      seen.push(...(await workload((path, body, headers) => postFresh(server.url + path, body, headers))));
      for (let i = 0; i < 6; i++) {
        const text = await getFresh(`${server.url}/metrics`);
        assertMatches(text, seen, 'alpha');
        assertMatches(text, seen, 'beta');
      }
    } finally {
      await server.stop();
    }
  });
});

// Telemetry pages (issue 11, points 6 and 7): every engine page and the DCGM stand-in are well-formed Prometheus
// text with the real exporters' names and labels; the engines' counters equal what the client itself counted;
// the KV cache fills while streams run and empties after; the GPU readings follow the load, are the same for
// the same seed, and are set by flag, environment and /configure; with --workers every page is the sum over
// workers and the GPUs stay the same boards whichever worker answers. AIPerf's own parsers read every page.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { postJson, readSse, ROOT, startServer, type RunningServer } from './support/server.js';
import { metric, samples, type Sample } from './support/prometheus.js';
import { createMockClient } from '../src/client.js';
import type { ChatChunk, ChatResponse, CompletionChunk, CompletionResponse, Usage } from '../src/types.js';

const words = (n: number): string => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');

const ENGINE_PAGES = ['/metrics', '/vllm/metrics', '/sglang/metrics', '/trtllm/metrics', '/dynamo_frontend/metrics', '/dynamo_component/prefill/metrics', '/dynamo_component/decode/metrics'];
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface Family {
  type: string;
  help: string;
  samples: Sample[];
}

/**
 * Reads a page the way a strict scraper does: HELP then TYPE before each family's samples, every sample of the
 * family just declared (name, or for a histogram name_bucket/_count/_sum), no series twice, and histograms
 * cumulative with +Inf equal to the count.
 */
function families(text: string): Map<string, Family> {
  assert.ok(text === '' || text.endsWith('\n'), 'the page ends with a newline');
  const out = new Map<string, Family>();
  let current: { name: string; f: Family } | undefined;
  let help: [string, string] | undefined;
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const h = /^# HELP (\S+) (.*)$/.exec(line);
    const t = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (h) {
      help = [h[1]!, h[2]!];
    } else if (t) {
      assert.equal(help?.[0], t[1], `HELP before TYPE of ${t[1]}`);
      assert.ok(!out.has(t[1]!), `${t[1]} declared once`);
      current = { name: t[1]!, f: { type: t[2]!, help: help![1], samples: [] } };
      out.set(t[1]!, current.f);
    } else {
      assert.ok(!line.startsWith('#'), `unexpected comment: ${line}`);
      const [s] = samples(line);
      assert.ok(current, `sample before any TYPE: ${line}`);
      const allowed = current.f.type === 'histogram' ? ['_bucket', '_count', '_sum'].map((x) => current!.name + x) : [current.name];
      assert.ok(allowed.includes(s!.name), `${s!.name} outside its family ${current.name}`);
      const key = `${s!.name}${JSON.stringify(Object.entries(s!.labels).sort())}`;
      assert.ok(!seen.has(key), `series twice: ${line}`);
      seen.add(key);
      assert.ok(Number.isFinite(s!.value), `finite value: ${line}`);
      current.f.samples.push(s!);
    }
  }
  for (const [name, f] of out) {
    if (f.type !== 'histogram') continue;
    const series = new Map<string, Sample[]>();
    for (const s of f.samples.filter((x) => x.name === `${name}_bucket`)) {
      const { le: _le, ...rest } = s.labels;
      const k = JSON.stringify(Object.entries(rest).sort());
      series.set(k, [...(series.get(k) ?? []), s]);
    }
    for (const [k, buckets] of series) {
      assert.equal(buckets.at(-1)!.labels['le'], '+Inf', `${name}${k}: +Inf last`);
      buckets.slice(1).forEach((b, i) => {
        assert.ok(b.value >= buckets[i]!.value, `${name}${k}: cumulative`);
        if (b.labels['le'] !== '+Inf') assert.ok(Number(b.labels['le']) > Number(buckets[i]!.labels['le']), `${name}${k}: bounds rise`);
      });
      const count = f.samples.find((s) => s.name === `${name}_count` && JSON.stringify(Object.entries(s.labels).sort()) === k);
      assert.equal(buckets.at(-1)!.value, count?.value, `${name}${k}: +Inf = count`);
    }
  }
  return out;
}

async function page(url: string): Promise<string> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  assert.equal(res.headers.get('content-type'), CONTENT_TYPE, url);
  return res.text();
}

/** The value of the one sample of `name` whose labels include `labels` (others may be there too). */
function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  const hits = samples(text).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(hits.length <= 1, `${name} ${JSON.stringify(labels)}: one series`);
  return hits[0]?.value;
}

/** What the client saw of one request. */
interface Seen {
  endpoint: string;
  model: string;
  stream: boolean;
  /** 0 for an error answer. */
  prompt: number;
  tokens: number;
  finished: 'stop' | 'length' | 'abort' | null;
  status: number;
  code?: string;
}

/** A known workload over chat and completions, streamed and not, with a cut stream and forced errors. */
async function workload(post: (path: string, body: object, headers?: Record<string, string>) => Promise<Response>): Promise<Seen[]> {
  const seen: Seen[] = [];
  const whole = async (model: string, content: string, max?: number): Promise<void> => {
    const b = (await (await post('/v1/chat/completions', { model, messages: [{ role: 'user', content }], max_tokens: max })).json()) as ChatResponse;
    seen.push({ endpoint: '/v1/chat/completions', model, stream: false, prompt: b.usage.prompt_tokens, tokens: b.usage.completion_tokens, finished: b.choices[0]!.finish_reason as Seen['finished'], status: 200 });
  };
  const chatStream = async (model: string, content: string, max?: number): Promise<void> => {
    const res = await post('/v1/chat/completions', { model, messages: [{ role: 'user', content }], max_tokens: max, stream: true, stream_options: { include_usage: true } });
    const chunks = (await readSse(res)).slice(0, -1).map((e) => JSON.parse(e.data) as ChatChunk);
    const tokens = chunks.filter((c) => c.choices.length > 0 && c.choices[0]!.delta.content).length;
    const finished = chunks.find((c) => c.choices[0]?.finish_reason)!.choices[0]!.finish_reason as Seen['finished'];
    seen.push({ endpoint: '/v1/chat/completions', model, stream: true, prompt: (chunks.at(-1)!.usage as Usage).prompt_tokens, tokens, finished, status: 200 });
  };
  const completionStream = async (model: string, prompt: string, max: number, headers: Record<string, string> = {}): Promise<void> => {
    const twin = (await (await post('/v1/completions', { model, prompt, max_tokens: 1 })).json()) as CompletionResponse;
    seen.push({ endpoint: '/v1/completions', model, stream: false, prompt: twin.usage.prompt_tokens, tokens: 1, finished: 'length', status: 200 });
    const events = await readSse(await post('/v1/completions', { model, prompt, max_tokens: max, ignore_eos: true, stream: true }, headers));
    const chunks = events.filter((e) => e.data.startsWith('{"id"')).map((e) => JSON.parse(e.data) as CompletionChunk);
    const cut = events.some((e) => e.data.startsWith('{"error"'));
    seen.push({ endpoint: '/v1/completions', model, stream: true, prompt: twin.usage.prompt_tokens, tokens: chunks.length, finished: cut ? 'abort' : 'length', status: 200 });
  };
  const forced = async (path: string, model: string, status: number, code: string): Promise<void> => {
    const body = path === '/v1/completions' ? { model, prompt: 'x' } : { model, messages: [{ role: 'user', content: 'x' }] };
    assert.equal((await post(path, body, { 'X-Mock-Error': String(status) })).status, status);
    seen.push({ endpoint: path, model, stream: false, prompt: 0, tokens: 0, finished: null, status, code });
  };
  await Promise.all([
    whole('alpha', words(8), 5),
    whole('alpha', words(3)),
    chatStream('alpha', words(6)),
    chatStream('alpha', words(4), 2),
    completionStream('beta', words(5), 6, { 'X-Mock-Abort-After': '3' }),
    completionStream('beta', words(7), 4),
    forced('/v1/completions', 'beta', 503, 'service_unavailable'),
    forced('/v1/completions', 'beta', 503, 'service_unavailable'),
    forced('/v1/chat/completions', 'alpha', 429, 'rate_limit_exceeded'),
  ]);
  return seen;
}

const sum = (xs: Seen[], f: (s: Seen) => number): number => xs.reduce((a, s) => a + f(s), 0);
const served = (xs: Seen[]): Seen[] => xs.filter((s) => s.finished !== null);

/** Every engine page's counters against the client's own counts. */
async function assertEnginePages(url: string, seen: Seen[], get: (u: string) => Promise<string> = page): Promise<void> {
  for (const model of ['alpha', 'beta']) {
    const mine = seen.filter((s) => s.model === model);
    const ok = served(mine);
    const withTokens = ok.filter((s) => s.tokens > 0);
    const prompt = sum(ok, (s) => s.prompt);
    const tokens = sum(ok, (s) => s.tokens);
    const by = (reason: string): number => ok.filter((s) => s.finished === reason).length;

    const vllm = await get(`${url}/vllm/metrics`);
    assert.equal(value(vllm, 'vllm:prompt_tokens_total', { model_name: model }), prompt, `vllm prompt ${model}`);
    assert.equal(value(vllm, 'vllm:generation_tokens_total', { model_name: model }), tokens, `vllm generation ${model}`);
    assert.equal(value(vllm, 'vllm:kv_cache_usage_perc', { model_name: model }), 0, 'nothing running, nothing cached');

    const sg = await get(`${url}/sglang/metrics`);
    assert.equal(value(sg, 'sglang:prompt_tokens_total', { model_name: model }), prompt, `sglang prompt ${model}`);
    assert.equal(value(sg, 'sglang:generation_tokens_total', { model_name: model }), tokens, `sglang generation ${model}`);
    assert.equal(value(sg, 'sglang:num_requests_total', { model_name: model }), ok.length);
    assert.equal(value(sg, 'sglang:num_aborted_requests_total', { model_name: model }), by('abort'));
    assert.equal(value(sg, 'sglang:time_to_first_token_seconds_count', { model_name: model }), withTokens.length);
    assert.equal(value(sg, 'sglang:inter_token_latency_seconds_count', { model_name: model }), sum(withTokens, (s) => s.tokens - 1));
    assert.equal(value(sg, 'sglang:e2e_request_latency_seconds_count', { model_name: model }), ok.length);
    assert.equal(value(sg, 'sglang:num_running_reqs', { model_name: model, engine_type: 'unified', tp_rank: '0', pp_rank: '0' }), 0);
    assert.equal(value(sg, 'sglang:num_used_tokens', { model_name: model }), 0);

    const trt = await get(`${url}/trtllm/metrics`);
    for (const reason of ['stop', 'length', 'abort']) {
      assert.equal(value(trt, 'trtllm_request_success_total', { model_name: model, engine_type: 'trtllm', finished_reason: reason }), by(reason), `trtllm ${reason} ${model}`);
    }
    assert.equal(value(trt, 'trtllm_prompt_tokens_total', { model_name: model }), prompt);
    assert.equal(value(trt, 'trtllm_generation_tokens_total', { model_name: model }), tokens);
    assert.equal(value(trt, 'trtllm_num_requests_completed_total', { model_name: model }), ok.length);
    assert.equal(value(trt, 'trtllm_time_to_first_token_seconds_count', { model_name: model }), withTokens.length);
    assert.equal(value(trt, 'trtllm_time_per_output_token_seconds_count', { model_name: model }), ok.filter((s) => s.tokens > 1).length);
    assert.equal(value(trt, 'trtllm_request_prefill_time_seconds_count', { model_name: model }), withTokens.length);
    assert.equal(value(trt, 'trtllm_kv_cache_used_blocks', { model_name: model }), 0);

    const fe = await get(`${url}/dynamo_frontend/metrics`);
    for (const [endpoint, name] of [['/v1/chat/completions', 'chat_completions'], ['/v1/completions', 'completions']] as const) {
      for (const stream of [false, true]) {
        const kind = mine.filter((s) => s.endpoint === endpoint && s.stream === stream);
        if (kind.length === 0) continue;
        const labels = { endpoint: name, model, request_type: stream ? 'stream' : 'unary' };
        assert.equal(value(fe, 'dynamo_frontend_requests_total', { ...labels, status: 'success' }), kind.filter((s) => s.finished === 'stop' || s.finished === 'length').length, `dynamo ${JSON.stringify(labels)}`);
        assert.equal(value(fe, 'dynamo_frontend_requests_total', { ...labels, status: 'error' }) ?? 0, kind.filter((s) => s.finished === 'abort' || s.finished === null).length);
      }
    }
    assert.equal(value(fe, 'dynamo_frontend_output_tokens_total', { model }), tokens);
    assert.equal(value(fe, 'dynamo_frontend_input_sequence_tokens_sum', { model }), prompt);
    assert.equal(value(fe, 'dynamo_frontend_output_sequence_tokens_sum', { model }), tokens);
    assert.equal(value(fe, 'dynamo_frontend_inflight_requests', { model }), 0);

    const pre = await get(`${url}/dynamo_component/prefill/metrics`);
    const dec = await get(`${url}/dynamo_component/decode/metrics`);
    assert.equal(value(pre, 'dynamo_component_requests_total', { model, dynamo_component: 'prefill' }), ok.length, 'every served request was prefilled');
    assert.equal(value(dec, 'dynamo_component_requests_total', { model, dynamo_component: 'decode' }), withTokens.length, 'every request with a token was decoded');
    assert.equal(value(pre, 'dynamo_component_request_duration_seconds_count', { model }), withTokens.length);
  }

  const mock = await get(`${url}/metrics`);
  for (const endpoint of ['/v1/chat/completions', '/v1/completions']) {
    const mine = seen.filter((s) => s.endpoint === endpoint);
    const statuses = new Set(mine.map((s) => s.status));
    for (const status of statuses) {
      assert.equal(value(mock, 'aiperf_mock_requests_total', { endpoint, method: 'POST', status: String(status) }), mine.filter((s) => s.status === status).length, `${endpoint} ${status}`);
    }
    for (const code of new Set(mine.flatMap((s) => (s.code ? [s.code] : [])))) {
      assert.equal(value(mock, 'aiperf_mock_errors_total', { endpoint, error_type: code }), mine.filter((s) => s.code === code).length);
    }
    assert.equal(value(mock, 'aiperf_mock_time_to_first_token_seconds_count', { endpoint }), served(mine).filter((s) => s.tokens > 0).length);
    assert.equal(value(mock, 'aiperf_mock_requests_in_progress', { endpoint }), 0);
    for (const model of ['alpha', 'beta']) {
      const pair = mine.filter((s) => s.model === model);
      if (pair.length === 0) continue;
      const streams = pair.filter((s) => s.stream);
      assert.equal(value(mock, 'aiperf_mock_requests_by_model_total', { endpoint, model }), pair.length);
      assert.equal(value(mock, 'aiperf_mock_completion_tokens_total', { endpoint, model }), sum(pair, (s) => s.tokens));
      assert.equal(value(mock, 'aiperf_mock_tokens_streamed_total', { endpoint, model }), streams.length ? sum(streams, (s) => s.tokens) : undefined);
      assert.equal(value(mock, 'aiperf_mock_streaming_requests_total', { endpoint, model }), streams.length || undefined);
    }
  }
}

/** DCGM readings per board: field → gpu index → value. */
function boards(text: string): Map<string, Map<string, Sample>> {
  const out = new Map<string, Map<string, Sample>>();
  for (const s of samples(text)) {
    const m = out.get(s.name) ?? new Map<string, Sample>();
    m.set(s.labels['gpu']!, s);
    out.set(s.name, m);
  }
  return out;
}
const reading = (text: string, field: string, gpu = '0'): number => boards(text).get(field)!.get(gpu)!.value;

const DCGM_FIELDS: Record<string, string> = {
  DCGM_FI_DEV_SM_CLOCK: 'gauge',
  DCGM_FI_DEV_MEM_CLOCK: 'gauge',
  DCGM_FI_DEV_MEMORY_TEMP: 'gauge',
  DCGM_FI_DEV_GPU_TEMP: 'gauge',
  DCGM_FI_DEV_POWER_USAGE: 'gauge',
  DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION: 'counter',
  DCGM_FI_DEV_GPU_UTIL: 'gauge',
  DCGM_FI_DEV_MEM_COPY_UTIL: 'gauge',
  DCGM_FI_DEV_ENC_UTIL: 'gauge',
  DCGM_FI_DEV_DEC_UTIL: 'gauge',
  DCGM_FI_DEV_XID_ERRORS: 'gauge',
  DCGM_FI_DEV_FB_FREE: 'gauge',
  DCGM_FI_DEV_FB_USED: 'gauge',
  DCGM_FI_DEV_FB_TOTAL: 'gauge',
  DCGM_FI_DEV_POWER_MGMT_LIMIT: 'gauge',
  DCGM_FI_DEV_POWER_VIOLATION: 'counter',
  DCGM_FI_PROF_GR_ENGINE_ACTIVE: 'gauge',
  DCGM_FI_PROF_SM_ACTIVE: 'gauge',
};

/** Polls `read` until `done` holds of its value (the machine may be slow; the condition, not a time, is the test). */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string, tries = 400): Promise<T> {
  let v = await read();
  for (let i = 0; i < tries && !done(v); i++) {
    await new Promise((r) => setTimeout(r, 25));
    v = await read();
  }
  assert.ok(done(v), `timed out waiting for ${what}`);
  return v;
}

describe('engine metrics pages', () => {
  let server: RunningServer;
  /** Every request of the workloads so far: the pages count since the server started. */
  const seen: Seen[] = [];
  before(async () => {
    server = await startServer(['-t', '5', '-i', '2', '--kv-cache-tokens', '4096']);
  });
  after(async () => {
    await server.stop();
  });

  it("are well-formed Prometheus text with each engine's names and labels, answered while nothing was served yet", async () => {
    for (const p of ENGINE_PAGES) families(await page(`${server.url}${p}`));
    seen.push(...(await workload((path, body, headers) => postJson(server.url + path, body, headers))));
    const expected: Record<string, Record<string, string>> = {
      '/metrics': { 'vllm:num_requests_running': 'gauge', 'vllm:kv_cache_usage_perc': 'gauge', 'vllm:request_success_total': 'counter', 'vllm:time_to_first_token_seconds': 'histogram', aiperf_mock_requests_total: 'counter', aiperf_mock_request_latency_seconds: 'histogram', aiperf_mock_time_to_first_token_seconds: 'histogram', aiperf_mock_inter_token_latency_seconds: 'histogram', aiperf_mock_tokens_streamed_total: 'counter', aiperf_mock_errors_total: 'counter', aiperf_mock_uptime_seconds: 'gauge' },
      '/vllm/metrics': { 'vllm:num_requests_running': 'gauge', 'vllm:num_requests_waiting': 'gauge', 'vllm:kv_cache_usage_perc': 'gauge', 'vllm:prompt_tokens_total': 'counter', 'vllm:generation_tokens_total': 'counter', 'vllm:e2e_request_latency_seconds': 'histogram', 'vllm:request_prefill_time_seconds': 'histogram' },
      '/sglang/metrics': { 'sglang:num_running_reqs': 'gauge', 'sglang:num_queue_reqs': 'gauge', 'sglang:token_usage': 'gauge', 'sglang:num_used_tokens': 'gauge', 'sglang:gen_throughput': 'gauge', 'sglang:prompt_tokens_total': 'counter', 'sglang:generation_tokens_total': 'counter', 'sglang:time_to_first_token_seconds': 'histogram', 'sglang:inter_token_latency_seconds': 'histogram', 'sglang:e2e_request_latency_seconds': 'histogram', 'sglang:queue_time_seconds': 'histogram' },
      '/trtllm/metrics': { trtllm_request_success_total: 'counter', trtllm_e2e_request_latency_seconds: 'histogram', trtllm_time_to_first_token_seconds: 'histogram', trtllm_time_per_output_token_seconds: 'histogram', trtllm_request_queue_time_seconds: 'histogram', trtllm_kv_cache_utilization: 'gauge', trtllm_num_requests_running: 'gauge' },
      '/dynamo_frontend/metrics': { dynamo_frontend_requests_total: 'counter', dynamo_frontend_inflight_requests: 'gauge', dynamo_frontend_queued_requests: 'gauge', dynamo_frontend_request_duration_seconds: 'histogram', dynamo_frontend_time_to_first_token_seconds: 'histogram', dynamo_frontend_inter_token_latency_seconds: 'histogram', dynamo_frontend_output_tokens_total: 'counter' },
      '/dynamo_component/prefill/metrics': { dynamo_component_requests_total: 'counter', dynamo_component_inflight_requests: 'gauge', dynamo_component_request_duration_seconds: 'histogram', dynamo_component_kvstats_total_blocks: 'gauge', dynamo_component_kvstats_gpu_cache_usage_percent: 'gauge' },
      '/dynamo_component/decode/metrics': { dynamo_component_requests_total: 'counter', dynamo_component_kvstats_active_blocks: 'gauge' },
    };
    const prefixes: Record<string, RegExp> = {
      '/metrics': /^(vllm:|aiperf_mock_)/,
      '/vllm/metrics': /^vllm:/,
      '/sglang/metrics': /^sglang:/,
      '/trtllm/metrics': /^trtllm_/,
      '/dynamo_frontend/metrics': /^dynamo_frontend_/,
      '/dynamo_component/prefill/metrics': /^dynamo_component_/,
      '/dynamo_component/decode/metrics': /^dynamo_component_/,
    };
    for (const p of ENGINE_PAGES) {
      const fams = families(await page(`${server.url}${p}`));
      for (const [name, type] of Object.entries(expected[p]!)) assert.equal(fams.get(name)?.type, type, `${p}: ${name}`);
      for (const name of fams.keys()) assert.match(name, prefixes[p]!, `${p}: only its engine's names`);
    }
    // Each engine's own labels.
    const sg = await page(`${server.url}/sglang/metrics`);
    assert.deepEqual(Object.keys(samples(sg).find((s) => s.name === 'sglang:num_running_reqs')!.labels).sort(), ['engine_type', 'model_name', 'pp_rank', 'tp_rank']);
    assert.deepEqual(Object.keys(samples(sg).find((s) => s.name === 'sglang:prompt_tokens_total')!.labels), ['model_name']);
    const trt = await page(`${server.url}/trtllm/metrics`);
    assert.deepEqual(Object.keys(samples(trt).find((s) => s.name === 'trtllm_request_success_total')!.labels).sort(), ['engine_type', 'finished_reason', 'model_name']);
    const comp = await page(`${server.url}/dynamo_component/decode/metrics`);
    assert.deepEqual(Object.keys(samples(comp).find((s) => s.name === 'dynamo_component_requests_total')!.labels).sort(), ['dynamo_component', 'dynamo_endpoint', 'dynamo_namespace', 'model']);
    // /vllm/metrics is exactly the vLLM part of /metrics.
    const [vllm, all] = [await page(`${server.url}/vllm/metrics`), await page(`${server.url}/metrics`)];
    const vllmPart = all.split('\n# HELP aiperf_mock_')[0] + '\n';
    assert.equal(vllm.replace(/^(vllm:\S+_seconds_sum\{[^}]*\}) .*$/gm, '$1'), vllmPart.replace(/^(vllm:\S+_seconds_sum\{[^}]*\}) .*$/gm, '$1'));
  });

  it("count what the client counted, on every engine's page", async () => {
    seen.push(...(await workload((path, body, headers) => postJson(server.url + path, body, headers))));
    await assertEnginePages(server.url, seen);
  });

  it('show the KV cache the running streams hold, and empty it when they end', async () => {
    await postJson(`${server.url}/configure`, { itl: 40 });
    try {
      const body = (n: number) => ({ model: 'kv', messages: [{ role: 'user', content: words(n) }], max_tokens: 25, ignore_eos: true, stream: true, stream_options: { include_usage: true } });
      const streams = [10, 20, 30].map((n) => postJson(`${server.url}/v1/chat/completions`, body(n)).then(readSse));
      const sg = await until(
        () => page(`${server.url}/sglang/metrics`),
        (t) => metric(t, 'sglang:num_running_reqs', { engine_type: 'unified', model_name: 'kv', pp_rank: '0', tp_rank: '0' }) === 3,
        'three streams running',
      );
      const used = metric(sg, 'sglang:num_used_tokens', { engine_type: 'unified', model_name: 'kv', pp_rank: '0', tp_rank: '0' })!;
      const usage = metric(sg, 'sglang:token_usage', { engine_type: 'unified', model_name: 'kv', pp_rank: '0', tp_rank: '0' })!;
      assert.equal(usage, used / 4096, 'usage = used tokens / kv_cache_tokens');
      const vllm = await page(`${server.url}/vllm/metrics`);
      assert.ok(metric(vllm, 'vllm:kv_cache_usage_perc', { model_name: 'kv' })! > 0, 'vLLM shows the cache in use');
      const prefill = await page(`${server.url}/dynamo_component/decode/metrics`);
      assert.ok(metric(prefill, 'dynamo_component_kvstats_active_blocks', { dynamo_component: 'decode', dynamo_endpoint: 'generate', dynamo_namespace: 'dynamo', model: 'kv' })! >= 0);
      const prompts = (await Promise.all(streams)).map((events) => (JSON.parse(events.at(-2)!.data) as ChatChunk).usage!.prompt_tokens);
      const promptSum = prompts.reduce((a, b) => a + b, 0);
      assert.ok(used >= promptSum && used <= promptSum + 3 * 25, `used ${used}: the prompts (${promptSum}) and at most the 75 tokens generated`);
      const after = await page(`${server.url}/sglang/metrics`);
      assert.equal(metric(after, 'sglang:num_used_tokens', { engine_type: 'unified', model_name: 'kv', pp_rank: '0', tp_rank: '0' }), 0);
      assert.equal(metric(await page(`${server.url}/vllm/metrics`), 'vllm:kv_cache_usage_perc', { model_name: 'kv' }), 0);
      assert.equal(metric(await page(`${server.url}/trtllm/metrics`), 'trtllm_kv_cache_used_blocks', { engine_type: 'trtllm', model_name: 'kv' }), 0);
    } finally {
      await postJson(`${server.url}/configure`, { itl: 2 });
    }
  });

  it('are read by AIPerf 0.13’s own parsers (server metrics and DCGM)', { skip: existsSync(join(ROOT, '.venv-aiperf', 'bin', 'python')) ? false : 'AIPerf is not installed in .venv-aiperf (.ci/aiperf-venv.sh)' }, () => {
    const script = `
import sys, json, urllib.request
from aiperf.gpu_telemetry.dcgm_collector import DCGMTelemetryCollector
from aiperf.server_metrics.data_collector import ServerMetricsDataCollector
from aiperf.common.mixins.base_metrics_collector_mixin import FetchResult
base = sys.argv[1]
out = {}
for p in json.loads(sys.argv[2]):
    with urllib.request.urlopen(base + p) as r:
        text, ct = r.read().decode(), r.headers.get('content-type')
    if p.startswith('/dcgm'):
        recs = DCGMTelemetryCollector(dcgm_url=base + p)._parse_metrics_to_records(text)
        out[p] = [{k: v for k, v in r.telemetry_data.model_dump().items() if v is not None} | {'uuid': r.gpu_uuid, 'model': r.gpu_model_name} for r in recs]
    else:
        rec = ServerMetricsDataCollector(endpoint_url=base + p)._parse_metrics_to_records(FetchResult(text=text, trace_timing=None, is_duplicate=False, content_type=ct))
        out[p] = sorted(rec.metrics)
print(json.dumps(out))
`;
    const pages = [...ENGINE_PAGES, '/dcgm1/metrics', '/dcgm2/metrics'];
    const run = spawnSync(join(ROOT, '.venv-aiperf', 'bin', 'python'), ['-c', script, server.url, JSON.stringify(pages)], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(run.status, 0, run.stderr);
    const parsed = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    for (const p of ENGINE_PAGES) assert.ok((parsed[p] as string[]).length >= 6, `${p}: AIPerf kept its families: ${JSON.stringify(parsed[p])}`);
    assert.ok((parsed['/sglang/metrics'] as string[]).includes('sglang:token_usage'));
    assert.ok((parsed['/vllm/metrics'] as string[]).includes('vllm:kv_cache_usage_perc'));
    for (const p of ['/dcgm1/metrics', '/dcgm2/metrics']) {
      const gpus = parsed[p] as Array<Record<string, unknown>>;
      assert.equal(gpus.length, 2, `${p}: two GPUs`);
      for (const g of gpus) {
        assert.equal(g['model'], 'NVIDIA H200');
        for (const field of ['nvidia_power_usage', 'nvidia_energy_consumption', 'nvidia_gpu_utilization', 'nvidia_memory_used', 'nvidia_temperature', 'nvidia_sm_utilization', 'nvidia_xid_errors', 'nvidia_power_violation']) {
          assert.equal(typeof g[field], 'number', `${p}: AIPerf read ${field}`);
        }
      }
    }
  });

  it('are one method each of the typed client', async () => {
    const client = createMockClient(server.url);
    for (const [get, first] of [
      [() => client.getVllmMetrics(), 'vllm:'],
      [() => client.getSglangMetrics(), 'sglang:'],
      [() => client.getTrtllmMetrics(), 'trtllm_'],
      [() => client.getDynamoFrontendMetrics(), 'dynamo_frontend_'],
      [() => client.getDynamoPrefillMetrics(), 'dynamo_component_'],
      [() => client.getDynamoDecodeMetrics(), 'dynamo_component_'],
      [() => client.getDcgmMetrics(2), 'DCGM_FI_'],
    ] as const) {
      const text = await get();
      assert.ok(text.startsWith(`# HELP ${first}`), text.slice(0, 80));
      families(text);
    }
    await assert.rejects(client.getDcgmMetrics(3), (e: { status?: number }) => e.status === 404);
  });
});

describe('GPU telemetry (DCGM stand-in)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer([
      '-t', '0', '-i', '5',
      '--dcgm-num-gpus', '3', '--dcgm-gpu-name', 'b200', '--dcgm-window-sec', '0.5', '--dcgm-min-throughput', '50', '--dcgm-hostname', 'node-a',
    ]); // prettier-ignore
  });
  after(async () => {
    await server.stop();
  });

  it("reports dcgm_num_gpus boards of dcgm_gpu_name with DCGM's fields, types and labels", async () => {
    const text = await page(`${server.url}/dcgm1/metrics`);
    const fams = families(text);
    for (const [field, type] of Object.entries(DCGM_FIELDS)) assert.equal(fams.get(field)?.type, type, field);
    assert.match(fams.get('DCGM_FI_DEV_POWER_USAGE')!.help, /\(in W\)/, 'units as DCGM writes them (AIPerf reads them)');
    const uuids = new Set<string>();
    for (const f of fams.values()) {
      assert.equal(f.samples.length, 3, 'one line per board');
      f.samples.forEach((s, i) => {
        assert.deepEqual(Object.keys(s.labels), ['gpu', 'UUID', 'pci_bus_id', 'device', 'modelName', 'Hostname', 'DCGM_FI_DRIVER_VERSION']);
        assert.equal(s.labels['gpu'], String(i));
        assert.equal(s.labels['device'], `nvidia${i}`);
        assert.equal(s.labels['modelName'], 'NVIDIA B200');
        assert.equal(s.labels['Hostname'], 'node-a');
        assert.match(s.labels['UUID']!, /^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        assert.match(s.labels['pci_bus_id']!, /^00000000:[0-9A-F]{2}:00\.0$/);
        uuids.add(s.labels['UUID']!);
      });
    }
    assert.equal(uuids.size, 3, 'three boards, three UUIDs, the same in every field');
    assert.equal(reading(text, 'DCGM_FI_DEV_FB_TOTAL'), 183359, "a B200's framebuffer, MiB");
    assert.equal(reading(text, 'DCGM_FI_DEV_POWER_MGMT_LIMIT'), 1000);
    const two = await page(`${server.url}/dcgm2/metrics`);
    assert.equal([...boards(two).get('DCGM_FI_DEV_GPU_UTIL')!.values()].filter((s) => uuids.has(s.labels['UUID']!)).length, 0, 'the second exporter has boards of its own');
    assert.equal((await fetch(`${server.url}/dcgm3/metrics`)).status, 404, 'dcgm_num_endpoints is 2');
    assert.equal((await fetch(`${server.url}/dcgm0/metrics`)).status, 400, 'the index is from 1');
  });

  it('follows the load: idle, then busier, warmer and drawing more while tokens stream, then idle again', async () => {
    const read = () => page(`${server.url}/dcgm1/metrics`);
    // Idle: nothing sent in the last window.
    await new Promise((r) => setTimeout(r, 600));
    const idle = await read();
    for (const gpu of ['0', '1', '2']) assert.equal(reading(idle, 'DCGM_FI_DEV_GPU_UTIL', gpu), 0, 'idle');
    assert.ok(reading(idle, 'DCGM_FI_DEV_POWER_USAGE') < 200, `idle power ${reading(idle, 'DCGM_FI_DEV_POWER_USAGE')} W (B200 idles near 140 W)`);
    // Four streams of 400 tokens, 5 ms apart: 800 tokens/s against a full load of 50.
    const streams = Array.from({ length: 4 }, (_, i) =>
      postJson(`${server.url}/v1/completions`, { model: 'gpu', prompt: words(5 + i), max_tokens: 400, ignore_eos: true, stream: true }).then(readSse),
    );
    await until(() => page(`${server.url}/vllm/metrics`), (t) => (metric(t, 'vllm:generation_tokens_total', { model_name: 'gpu' }) ?? 0) > 100, 'tokens flowing');
    await new Promise((r) => setTimeout(r, 600));
    const busy = await read();
    await Promise.all(streams);
    for (const gpu of ['0', '1', '2']) assert.ok(reading(busy, 'DCGM_FI_DEV_GPU_UTIL', gpu) >= 50, `busy util ${reading(busy, 'DCGM_FI_DEV_GPU_UTIL', gpu)} %`);
    for (const field of ['DCGM_FI_DEV_POWER_USAGE', 'DCGM_FI_DEV_GPU_TEMP', 'DCGM_FI_DEV_SM_CLOCK', 'DCGM_FI_DEV_FB_USED', 'DCGM_FI_PROF_GR_ENGINE_ACTIVE']) {
      assert.ok(reading(busy, field) > reading(idle, field), `${field}: ${reading(idle, field)} idle, ${reading(busy, field)} busy`);
    }
    assert.ok(reading(busy, 'DCGM_FI_DEV_POWER_USAGE') > 500, 'well above idle');
    // The energy counter: it only rises, and faster while busy than idle.
    const e0 = reading(idle, 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION');
    const e1 = reading(busy, 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION');
    assert.ok(e1 > e0, 'energy rises');
    // After the streams, once a window has passed, the boards idle again.
    await new Promise((r) => setTimeout(r, 700));
    await read();
    await new Promise((r) => setTimeout(r, 600));
    const after = await read();
    for (const gpu of ['0', '1', '2']) assert.equal(reading(after, 'DCGM_FI_DEV_GPU_UTIL', gpu), 0, 'idle again');
    assert.ok(reading(after, 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION') > e1, 'energy never falls');
  });
});

describe('GPU telemetry settings: seed, flag, environment, /configure', () => {
  let byFlag: RunningServer;
  let byEnv: RunningServer;
  before(async () => {
    [byFlag, byEnv] = await Promise.all([
      startServer(['--dcgm-seed', '123', '--dcgm-num-gpus', '1']),
      startServer([], { MOCK_SERVER_DCGM_SEED: '123', MOCK_SERVER_DCGM_NUM_GPUS: '1' }),
    ]);
  });
  after(async () => {
    await Promise.all([byFlag.stop(), byEnv.stop()]);
  });

  it('gives the same boards and readings for the same seed (flag or environment), other boards for another', async () => {
    const stable = (t: string): string => t.replace(/^DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION\{.*$/gm, '');
    const [a, b] = [await page(`${byFlag.url}/dcgm1/metrics`), await page(`${byEnv.url}/dcgm1/metrics`)];
    assert.equal(stable(a), stable(b), 'same seed, same page (but the energy, which counts time)');
    assert.equal(boards(a).get('DCGM_FI_DEV_GPU_UTIL')!.size, 1, 'dcgm_num_gpus from the flag');
    assert.equal(boards(b).get('DCGM_FI_DEV_GPU_UTIL')!.size, 1, 'dcgm_num_gpus from the environment');
    const res = await postJson(`${byEnv.url}/configure`, { dcgm_seed: 124 });
    assert.equal(res.status, 200);
    const c = await page(`${byEnv.url}/dcgm1/metrics`);
    assert.notEqual(samples(c)[0]!.labels['UUID'], samples(a)[0]!.labels['UUID'], 'another seed, other boards');
  });

  it('changes at run time: GPU model, boards, exporters, host name, KV cache', async () => {
    const res = await postJson(`${byFlag.url}/configure`, { dcgm_gpu_name: 'a100', dcgm_num_gpus: 4, dcgm_num_endpoints: 3, dcgm_hostname: 'node-7', kv_cache_tokens: 1000 });
    assert.equal(res.status, 200);
    const { settings } = (await res.json()) as { settings: Record<string, unknown> };
    assert.equal(settings['dcgm_num_endpoints'], 3);
    const three = await page(`${byFlag.url}/dcgm3/metrics`);
    const util = [...boards(three).get('DCGM_FI_DEV_GPU_UTIL')!.values()];
    assert.equal(util.length, 4);
    assert.ok(util.every((s) => s.labels['modelName'] === 'NVIDIA A100-SXM4-80GB' && s.labels['Hostname'] === 'node-7'));
    await postJson(`${byFlag.url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(metric(await page(`${byFlag.url}/sglang/metrics`), 'sglang:max_total_num_tokens', { engine_type: 'unified', model_name: 'm', pp_rank: '0', tp_rank: '0' }), 1000);
    const bad = await postJson(`${byFlag.url}/configure`, { dcgm_gpu_name: 'h900' });
    assert.equal(bad.status, 400, 'an unknown GPU is refused');
    const health = (await (await fetch(`${byFlag.url}/health`)).json()) as { settings: Record<string, unknown> };
    assert.equal(health.settings['dcgm_gpu_name'], 'a100');
  });
});

/** A request on a fresh connection, so the kernel may hand it to any worker. */
function fresh(url: string, method: string, body?: object, headers: Record<string, string> = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: { 'content-type': 'application/json', connection: 'close', ...headers } }, (res) => {
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
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('telemetry with --workers', () => {
  it('sums every worker on every page, and the GPUs are the same boards whichever worker answers', async () => {
    const server = await startServer(['-w', '2', '-t', '5', '-i', '1']);
    try {
      const seen = await workload((path, body, headers) => fresh(server.url + path, 'POST', body, headers));
      const get = async (u: string): Promise<string> => {
        const res = await fresh(u, 'GET');
        assert.equal(res.status, 200, u);
        return res.text();
      };
      for (let i = 0; i < 3; i++) await assertEnginePages(server.url, seen, get);
      const pages = await Promise.all(Array.from({ length: 6 }, () => get(`${server.url}/dcgm1/metrics`)));
      const uuids = new Set(pages.map((t) => samples(t).find((s) => s.name === 'DCGM_FI_DEV_GPU_UTIL')!.labels['UUID']));
      assert.equal(uuids.size, 1, 'one board 0, whichever worker answered');
      let last = 0;
      for (let i = 0; i < 6; i++) {
        const energy = reading(await get(`${server.url}/dcgm1/metrics`), 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION');
        assert.ok(energy >= last, 'the energy counter never falls, from worker to worker');
        last = energy;
      }
    } finally {
      await server.stop();
    }
  });
});

// The engines' metrics pages, each with the names, types and labels its real server exports, all computed
// from the same measured counts (telemetry/cell.ts). A model's requests are shown as one engine serving that
// model, with a KV cache of kv_cache_tokens tokens: the tokens its running requests hold (prompt plus what
// they generated so far) over that capacity; with the engine model's KV cache on (enable_kv_cache), vLLM's
// usage is its blocks held and its preemptions are counted, and with enable_prefix_caching its prefix-cache
// hits. Speculative decoding is not simulated: its counters are honest zeros.
import { AIPERF, DYNAMO, SGLANG, TRTLLM, VLLM } from './buckets.js';
import { groupBy, type Cell, type Snapshot } from './cell.js';
import { Exposition, type Labels } from './exposition.js';

export interface PageInput {
  snapshot: Snapshot;
  /** kv_cache_tokens: the KV cache of each model's engine, in tokens. */
  kvCapacity: number;
  /**
   * The blocks of the engine model's KV cache, when it is on (enable_kv_cache): vLLM's usage and preemptions
   * then come from it; undefined when off.
   */
  kvBlocks?: number | undefined;
  /** Tokens sent per second over the last dcgm_window_sec, by model. */
  tokensPerSecond: ReadonlyMap<string, number>;
  /** Seconds since the server started. */
  uptime: number;
  /** With LoRA adapters served: vLLM's --max-loras state, for vllm:lora_requests_info. */
  lora?: LoraInfo;
}

/** The adapters with requests running and waiting (see model/loraAdapters.ts), and max_loras. */
export interface LoraInfo {
  maxLoras: number;
  running: readonly string[];
  waiting: readonly string[];
  /** Unix seconds now: vLLM sets the gauge to the time of its last update. */
  now: number;
}

const byModel = (s: Snapshot): Map<string, Cell> => groupBy(s.cells, (c) => c.model);
const usage = (c: Cell, capacity: number): number => Math.min(1, Math.max(0, c.kvTokens) / capacity);

/** Where `le` goes among sorted label names (Python's prometheus_client sorts them). */
const lePos = (labels: Labels): number => labels.filter(([k]) => k < 'le').length;

// ------------------------------------------------------------------------------------------------ vLLM

/** vLLM's families, label model_name (first, as this server has always written it). */
export function writeVllm(page: Exposition, input: PageInput): void {
  const models = byModel(input.snapshot);
  const each = (name: string, help: string, kind: 'gauge' | 'counter', value: (c: Cell) => number): void => {
    page.family(name, help, kind, () => {
      for (const [m, c] of models) page.sample(name, [['model_name', m]], value(c));
    });
  };
  const hist = (name: string, help: string, read: (c: Cell) => Cell['hist'][keyof Cell['hist']], bounds: readonly number[]): void => {
    page.family(name, help, 'histogram', () => {
      for (const [m, c] of models) page.histogram(name, [['model_name', m]], read(c), bounds);
    });
  };
  each('vllm:num_requests_running', 'Requests generating now.', 'gauge', (c) => c.running);
  each('vllm:num_requests_waiting', 'Requests waiting in the queue.', 'gauge', (c) => c.waiting);
  const blocks = input.kvBlocks;
  if (blocks === undefined) {
    each('vllm:kv_cache_usage_perc', 'KV-cache usage: the tokens running requests hold over kv_cache_tokens (1 is full).', 'gauge', (c) => usage(c, input.kvCapacity));
  } else {
    each('vllm:kv_cache_usage_perc', 'KV-cache usage: the blocks running requests hold over all blocks (1 is full).', 'gauge', (c) => Math.min(1, Math.max(0, c.kvBlocks) / Math.max(1, blocks)));
  }
  each('vllm:num_preemptions_total', 'Requests preempted to free KV-cache blocks (enable_preemption).', 'counter', (c) => c.preemptions);
  each('vllm:prompt_tokens_total', 'Prompt tokens of the requests that began generating.', 'counter', (c) => c.promptTokens);
  each('vllm:generation_tokens_total', 'Tokens sent.', 'counter', (c) => c.generationTokens);
  page.family('vllm:request_success_total', 'Requests that finished, by finish reason.', 'counter', () => {
    for (const [m, c] of models) for (const reason of ['stop', 'length', 'abort'] as const) page.sample('vllm:request_success_total', [['model_name', m], ['finished_reason', reason]], c[reason]);
  });
  each('vllm:prefix_cache_queries_total', 'Prompt tokens looked up in the prefix cache.', 'counter', (c) => c.promptTokens);
  each('vllm:prefix_cache_hits_total', 'Prompt tokens found in the prefix cache (enable_prefix_caching; otherwise none).', 'counter', (c) => c.prefixHits);
  hist('vllm:time_to_first_token_seconds', 'Time from arrival to the first token sent.', (c) => c.hist.ttft, VLLM.ttft);
  hist('vllm:inter_token_latency_seconds', 'Time between consecutive tokens sent.', (c) => c.hist.itl, VLLM.itl);
  hist('vllm:e2e_request_latency_seconds', 'Time from arrival to the last token sent.', (c) => c.hist.e2e, VLLM.e2e);
  hist('vllm:request_queue_time_seconds', 'Time spent waiting for a generation slot.', (c) => c.hist.queue, VLLM.queue);
  hist('vllm:request_prefill_time_seconds', 'Time from the start of generation to the first token sent.', (c) => c.hist.prefill, VLLM.e2e);
  hist('vllm:request_decode_time_seconds', 'Time from the first token sent to the last.', (c) => c.hist.decode, VLLM.e2e);
  hist('vllm:request_inference_time_seconds', 'Time from the start of generation to the last token sent.', (c) => c.hist.inference, VLLM.e2e);
  hist('vllm:request_time_per_output_token_seconds', 'Mean time between the tokens of a request.', (c) => c.hist.tpot, VLLM.itl);
  hist('vllm:request_prompt_tokens', 'Prompt tokens per request.', (c) => c.hist.promptTokens, VLLM.tokens);
  hist('vllm:request_generation_tokens', 'Tokens sent per request.', (c) => c.hist.generationTokens, VLLM.tokens);
  writeVllmLora(page, input.lora);
}

/**
 * vLLM's vllm:lora_requests_info, shown when adapters are served (vLLM shows it with --enable-lora): one
 * sample whose labels carry the state (adapter names joined by commas, in the order they became running or
 * waiting) and whose value is the time it was taken, in Unix seconds, as vLLM's set_to_current_time. vLLM
 * also keeps the samples of its earlier states (each with the time it was last seen); only the current one is
 * shown here, which is the one a reader takes (the latest time).
 */
function writeVllmLora(page: Exposition, lora: LoraInfo | undefined): void {
  if (lora === undefined) return;
  page.family('vllm:lora_requests_info', 'Running stats on lora requests.', 'gauge', () => {
    const labels: Labels = [
      ['max_lora', String(lora.maxLoras)],
      ['waiting_lora_adapters', lora.waiting.join(',')],
      ['running_lora_adapters', lora.running.join(',')],
    ];
    page.sample('vllm:lora_requests_info', labels, lora.now);
  });
}

// --------------------------------------------------------------------------------- the later AIPerf mock

/** The later AIPerf mock's own families (aiperf_mock_*), by endpoint (the request path). */
export function writeAiperfMock(page: Exposition, input: PageInput): void {
  const cells = input.snapshot.cells;
  const endpoints = groupBy(cells, (c) => c.endpoint);
  const pairs = groupBy(cells, (c) => JSON.stringify([c.endpoint, c.model]));
  const streams = groupBy(
    cells.filter((c) => c.stream),
    (c) => JSON.stringify([c.endpoint, c.model]),
  );
  page.family('aiperf_mock_requests_total', 'Requests answered, by endpoint, method and HTTP status.', 'counter', () => {
    for (const [e, c] of endpoints) {
      const byStatus = new Map<string, number>([['200', c.finished]]);
      for (const [k, n] of c.failures) {
        const status = k.split(' ')[0]!;
        byStatus.set(status, (byStatus.get(status) ?? 0) + n);
      }
      for (const [status, n] of byStatus) if (n > 0) page.sample('aiperf_mock_requests_total', [['endpoint', e], ['method', 'POST'], ['status', status]], n);
    }
  });
  page.family('aiperf_mock_requests_in_progress', 'Requests being answered now (generating or queued).', 'gauge', () => {
    for (const [e, c] of endpoints) page.sample('aiperf_mock_requests_in_progress', [['endpoint', e]], c.running + c.waiting);
  });
  page.family('aiperf_mock_request_latency_seconds', 'Time from arrival to the end of the answer.', 'histogram', () => {
    for (const [e, c] of endpoints) page.histogram('aiperf_mock_request_latency_seconds', [['endpoint', e]], c.hist.e2e, AIPERF.latency, 1);
  });
  const perPair = (name: string, help: string, from: Map<string, Cell>, value: (c: Cell) => number): void => {
    page.family(name, help, 'counter', () => {
      for (const c of from.values()) page.sample(name, [['endpoint', c.endpoint], ['model', c.model]], value(c));
    });
  };
  perPair('aiperf_mock_prompt_tokens_total', 'Prompt tokens of the requests that began generating.', pairs, (c) => c.promptTokens);
  perPair('aiperf_mock_completion_tokens_total', 'Tokens sent.', pairs, (c) => c.generationTokens);
  perPair('aiperf_mock_streaming_requests_total', 'Streamed requests.', streams, (c) => c.requests);
  perPair('aiperf_mock_tokens_streamed_total', 'Tokens sent in streams.', streams, (c) => c.generationTokens);
  page.family('aiperf_mock_time_to_first_token_seconds', 'Time from arrival to the first token sent.', 'histogram', () => {
    for (const [e, c] of endpoints) page.histogram('aiperf_mock_time_to_first_token_seconds', [['endpoint', e]], c.hist.ttft, AIPERF.ttft, 1);
  });
  page.family('aiperf_mock_inter_token_latency_seconds', 'Time between consecutive tokens sent.', 'histogram', () => {
    for (const [e, c] of endpoints) page.histogram('aiperf_mock_inter_token_latency_seconds', [['endpoint', e]], c.hist.itl, AIPERF.itl, 1);
  });
  page.family('aiperf_mock_errors_total', 'Requests answered with an error, by endpoint and error code.', 'counter', () => {
    for (const [e, c] of endpoints) {
      const byCode = new Map<string, number>();
      for (const [k, n] of c.failures) {
        const code = k.slice(k.indexOf(' ') + 1);
        byCode.set(code, (byCode.get(code) ?? 0) + n);
      }
      for (const [code, n] of byCode) page.sample('aiperf_mock_errors_total', [['endpoint', e], ['error_type', code]], n);
    }
  });
  perPair('aiperf_mock_requests_by_model_total', 'Requests, by model and endpoint.', pairs, (c) => c.requests);
  page.family('aiperf_mock_uptime_seconds', 'Seconds since the server started.', 'gauge', () => page.sample('aiperf_mock_uptime_seconds', [], input.uptime));
}

// ------------------------------------------------------------------------------------------------ SGLang

/** SGLang's families: the scheduler's gauges (engine and ranks) and the tokenizer manager's counters. */
export function writeSglang(page: Exposition, input: PageInput): void {
  const models = byModel(input.snapshot);
  const sched = (m: string): Labels => [['engine_type', 'unified'], ['model_name', m], ['pp_rank', '0'], ['tp_rank', '0']];
  const tok = (m: string): Labels => [['model_name', m]];
  const one = (name: string, help: string, kind: 'gauge' | 'counter', labels: (m: string) => Labels, value: (c: Cell, m: string) => number): void => {
    page.family(name, help, kind, () => {
      for (const [m, c] of models) page.sample(name, labels(m), value(c, m));
    });
  };
  const hist = (name: string, help: string, labels: (m: string) => Labels, read: (c: Cell) => Cell['hist'][keyof Cell['hist']], bounds: readonly number[]): void => {
    page.family(name, help, 'histogram', () => {
      for (const [m, c] of models) {
        const l = labels(m);
        page.histogram(name, l, read(c), bounds, lePos(l));
      }
    });
  };
  one('sglang:num_running_reqs', 'Requests generating now.', 'gauge', sched, (c) => c.running);
  one('sglang:num_used_tokens', 'Tokens the running requests hold in the KV cache.', 'gauge', sched, (c) => Math.max(0, c.kvTokens));
  one('sglang:token_usage', 'KV-cache usage: used tokens over max_total_num_tokens.', 'gauge', sched, (c) => usage(c, input.kvCapacity));
  one('sglang:gen_throughput', 'Tokens generated per second.', 'gauge', sched, (_c, m) => input.tokensPerSecond.get(m) ?? 0);
  one('sglang:num_queue_reqs', 'Requests waiting in the queue.', 'gauge', sched, (c) => c.waiting);
  one('sglang:cache_hit_rate', 'Prefix-cache hit rate (none: not simulated).', 'gauge', sched, () => 0);
  one('sglang:max_total_num_tokens', 'Tokens the KV cache holds (kv_cache_tokens).', 'gauge', sched, () => input.kvCapacity);
  hist('sglang:queue_time_seconds', 'Time spent waiting for a generation slot.', sched, (c) => c.hist.queue, SGLANG.queue);
  one('sglang:prompt_tokens_total', 'Prompt tokens of the requests that began generating.', 'counter', tok, (c) => c.promptTokens);
  one('sglang:generation_tokens_total', 'Tokens sent.', 'counter', tok, (c) => c.generationTokens);
  one('sglang:cached_tokens_total', 'Prompt tokens served from the prefix cache (enable_prefix_caching; otherwise none).', 'counter', tok, (c) => c.prefixHits);
  one('sglang:num_requests_total', 'Requests finished.', 'counter', tok, (c) => c.finished);
  one('sglang:num_aborted_requests_total', 'Requests cut before their end.', 'counter', tok, (c) => c.abort);
  hist('sglang:time_to_first_token_seconds', 'Time from arrival to the first token sent.', tok, (c) => c.hist.ttft, SGLANG.ttft);
  hist('sglang:inter_token_latency_seconds', 'Time between consecutive tokens sent.', tok, (c) => c.hist.itl, SGLANG.itl);
  hist('sglang:e2e_request_latency_seconds', 'Time from arrival to the last token sent.', tok, (c) => c.hist.e2e, SGLANG.e2e);
}

// ------------------------------------------------------------------------------------------------ TRT-LLM

/** trtllm-serve's families (prefix trtllm_, labels engine_type and model_name). Its KV cache has blocks of 32 tokens. */
export function writeTrtllm(page: Exposition, input: PageInput): void {
  const models = byModel(input.snapshot);
  const BLOCK = 32;
  const maxBlocks = Math.max(1, Math.floor(input.kvCapacity / BLOCK));
  const usedBlocks = (c: Cell): number => Math.min(maxBlocks, Math.ceil(Math.max(0, c.kvTokens) / BLOCK));
  const labels = (m: string): Labels => [['engine_type', 'trtllm'], ['model_name', m]];
  const one = (name: string, help: string, kind: 'gauge' | 'counter', value: (c: Cell) => number): void => {
    page.family(name, help, kind, () => {
      for (const [m, c] of models) page.sample(name, labels(m), value(c));
    });
  };
  const hist = (name: string, help: string, read: (c: Cell) => Cell['hist'][keyof Cell['hist']], bounds: readonly number[]): void => {
    page.family(name, help, 'histogram', () => {
      for (const [m, c] of models) page.histogram(name, labels(m), read(c), bounds, 1);
    });
  };
  page.family('trtllm_request_success_total', 'Requests that finished, by finish reason.', 'counter', () => {
    for (const [m, c] of models) {
      for (const reason of ['stop', 'length', 'abort'] as const) {
        page.sample('trtllm_request_success_total', [['engine_type', 'trtllm'], ['finished_reason', reason], ['model_name', m]], c[reason]);
      }
    }
  });
  hist('trtllm_e2e_request_latency_seconds', 'Time from arrival to the last token sent.', (c) => c.hist.e2e, TRTLLM.e2e);
  hist('trtllm_time_to_first_token_seconds', 'Time from arrival to the first token sent.', (c) => c.hist.ttft, TRTLLM.ttft);
  hist('trtllm_time_per_output_token_seconds', 'Mean time between the tokens of a request.', (c) => c.hist.tpot, TRTLLM.tpot);
  hist('trtllm_request_queue_time_seconds', 'Time spent waiting for a generation slot.', (c) => c.hist.queue, TRTLLM.e2e);
  hist('trtllm_request_prefill_time_seconds', 'Time from the start of generation to the first token sent.', (c) => c.hist.prefill, TRTLLM.prefill);
  hist('trtllm_request_decode_time_seconds', 'Time from the first token sent to the last.', (c) => c.hist.decode, TRTLLM.e2e);
  hist('trtllm_request_inference_time_seconds', 'Time from the start of generation to the last token sent.', (c) => c.hist.inference, TRTLLM.e2e);
  one('trtllm_prompt_tokens_total', 'Prompt tokens of the requests that began generating.', 'counter', (c) => c.promptTokens);
  one('trtllm_generation_tokens_total', 'Tokens sent.', 'counter', (c) => c.generationTokens);
  one('trtllm_num_requests_running', 'Requests generating now.', 'gauge', (c) => c.running);
  one('trtllm_num_requests_waiting', 'Requests waiting in the queue.', 'gauge', (c) => c.waiting);
  one('trtllm_num_requests_completed_total', 'Requests finished.', 'counter', (c) => c.finished);
  one('trtllm_kv_cache_utilization', 'KV-cache usage: used blocks over all blocks.', 'gauge', (c) => usedBlocks(c) / maxBlocks);
  one('trtllm_kv_cache_max_blocks', 'KV-cache blocks.', 'gauge', () => maxBlocks);
  one('trtllm_kv_cache_used_blocks', 'KV-cache blocks held by running requests.', 'gauge', usedBlocks);
  one('trtllm_kv_cache_free_blocks', 'KV-cache blocks free.', 'gauge', (c) => maxBlocks - usedBlocks(c));
  one('trtllm_kv_cache_tokens_per_block', 'Tokens per KV-cache block.', 'gauge', () => BLOCK);
  one('trtllm_kv_cache_hit_rate', 'KV-cache block reuse rate (none: not simulated).', 'gauge', () => 0);
}

// ------------------------------------------------------------------------------------------------ Dynamo

/** Dynamo's frontend names an endpoint by its API: /v1/chat/completions is chat_completions. */
export const dynamoEndpoint = (path: string): string =>
  path
    .replace(/^\/(v\d+\/)?/, '')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_|_$/g, '') || 'unknown';

const DYNAMO_BLOCK = 16;

/** The Dynamo frontend's families (dynamo_frontend_*, label model). */
export function writeDynamoFrontend(page: Exposition, input: PageInput): void {
  const cells = input.snapshot.cells;
  const models = byModel(input.snapshot);
  const perModel = (name: string, help: string, kind: 'gauge' | 'counter', value: (c: Cell) => number): void => {
    page.family(name, help, kind, () => {
      for (const [m, c] of models) page.sample(name, [['model', m]], value(c));
    });
  };
  const hist = (name: string, help: string, read: (c: Cell) => Cell['hist'][keyof Cell['hist']], bounds: readonly number[]): void => {
    page.family(name, help, 'histogram', () => {
      for (const [m, c] of models) page.histogram(name, [['model', m]], read(c), bounds);
    });
  };
  page.family('dynamo_frontend_requests_total', 'Requests the frontend answered, by endpoint, model, request type and status.', 'counter', () => {
    const kinds = groupBy(cells, (c) => JSON.stringify([c.endpoint, c.model, c.stream]));
    for (const c of kinds.values()) {
      const labels = (status: string): Labels => [['endpoint', dynamoEndpoint(c.endpoint)], ['model', c.model], ['request_type', c.stream ? 'stream' : 'unary'], ['status', status]];
      page.sample('dynamo_frontend_requests_total', labels('success'), c.stop + c.length);
      const errors = c.abort + c.failed;
      if (errors > 0) page.sample('dynamo_frontend_requests_total', labels('error'), errors);
    }
  });
  perModel('dynamo_frontend_inflight_requests', 'Requests being answered now.', 'gauge', (c) => c.running + c.waiting);
  perModel('dynamo_frontend_queued_requests', 'Requests that have not yet had their first token.', 'gauge', (c) => c.waiting + c.prefilling);
  page.family('dynamo_frontend_disconnected_clients', 'Requests cut before their end.', 'gauge', () => {
    let n = 0;
    for (const c of cells) n += c.abort;
    page.sample('dynamo_frontend_disconnected_clients', [], n);
  });
  hist('dynamo_frontend_request_duration_seconds', 'Time from arrival to the end of the answer.', (c) => c.hist.e2e, DYNAMO.duration);
  hist('dynamo_frontend_time_to_first_token_seconds', 'Time from arrival to the first token sent.', (c) => c.hist.ttft, DYNAMO.ttft);
  hist('dynamo_frontend_inter_token_latency_seconds', 'Time between consecutive tokens sent.', (c) => c.hist.itl, DYNAMO.itl);
  hist('dynamo_frontend_input_sequence_tokens', 'Prompt tokens per request.', (c) => c.hist.promptTokens, VLLM.tokens);
  hist('dynamo_frontend_output_sequence_tokens', 'Tokens sent per request.', (c) => c.hist.generationTokens, VLLM.tokens);
  perModel('dynamo_frontend_output_tokens_total', 'Tokens sent.', 'counter', (c) => c.generationTokens);
  perModel('dynamo_frontend_model_kv_cache_block_size', 'Tokens per KV-cache block.', 'gauge', () => DYNAMO_BLOCK);
  perModel('dynamo_frontend_model_total_kv_blocks', 'KV-cache blocks of a worker serving the model.', 'gauge', () => Math.floor(input.kvCapacity / DYNAMO_BLOCK));
}

/**
 * A Dynamo worker's families (dynamo_component_*) in a disaggregated deployment: the prefill worker holds a
 * request from the start of generation to its first token, the decode worker from there to its end.
 */
export function writeDynamoComponent(page: Exposition, input: PageInput, role: 'prefill' | 'decode'): void {
  const models = byModel(input.snapshot);
  const labels = (m: string): Labels => [['dynamo_component', role], ['dynamo_endpoint', 'generate'], ['dynamo_namespace', 'dynamo'], ['model', m]];
  const prefill = role === 'prefill';
  const kv = (c: Cell): number => Math.max(0, prefill ? c.promptPrefilling : c.kvTokens - c.promptPrefilling);
  const totalBlocks = Math.floor(input.kvCapacity / DYNAMO_BLOCK);
  const one = (name: string, help: string, kind: 'gauge' | 'counter', value: (c: Cell) => number): void => {
    page.family(name, help, kind, () => {
      for (const [m, c] of models) page.sample(name, labels(m), value(c));
    });
  };
  one('dynamo_component_requests_total', 'Requests this worker took.', 'counter', (c) => (prefill ? c.admitted : c.hist.ttft.count));
  one('dynamo_component_inflight_requests', 'Requests this worker holds now.', 'gauge', (c) => (prefill ? c.prefilling : c.running - c.prefilling));
  page.family('dynamo_component_request_duration_seconds', 'Time this worker held a request.', 'histogram', () => {
    for (const [m, c] of models) page.histogram('dynamo_component_request_duration_seconds', labels(m), prefill ? c.hist.prefill : c.hist.decode, DYNAMO.component);
  });
  one('dynamo_component_kvstats_active_blocks', 'KV-cache blocks held by the requests on this worker.', 'gauge', (c) => Math.min(totalBlocks, Math.ceil(kv(c) / DYNAMO_BLOCK)));
  one('dynamo_component_kvstats_total_blocks', 'KV-cache blocks of this worker.', 'gauge', () => totalBlocks);
  one('dynamo_component_kvstats_gpu_cache_usage_percent', 'KV-cache usage, 0 to 1.', 'gauge', (c) => Math.min(1, kv(c) / input.kvCapacity));
  page.family('dynamo_component_uptime_seconds', 'Seconds since the worker started.', 'gauge', () => page.sample('dynamo_component_uptime_seconds', [], input.uptime));
}

/** The pages, by name. */
export const PAGES = {
  /** /metrics: vLLM's names, then the later AIPerf mock's own. */
  metrics: (i: PageInput) => withPage('python', (p) => (writeVllm(p, i), writeAiperfMock(p, i))),
  vllm: (i: PageInput) => withPage('python', (p) => writeVllm(p, i)),
  sglang: (i: PageInput) => withPage('python', (p) => writeSglang(p, i)),
  trtllm: (i: PageInput) => withPage('python', (p) => writeTrtllm(p, i)),
  dynamoFrontend: (i: PageInput) => withPage('rust', (p) => writeDynamoFrontend(p, i)),
  dynamoPrefill: (i: PageInput) => withPage('rust', (p) => writeDynamoComponent(p, i, 'prefill')),
  dynamoDecode: (i: PageInput) => withPage('rust', (p) => writeDynamoComponent(p, i, 'decode')),
} as const;

export type PageName = keyof typeof PAGES;

function withPage(style: 'python' | 'rust', write: (p: Exposition) => void): string {
  const p = new Exposition(style);
  write(p);
  return p.text();
}

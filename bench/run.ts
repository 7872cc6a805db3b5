// npm run bench: the mock server (real Qwen3 tokenizer) against the bare node:http reference, scenario by
// scenario, each load run in its own process. Every request carries a new prompt from the corpus (as real
// benchmark traffic does) except in the one "cache hit" run, which keeps the old fixed prompt. The prompt work
// of each run (tokenize, chat template) is measured afterwards in this process on the same prompts, with the
// product's own module, so the server's CPU splits into prompt work and serving without a hook in the product.
// Prints the targets and the full table, and writes bench/results/latest.json and latest.md.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PROMPT, median, type LoadResult, type Scenario } from './common.js';
import { measurePromptWork, type PromptWork } from './prompt-work.js';
import { seedOf, type PromptSpec, type TokenLength } from './prompts.js';
import { workersScenario } from './workers.js';
import { installCleanup, ROOT, runLoad, startServer, startupTime, type Latency, type RunningServer, type ServerKind } from './servers.js';

const KINDS: readonly ServerKind[] = ['mock', 'reference'];
type Pair = Record<ServerKind, LoadResult>;

const THROUGHPUT_MS = 10_000;
const NONSTREAM_MS = 6000;
const TIMED_MS = 8000;
const STREAMS = [64, 256, 1024] as const;
/** Prompt lengths in tokens: a spread of a tenth of the mean, as a synthetic-prompt benchmark would set it. */
const ISL_100: TokenLength = { mean: 100, stddev: 10 };
const ISL_1000: TokenLength = { mean: 1000, stddev: 100 };
const TURNS = 5;
/** Requests whose prompt work is measured offline, per run (the first ones the run drew). */
const WORK_REQUESTS = 400;
const WORK_REQUESTS_LONG = 100;
const MEMORY_STREAMS = 1024;
const STARTUP_RUNS = 3;

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function brief(r: LoadResult): string {
  const parts = [`${r.requests.completed} ok`, `${r.requests.failed} failed`, `${Math.round(r.tokensPerSec)} tok/s`];
  if (r.ttftMs) parts.push(`TTFT p99 ${r.ttftMs.p99.toFixed(1)} ms`);
  if (r.itlMs) parts.push(`ITL p99 ${r.itlMs.p99.toFixed(2)} ms`);
  if (r.server?.cpuUsPerToken != null && r.scenario.stream) parts.push(`${r.server.cpuUsPerToken.toFixed(2)} µs/token`);
  if (r.rss) parts.push(`${r.rss.perStreamKb.toFixed(1)} KB/stream`);
  parts.push(`client CPU ${r.client.cpuPercent.toFixed(0)}%`);
  if (r.failures.length) parts.push(`first failure: ${r.failures[0]}`);
  return parts.join(', ');
}

/** Runs the same scenario against both servers, alternating which goes first. */
let order = 0;
async function pair(servers: Record<ServerKind, RunningServer>, label: string, make: (s: RunningServer) => Scenario): Promise<Pair> {
  const kinds = order++ % 2 === 0 ? KINDS : [...KINDS].reverse();
  const out: Partial<Pair> = {};
  for (const kind of kinds) {
    const r = await runLoad(make(servers[kind]));
    log(`${label} ${kind}: ${brief(r)}`);
    out[kind] = r;
  }
  return out as Pair;
}

async function withServers<T>(latency: Latency, fn: (s: Record<ServerKind, RunningServer>) => Promise<T>): Promise<T> {
  const [mock, reference] = await Promise.all([startServer('mock', latency), startServer('reference', latency)]);
  try {
    return await fn({ mock, reference });
  } finally {
    await Promise.all([mock.stop(), reference.stop()]);
  }
}

// ---- the table ------------------------------------------------------------------------------------------
interface Row {
  section: string;
  metric: string;
  mock: number | null;
  reference: number | null;
  digits: number;
  /** "ratio" targets compare ours / reference; "abs" targets compare ours to a number. */
  target?: { kind: 'ratio' | 'abs' | 'zero' | 'range'; limit: number; text: string };
}

function ratio(row: Row): number | null {
  if (row.mock === null || row.reference === null || row.reference === 0) return null;
  return row.mock / row.reference;
}

function verdict(row: Row): boolean | null {
  const t = row.target;
  if (!t || row.mock === null) return null;
  if (t.kind === 'zero') return row.mock === 0;
  if (t.kind === 'abs') return row.mock <= t.limit;
  // A share between limit and 100 − limit per cent.
  if (t.kind === 'range') return row.mock >= t.limit && row.mock <= 100 - t.limit;
  const r = ratio(row);
  return r === null ? null : r <= t.limit;
}

function fmt(v: number | null, digits: number): string {
  if (v === null || !Number.isFinite(v)) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(rows: Row[]): string {
  const lines = ['| Scenario | Metric | mock | reference | ratio | target | met |', '|---|---|---:|---:|---:|---|:---:|'];
  for (const r of rows) {
    const q = ratio(r);
    const v = verdict(r);
    lines.push(
      `| ${r.section} | ${r.metric} | ${fmt(r.mock, r.digits)} | ${fmt(r.reference, r.digits)} | ${q === null ? '—' : `${q.toFixed(2)}×`} | ${r.target?.text ?? ''} | ${v === null ? '' : v ? 'yes' : '**NO**'} |`,
    );
  }
  return lines.join('\n');
}

function machine(): Record<string, string | number> {
  let cpu = 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {
    // not Linux
  }
  return {
    nproc: os.availableParallelism(),
    cpu,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
  };
}

/** Prompts for a run: its own seed (so no run repeats another's prompts into a server's cache), both servers the same. */
function corpusPrompts(label: string, isl: TokenLength, turns = 1): PromptSpec {
  return { seed: seedOf(label), isl, ...(turns > 1 ? { turns, answer: ISL_100 } : {}) };
}

interface Run {
  section: string;
  prompts: PromptSpec | undefined;
  pair: Pair;
  work?: PromptWork;
}

async function main(): Promise<void> {
  installCleanup();
  const began = performance.now();
  const loadBefore = os.loadavg();
  const date = new Date().toISOString();
  log(`machine: ${JSON.stringify(machine())}; load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`);

  const common = { max_tokens: 100, ignore_eos: true, timeoutMs: 90_000 };
  const runs: Record<string, Run> = {};
  const measure = async (servers: Record<ServerKind, RunningServer>, key: string, section: string, prompts: PromptSpec | undefined, make: (s: RunningServer) => Scenario): Promise<void> => {
    const p = await pair(servers, key, (s) => ({ ...make(s), ...(prompts ? { prompts } : {}) }));
    runs[key] = { section, prompts, pair: p };
  };

  // Zero latency: CPU per output token with new prompts and with the cache-hit prompt, and non-streaming.
  await withServers({ ttft: 0, itl: 0 }, async (servers) => {
    const throughput = (s: RunningServer): Scenario => ({ ...common, url: s.url, serverPid: s.pid, concurrency: 64, durationMs: THROUGHPUT_MS, stream: true, ttft: 0, itl: 0, timing: false });
    await measure(servers, 'a', '(a) ISL 100 / OSL 100, zero latency, 64 streams', corpusPrompts('a', ISL_100), throughput);
    await measure(servers, 'hit', '(a′) cache hit: one fixed prompt (56 words) on every request, zero latency, 64 streams × 100 tokens', undefined, throughput);
    await measure(servers, 'c', '(c) non-streaming, ISL 100 / OSL 100, 64 concurrent, ttft 0 itl 0', corpusPrompts('c', ISL_100), (s) => ({
      ...common,
      url: s.url,
      serverPid: s.pid,
      concurrency: 64,
      durationMs: NONSTREAM_MS,
      stream: false,
      ttft: 0,
      itl: 0,
    }));
  });

  // Timing fidelity: ttft 20 itl 5.
  await withServers({ ttft: 20, itl: 5 }, async (servers) => {
    const timed = (concurrency: number, maxTokens = 100) => (s: RunningServer): Scenario => ({
      ...common,
      url: s.url,
      serverPid: s.pid,
      concurrency,
      durationMs: TIMED_MS,
      stream: true,
      max_tokens: maxTokens,
      ttft: 20,
      itl: 5,
    });
    for (const c of STREAMS) {
      await measure(servers, `b${c}`, `(b) ISL 100 / OSL 100, ttft 20 itl 5, ${c} streams`, corpusPrompts(`b${c}`, ISL_100), timed(c));
    }
    await measure(servers, 'g', '(g) ISL 1000 / OSL 100 (prefill-heavy), ttft 20 itl 5, 64 streams', corpusPrompts('g', ISL_1000), timed(64));
    await measure(servers, 'h', '(h) ISL 100 / OSL 1000, ttft 20 itl 5, 64 streams', corpusPrompts('h', ISL_100), timed(64, 1000));
    await measure(
      servers,
      'i',
      `(i) multi-turn: ${TURNS} user turns of ISL 100 with answers of 100 between them, OSL 100, ttft 20 itl 5, 64 streams`,
      corpusPrompts('i', ISL_100, TURNS),
      timed(64),
    );
  });

  // (d) memory per open stream: a fresh server each, idle RSS, then 1024 long streams held open.
  const memory: Partial<Pair> = {};
  for (const kind of KINDS) {
    const server = await startServer(kind, { ttft: 0, itl: 50 });
    try {
      const r = await runLoad({
        url: server.url,
        serverPid: server.pid,
        concurrency: MEMORY_STREAMS,
        stream: true,
        max_tokens: 2000,
        ignore_eos: true,
        ttft: 0,
        itl: 50,
        timing: false,
        rss: { holdMs: 2000 },
        timeoutMs: 60_000,
        prompts: corpusPrompts('d', ISL_100),
      });
      log(`(d) memory ${kind}: ${brief(r)}`);
      memory[kind] = r;
    } finally {
      await server.stop();
    }
  }

  // (f) --workers 2 against 1, zero latency, 64 streams, ISL 100 / OSL 100.
  const workers = await workersScenario({
    concurrency: 64,
    durationMs: THROUGHPUT_MS,
    stream: true,
    max_tokens: 100,
    ignore_eos: true,
    ttft: 0,
    itl: 0,
    timing: false,
    timeoutMs: 90_000,
    prompts: corpusPrompts('f', ISL_100),
  });
  log(`(f) workers: 1 → ${Math.round(workers.one.tokensPerSec)} tok/s, 2 → ${Math.round(workers.two.tokensPerSec)} tok/s; connection shares ${workers.connectionShares.map((x) => (x * 100).toFixed(0)).join('/')} %, CPU shares ${workers.cpuShares.map((x) => (x * 100).toFixed(0)).join('/')} %`);

  // (e) start-up: spawn → first successful chat completion, median of 3.
  const startup: Record<ServerKind, number[]> = { mock: [], reference: [] };
  for (let i = 0; i < STARTUP_RUNS; i++) {
    for (const kind of KINDS) startup[kind].push(await startupTime(kind));
  }
  log(`(e) start-up: mock ${startup.mock.map((x) => x.toFixed(0)).join(', ')} ms; reference ${startup.reference.map((x) => x.toFixed(0)).join(', ')} ms`);

  // Prompt work, offline, after the servers are gone (so it competes with nothing of the benchmark's own).
  for (const [key, run] of Object.entries(runs)) {
    run.work = await measurePromptWork(run.prompts, run.prompts ? undefined : DEFAULT_PROMPT, run.prompts?.isl === ISL_1000 ? WORK_REQUESTS_LONG : WORK_REQUESTS);
    log(`prompt work ${key}: mock ${run.work.mockUs.toFixed(1)} µs/request (template run in full for ${run.work.renderedPercent.toFixed(1)} %), reference ${run.work.referenceUs.toFixed(1)} µs, over ${run.work.requests} requests of ${run.work.mockTokens.toFixed(0)} tokens`);
  }

  // ---- rows ------------------------------------------------------------------------------------------------
  const rows: Row[] = [];
  const both = (p: Pair, get: (r: LoadResult) => number | null | undefined): { mock: number | null; reference: number | null } => ({
    mock: get(p.mock) ?? null,
    reference: get(p.reference) ?? null,
  });
  const ratioTarget = (limit: number): Row['target'] => ({ kind: 'ratio', limit, text: `≤ ${limit}× ref` });
  const zero: Row['target'] = { kind: 'zero', limit: 0, text: '0' };
  /** Server CPU per request, split into prompt work (measured offline on the same prompts) and serving. */
  const cpuRows = (run: Run): void => {
    const { section, pair: p } = run;
    const w = run.work!;
    const cpu = both(p, (r) => r.server?.cpuUsPerRequest);
    rows.push({ section, metric: 'server CPU µs / request', ...cpu, digits: 1 });
    rows.push({ section, metric: 'prompt work µs / request (tokenize, template; measured offline on the same prompts)', mock: w.mockUs, reference: w.referenceUs, digits: 1 });
    rows.push({ section, metric: 'requests whose chat template ran in full (jinja) %', mock: w.renderedPercent, reference: null, digits: 1 });
    // Issue 10, point 3: the encoder's own speed, at ISL 1000 on corpus text.
    const encodeTarget: Row['target'] | undefined = run.prompts?.isl === ISL_1000 && run.prompts.turns === undefined ? { kind: 'abs', limit: 0.3, text: '≤ 0.3 µs' } : undefined;
    rows.push({ section, metric: 'echo encoding µs / prompt token (other new prompts of the same length)', mock: w.encodeUsPerToken, reference: null, digits: 3, ...(encodeTarget ? { target: encodeTarget } : {}) });
    rows.push({
      section,
      metric: 'serving µs / request (server CPU − prompt work)',
      mock: cpu.mock === null ? null : cpu.mock - w.mockUs,
      reference: cpu.reference === null ? null : cpu.reference - w.referenceUs,
      digits: 1,
    });
    rows.push({ section, metric: 'prompt tokens / request (mock: Qwen3 chat template; reference: words)', mock: w.mockTokens, reference: w.referenceTokens, digits: 0 });
  };
  const counts = (run: Run, what: string): void => {
    const { section, pair: p } = run;
    rows.push({ section, metric: `${what} measured`, ...both(p, (r) => r.requests.completed + r.requests.failed), digits: 0 });
    rows.push({ section, metric: `failed ${what}`, ...both(p, (r) => r.requests.failed), digits: 0, target: zero });
    rows.push({ section, metric: 'server CPU %', ...both(p, (r) => r.server?.cpuPercent), digits: 0 });
    rows.push({ section, metric: 'client CPU %', ...both(p, (r) => r.client.cpuPercent), digits: 0 });
  };

  for (const key of ['a', 'hit']) {
    const run = runs[key]!;
    const { section, pair: p } = run;
    rows.push({ section, metric: 'server CPU µs / output token', ...both(p, (r) => r.server?.cpuUsPerToken), digits: 3, ...(key === 'a' ? { target: ratioTarget(1.5) } : {}) });
    cpuRows(run);
    rows.push({ section, metric: 'tokens / s', ...both(p, (r) => r.tokensPerSec), digits: 0 });
    counts(run, 'streams');
  }

  const tokenizationMs = runs['g']!.work!.mockUs / 1000;
  for (const key of [...STREAMS.map((c) => `b${c}`), 'g', 'h', 'i']) {
    const run = runs[key]!;
    const { section, pair: p } = run;
    const ttftP99 = both(p, (r) => r.ttftMs?.p99);
    let ttftTarget: Row['target'];
    if (key === 'b256') ttftTarget = ratioTarget(1.25);
    if (key === 'g' && ttftP99.reference !== null) {
      const limit = 1.25 * ttftP99.reference + tokenizationMs;
      ttftTarget = { kind: 'abs', limit, text: `≤ 1.25× ref + ${tokenizationMs.toFixed(1)} ms tokenization = ${limit.toFixed(1)} ms` };
    }
    rows.push({ section, metric: 'TTFT p50 ms', ...both(p, (r) => r.ttftMs?.p50), digits: 2 });
    rows.push({ section, metric: 'TTFT p99 ms', ...ttftP99, digits: 2, ...(ttftTarget ? { target: ttftTarget } : {}) });
    rows.push({ section, metric: 'ITL p50 ms', ...both(p, (r) => r.itlMs?.p50), digits: 2 });
    rows.push({ section, metric: 'ITL p99 ms', ...both(p, (r) => r.itlMs?.p99), digits: 2, ...(key === 'b256' ? { target: ratioTarget(1.25) } : {}) });
    rows.push({ section, metric: 'same-read share %', ...both(p, (r) => (r.sameReadShare ?? 0) * 100), digits: 2 });
    rows.push({ section, metric: 'drift p50 ms', ...both(p, (r) => r.driftMs?.p50), digits: 2 });
    rows.push({ section, metric: 'drift p99 ms', ...both(p, (r) => r.driftMs?.p99), digits: 2, ...(key === 'b64' ? { target: ratioTarget(1.25) } : {}) });
    rows.push({ section, metric: 'early tokens', ...both(p, (r) => r.earlyTokens), digits: 0, target: zero });
    cpuRows(run);
    counts(run, 'streams');
  }

  {
    const run = runs['c']!;
    const { section, pair: p } = run;
    rows.push({ section, metric: 'requests / s', ...both(p, (r) => r.requestsPerSec), digits: 0 });
    rows.push({ section, metric: 'latency p50 ms', ...both(p, (r) => r.latencyMs?.p50), digits: 2 });
    rows.push({ section, metric: 'latency p99 ms', ...both(p, (r) => r.latencyMs?.p99), digits: 2 });
    rows.push({ section, metric: 'early answers', ...both(p, (r) => r.earlyTokens), digits: 0, target: zero });
    cpuRows(run);
    counts(run, 'requests');
  }

  const mem = memory as Pair;
  const d = `(d) memory, ${MEMORY_STREAMS} open streams (ISL 100, ttft 0, itl 50, 2000 tokens)`;
  rows.push({ section: d, metric: 'idle RSS MB', ...both(mem, (r) => (r.rss ? r.rss.idleKb / 1024 : null)), digits: 1 });
  rows.push({ section: d, metric: 'RSS with streams open MB', ...both(mem, (r) => (r.rss ? r.rss.openKb / 1024 : null)), digits: 1 });
  rows.push({ section: d, metric: 'streams open when sampled', ...both(mem, (r) => r.rss?.openStreams), digits: 0 });
  rows.push({ section: d, metric: 'KB per open stream beyond idle', ...both(mem, (r) => r.rss?.perStreamKb), digits: 1, target: { kind: 'abs', limit: 100, text: '≤ 100 KB' } });
  rows.push({ section: d, metric: 'failed streams', ...both(mem, (r) => r.requests.failed), digits: 0, target: zero });

  const f = '(f) --workers 2 vs 1 (mock only), ISL 100 / OSL 100, zero latency, 64 streams';
  const share = (xs: number[], pick: 'min' | 'max'): number | null => (xs.length < 2 ? null : (pick === 'min' ? Math.min(...xs) : Math.max(...xs)) * 100);
  rows.push({ section: f, metric: 'tokens / s: 2 workers (mock) vs 1 (reference column)', mock: workers.two.tokensPerSec, reference: workers.one.tokensPerSec, digits: 0 });
  rows.push({ section: f, metric: 'client CPU %: 2 workers vs 1', mock: workers.two.client.cpuPercent, reference: workers.one.client.cpuPercent, digits: 0 });
  rows.push({ section: f, metric: 'CPU µs / output token, all processes: 2 workers vs 1', mock: workers.cpuUsPerToken.two, reference: workers.cpuUsPerToken.one, digits: 3, target: { kind: 'ratio', limit: 1.1, text: '≤ 1.1× one worker' } });
  rows.push({ section: f, metric: 'smallest worker share of connections %', mock: share(workers.connectionShares, 'min'), reference: null, digits: 1, target: { kind: 'range', limit: 30, text: '30–70 %' } });
  rows.push({ section: f, metric: 'largest worker share of connections %', mock: share(workers.connectionShares, 'max'), reference: null, digits: 1, target: { kind: 'range', limit: 30, text: '30–70 %' } });
  rows.push({ section: f, metric: 'smallest worker share of CPU %', mock: share(workers.cpuShares, 'min'), reference: null, digits: 1, target: { kind: 'range', limit: 30, text: '30–70 %' } });
  rows.push({ section: f, metric: 'largest worker share of CPU %', mock: share(workers.cpuShares, 'max'), reference: null, digits: 1, target: { kind: 'range', limit: 30, text: '30–70 %' } });
  rows.push({ section: f, metric: 'failed streams (2 workers)', mock: workers.two.requests.failed, reference: workers.one.requests.failed, digits: 0, target: zero });

  const e = '(e) start-up, spawn → first chat completion';
  rows.push({ section: e, metric: `median of ${STARTUP_RUNS} ms`, mock: median(startup.mock), reference: median(startup.reference), digits: 0, target: { kind: 'abs', limit: 500, text: '≤ 500 ms (issue 10, point 5)' } });

  const loads: LoadResult[] = [...Object.values(runs).flatMap((r) => Object.values(r.pair)), ...Object.values(mem), workers.one, workers.two];
  const earlyOf = (kind: ServerKind): number => [...Object.values(runs).map((r) => r.pair[kind]), mem[kind]].reduce((n, r) => n + r.earlyTokens, 0);
  rows.push({ section: 'all runs', metric: 'early tokens, total', mock: earlyOf('mock'), reference: earlyOf('reference'), digits: 0, target: zero });
  // Every corpus run sent a new prompt on every request: the prompt source refuses to repeat a passage.
  const corpusRuns = loads.filter((r) => r.prompts.kind === 'corpus');
  rows.push({
    section: 'all runs',
    metric: 'requests with a new corpus prompt (all but the cache-hit run) / passages drawn',
    mock: corpusRuns.reduce((n, r) => n + r.prompts.requests, 0),
    reference: corpusRuns.reduce((n, r) => n + r.prompts.passages, 0),
    digits: 0,
  });

  const loadAfter = os.loadavg();
  const elapsed = (performance.now() - began) / 1000;
  const md = [
    `Benchmark ${date}; ${JSON.stringify(machine())}`,
    `load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')}; took ${elapsed.toFixed(0)} s`,
    '',
    '## Targets',
    '',
    // The targets, and of the zero-targets (failures, early tokens) only the totals and any that are not met.
    table(rows.filter((r) => r.section === 'all runs' || (r.target !== undefined && (r.target.kind !== 'zero' || verdict(r) === false)))),
    '',
    '## Full table',
    '',
    table(rows),
    '',
  ].join('\n');
  process.stdout.write(`${md}\n`);

  const targets = rows
    .filter((r) => r.target)
    .map((r) => ({ section: r.section, metric: r.metric, mock: r.mock, reference: r.reference, ratio: ratio(r), target: r.target!.text, met: verdict(r) }));
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'latest.json'),
    `${JSON.stringify(
      {
        date,
        machine: machine(),
        loadAverage: { before: loadBefore, after: loadAfter },
        elapsedSec: elapsed,
        targets,
        rows: rows.map((r) => ({ section: r.section, metric: r.metric, mock: r.mock, reference: r.reference, ratio: ratio(r) })),
        runs: Object.fromEntries(Object.entries(runs).map(([k, r]) => [k, { section: r.section, prompts: r.prompts, work: r.work, ...r.pair }])),
        memory: mem,
        startup,
        workers,
        failures: loads.flatMap((r) => r.failures),
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(join(dir, 'latest.md'), md);
  log(`wrote bench/results/latest.json and latest.md in ${elapsed.toFixed(0)} s`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

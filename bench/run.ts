// npm run bench: the mock server (real Qwen3 tokenizer) against the bare node:http reference, scenario by
// scenario, each load run in its own process. Prints a Markdown table and writes bench/results/latest.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { median, type LoadResult, type Scenario } from './common.js';
import { workersScenario } from './workers.js';
import { installCleanup, ROOT, runLoad, startServer, startupTime, type Latency, type RunningServer, type ServerKind } from './servers.js';

const KINDS: readonly ServerKind[] = ['mock', 'reference'];
type Pair = Record<ServerKind, LoadResult>;

const THROUGHPUT_MS = 10_000;
const NONSTREAM_MS = 6000;
const FIDELITY: ReadonlyArray<{ concurrency: number; durationMs: number }> = [
  { concurrency: 1, durationMs: 10_000 },
  { concurrency: 64, durationMs: 8000 },
  { concurrency: 256, durationMs: 8000 },
  { concurrency: 1024, durationMs: 8000 },
];
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

async function main(): Promise<void> {
  installCleanup();
  const began = performance.now();
  const loadBefore = os.loadavg();
  const date = new Date().toISOString();
  log(`machine: ${JSON.stringify(machine())}; load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`);

  const common = { max_tokens: 100, ignore_eos: true, timeoutMs: 90_000 };

  // (a) zero-latency throughput and (c) non-streaming requests per second.
  const { throughput, nonstream } = await withServers({ ttft: 0, itl: 0 }, async (servers) => {
    const throughput = await pair(servers, '(a) zero latency', (s) => ({
      ...common,
      url: s.url,
      serverPid: s.pid,
      concurrency: 64,
      durationMs: THROUGHPUT_MS,
      stream: true,
      max_tokens: 200,
      ttft: 0,
      itl: 0,
      timing: false,
    }));
    const nonstream = await pair(servers, '(c) non-streaming', (s) => ({
      ...common,
      url: s.url,
      serverPid: s.pid,
      concurrency: 64,
      durationMs: NONSTREAM_MS,
      stream: false,
      max_tokens: 16,
      ttft: 0,
      itl: 0,
    }));
    return { throughput, nonstream };
  });

  // (b) timing fidelity.
  const fidelity = await withServers({ ttft: 20, itl: 5 }, async (servers) => {
    const out: Record<number, Pair> = {};
    for (const f of FIDELITY) {
      out[f.concurrency] = await pair(servers, `(b) fidelity ×${f.concurrency}`, (s) => ({
        ...common,
        url: s.url,
        serverPid: s.pid,
        concurrency: f.concurrency,
        durationMs: f.durationMs,
        stream: true,
        ttft: 20,
        itl: 5,
      }));
    }
    return out;
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
      });
      log(`(d) memory ${kind}: ${brief(r)}`);
      memory[kind] = r;
    } finally {
      await server.stop();
    }
  }

  // (f) --workers 2 against 1, zero latency, 64 streams × 200 tokens.
  const workers = await workersScenario({
    concurrency: 64,
    durationMs: THROUGHPUT_MS,
    stream: true,
    max_tokens: 200,
    ignore_eos: true,
    ttft: 0,
    itl: 0,
    timing: false,
    timeoutMs: 90_000,
  });
  log(`(f) workers: 1 → ${Math.round(workers.one.tokensPerSec)} tok/s, 2 → ${Math.round(workers.two.tokensPerSec)} tok/s; connection shares ${workers.connectionShares.map((x) => (x * 100).toFixed(0)).join('/')} %, CPU shares ${workers.cpuShares.map((x) => (x * 100).toFixed(0)).join('/')} %`);

  // (e) start-up: spawn → first successful chat completion, median of 3.
  const startup: Record<ServerKind, number[]> = { mock: [], reference: [] };
  for (let i = 0; i < STARTUP_RUNS; i++) {
    for (const kind of KINDS) startup[kind].push(await startupTime(kind));
  }
  log(`(e) start-up: mock ${startup.mock.map((x) => x.toFixed(0)).join(', ')} ms; reference ${startup.reference.map((x) => x.toFixed(0)).join(', ')} ms`);

  // ---- rows ------------------------------------------------------------------------------------------------
  const rows: Row[] = [];
  const both = (p: Pair, get: (r: LoadResult) => number | null | undefined): { mock: number | null; reference: number | null } => ({
    mock: get(p.mock) ?? null,
    reference: get(p.reference) ?? null,
  });
  const a = '(a) zero latency, 64 streams × 200 tokens';
  rows.push({ section: a, metric: 'server CPU µs / output token', ...both(throughput, (r) => r.server?.cpuUsPerToken), digits: 3, target: { kind: 'ratio', limit: 1.5, text: '≤ 1.5× ref' } });
  rows.push({ section: a, metric: 'tokens / s', ...both(throughput, (r) => r.tokensPerSec), digits: 0 });
  rows.push({ section: a, metric: 'server CPU %', ...both(throughput, (r) => r.server?.cpuPercent), digits: 0 });
  rows.push({ section: a, metric: 'client CPU %', ...both(throughput, (r) => r.client.cpuPercent), digits: 0 });
  rows.push({ section: a, metric: 'same-read share %', ...both(throughput, (r) => (r.sameReadShare ?? 0) * 100), digits: 1 });
  rows.push({ section: a, metric: 'streams measured', ...both(throughput, (r) => r.requests.completed + r.requests.failed), digits: 0 });
  rows.push({ section: a, metric: 'failed streams', ...both(throughput, (r) => r.requests.failed), digits: 0, target: { kind: 'zero', limit: 0, text: '0' } });

  for (const f of FIDELITY) {
    const p = fidelity[f.concurrency]!;
    const sec = `(b) ttft 20 itl 5, 100 tokens, ${f.concurrency} stream${f.concurrency > 1 ? 's' : ''}`;
    const at256 = f.concurrency === 256;
    rows.push({ section: sec, metric: 'TTFT p50 ms', ...both(p, (r) => r.ttftMs?.p50), digits: 2 });
    rows.push({ section: sec, metric: 'TTFT p99 ms', ...both(p, (r) => r.ttftMs?.p99), digits: 2, ...(at256 ? { target: { kind: 'ratio' as const, limit: 1.25, text: '≤ 1.25× ref' } } : {}) });
    rows.push({ section: sec, metric: 'ITL p50 ms', ...both(p, (r) => r.itlMs?.p50), digits: 2 });
    rows.push({ section: sec, metric: 'ITL p99 ms', ...both(p, (r) => r.itlMs?.p99), digits: 2, ...(at256 ? { target: { kind: 'ratio' as const, limit: 1.25, text: '≤ 1.25× ref' } } : {}) });
    rows.push({ section: sec, metric: 'same-read share %', ...both(p, (r) => (r.sameReadShare ?? 0) * 100), digits: 2 });
    rows.push({ section: sec, metric: 'drift p99 ms', ...both(p, (r) => r.driftMs?.p99), digits: 2, ...(f.concurrency === 64 ? { target: { kind: 'ratio' as const, limit: 1.25, text: '≤ 1.25× ref' } } : {}) });
    rows.push({ section: sec, metric: 'early tokens', ...both(p, (r) => r.earlyTokens), digits: 0, target: { kind: 'zero', limit: 0, text: '0' } });
    rows.push({ section: sec, metric: 'streams measured', ...both(p, (r) => r.requests.completed + r.requests.failed), digits: 0 });
    rows.push({ section: sec, metric: 'failed streams', ...both(p, (r) => r.requests.failed), digits: 0, target: { kind: 'zero', limit: 0, text: '0' } });
    rows.push({ section: sec, metric: 'server CPU %', ...both(p, (r) => r.server?.cpuPercent), digits: 0 });
    rows.push({ section: sec, metric: 'client CPU %', ...both(p, (r) => r.client.cpuPercent), digits: 0 });
  }

  const c = '(c) non-streaming, 64 concurrent, 16 tokens, ttft 0 itl 0';
  rows.push({ section: c, metric: 'requests / s', ...both(nonstream, (r) => r.requestsPerSec), digits: 0 });
  rows.push({ section: c, metric: 'latency p50 ms', ...both(nonstream, (r) => r.latencyMs?.p50), digits: 2 });
  rows.push({ section: c, metric: 'latency p99 ms', ...both(nonstream, (r) => r.latencyMs?.p99), digits: 2 });
  rows.push({ section: c, metric: 'server CPU µs / request', ...both(nonstream, (r) => r.server?.cpuUsPerRequest), digits: 1 });
  rows.push({ section: c, metric: 'client CPU %', ...both(nonstream, (r) => r.client.cpuPercent), digits: 0 });
  rows.push({ section: c, metric: 'failed requests', ...both(nonstream, (r) => r.requests.failed), digits: 0, target: { kind: 'zero', limit: 0, text: '0' } });

  const mem = memory as Pair;
  const d = `(d) memory, ${MEMORY_STREAMS} open streams (ttft 0, itl 50, 2000 tokens)`;
  rows.push({ section: d, metric: 'idle RSS MB', ...both(mem, (r) => (r.rss ? r.rss.idleKb / 1024 : null)), digits: 1 });
  rows.push({ section: d, metric: 'RSS with streams open MB', ...both(mem, (r) => (r.rss ? r.rss.openKb / 1024 : null)), digits: 1 });
  rows.push({ section: d, metric: 'streams open when sampled', ...both(mem, (r) => r.rss?.openStreams), digits: 0 });
  rows.push({ section: d, metric: 'KB per open stream beyond idle', ...both(mem, (r) => r.rss?.perStreamKb), digits: 1, target: { kind: 'abs', limit: 100, text: '≤ 100 KB' } });
  rows.push({ section: d, metric: 'failed streams', ...both(mem, (r) => r.requests.failed), digits: 0, target: { kind: 'zero', limit: 0, text: '0' } });

  const f = '(f) --workers 2 vs 1 (mock only), zero latency, 64 streams × 200 tokens';
  const share = (xs: number[], pick: 'min' | 'max'): number | null => (xs.length < 2 ? null : (pick === 'min' ? Math.min(...xs) : Math.max(...xs)) * 100);
  rows.push({ section: f, metric: 'tokens / s: 2 workers (mock) vs 1 (reference column)', mock: workers.two.tokensPerSec, reference: workers.one.tokensPerSec, digits: 0 });
  rows.push({ section: f, metric: 'client CPU %: 2 workers vs 1', mock: workers.two.client.cpuPercent, reference: workers.one.client.cpuPercent, digits: 0 });
  rows.push({ section: f, metric: 'CPU µs / output token, all processes: 2 workers vs 1', mock: workers.cpuUsPerToken.two, reference: workers.cpuUsPerToken.one, digits: 3, target: { kind: 'ratio', limit: 1.1, text: '≤ 1.1× one worker' } });
  rows.push({ section: f, metric: 'smallest worker share of connections %', mock: share(workers.connectionShares, 'min'), reference: null, digits: 1, target: { kind: 'range', limit: 30, text: '30–70 %' } });
  rows.push({ section: f, metric: 'largest worker share of connections %', mock: share(workers.connectionShares, 'max'), reference: null, digits: 1, target: { kind: 'range', limit: 30, text: '30–70 %' } });
  rows.push({ section: f, metric: 'smallest worker share of CPU %', mock: share(workers.cpuShares, 'min'), reference: null, digits: 1, target: { kind: 'range', limit: 30, text: '30–70 %' } });
  rows.push({ section: f, metric: 'largest worker share of CPU %', mock: share(workers.cpuShares, 'max'), reference: null, digits: 1, target: { kind: 'range', limit: 30, text: '30–70 %' } });
  rows.push({ section: f, metric: 'failed streams (2 workers)', mock: workers.two.requests.failed, reference: workers.one.requests.failed, digits: 0, target: { kind: 'zero', limit: 0, text: '0' } });

  const e = '(e) start-up, spawn → first chat completion';
  rows.push({ section: e, metric: `median of ${STARTUP_RUNS} ms`, mock: median(startup.mock), reference: median(startup.reference), digits: 0, target: { kind: 'abs', limit: 1500, text: '≤ 1500 ms' } });

  const all: LoadResult[] = [...Object.values(throughput), ...Object.values(nonstream), ...Object.values(mem), ...Object.values(fidelity).flatMap((p) => Object.values(p))];
  const earlyMock = [throughput.mock, nonstream.mock, mem.mock, ...Object.values(fidelity).map((p) => p.mock)].reduce((n, r) => n + r.earlyTokens, 0);
  const earlyRef = [throughput.reference, nonstream.reference, mem.reference, ...Object.values(fidelity).map((p) => p.reference)].reduce((n, r) => n + r.earlyTokens, 0);
  rows.push({ section: 'all runs', metric: 'early tokens, total', mock: earlyMock, reference: earlyRef, digits: 0, target: { kind: 'zero', limit: 0, text: '0' } });

  const loadAfter = os.loadavg();
  const elapsed = (performance.now() - began) / 1000;
  const md = [
    `Benchmark ${date}; ${JSON.stringify(machine())}`,
    `load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')}; took ${elapsed.toFixed(0)} s`,
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
        runs: { throughput, nonstream, fidelity, memory: mem, startup, workers },
        failures: all.flatMap((r) => r.failures),
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

// npm run soak: clients that leave. An in-process server (so its timers and sockets can be counted) takes
// 20,000 requests from raw-socket clients that each break off at a random point: in the middle of the body,
// right after sending (before the headers, or while waiting in the queue), on the headers, in the middle of
// the stream, during a non-streaming answer's wait; a share reads to the end as a control. Afterwards the
// process must be back where it was when idle: no timer, immediate or socket left, the heap within 10% after
// GC, nothing generating or waiting, no request still in flight, no uncaught error and no ERROR logged.
// test/disconnect.test.ts runs the same with 1,000 requests. Every loop is bounded in count and in time.
import { connect, type Socket } from 'node:net';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { pathToFileURL } from 'node:url';
import { startMockServer, type MockServer } from '../src/index.js';

export type Mode = 'body' | 'early' | 'queued' | 'headers' | 'mid' | 'whole' | 'complete';

export interface SoakOptions {
  requests: number;
  /** Clients at once (above max_concurrency, so that some wait in the queue). */
  clients: number;
  maxConcurrency: number;
  ttft: number;
  itl: number;
  tokens: number;
  /** No new request after this long; the run then settles and is measured. */
  timeLimitMs: number;
  seed: number;
  progress?: (line: string) => void;
}

export const SOAK_DEFAULTS: SoakOptions = {
  requests: 20_000,
  clients: 128,
  maxConcurrency: 64,
  ttft: 20,
  itl: 5,
  tokens: 40,
  timeLimitMs: 8 * 60_000,
  seed: 1,
};

export interface Snapshot {
  resources: Record<string, number>;
  heapUsed: number;
  rss: number;
}

export interface SoakReport {
  options: SoakOptions;
  sent: number;
  byMode: Record<Mode, number>;
  resets: number;
  durationMs: number;
  /** Control requests (read to the end) that did not end as they should. */
  controlFailures: string[];
  idle: Snapshot;
  after: Snapshot;
  /** Per resource type, how many more there are after than when idle (only types that grew). */
  leaked: Record<string, number>;
  heapGrowth: number;
  metrics: { running: number; waiting: number; aborted: number; admitted: number; finished: number; maxWaiting: number };
  /** Requests in flight when shut down, from the shutdown's log line (undefined if it has none). */
  inFlightAtShutdown: number | undefined;
  uncaught: string[];
  errorLogs: string[];
  problems: string[];
}

// ------------------------------------------------------------------ raw HTTP over one socket

/** One request's bytes: a POST with a JSON body, keep-alive unless `close`. */
export function rawRequest(port: number, path: string, body: string, close = false): Buffer {
  const head =
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
  return Buffer.concat([Buffer.from(head), Buffer.from(body)]);
}

/** GET over a connection of its own that closes after the answer, so no socket stays behind. */
export function rawGet(port: number, path: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`GET ${path}: no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
  });
}

/** The sum of one metric's samples in Prometheus text, those whose labels contain `labels`. */
export function metricValue(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    if (labels && !rest.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export type ServerMetrics = Omit<SoakReport['metrics'], 'maxWaiting'>;

export async function serverMetrics(port: number): Promise<ServerMetrics> {
  const text = await rawGet(port, '/metrics');
  return {
    running: metricValue(text, 'vllm:num_requests_running'),
    waiting: metricValue(text, 'vllm:num_requests_waiting'),
    aborted: metricValue(text, 'vllm:request_success_total', 'finished_reason="abort"'),
    admitted: metricValue(text, 'vllm:request_queue_time_seconds_count'),
    finished: metricValue(text, 'vllm:request_success_total'),
  };
}

/** Polls until nothing generates or waits on the server (bounded: `ms`). */
export async function settle(port: number, ms = 10_000): Promise<ServerMetrics> {
  const until = performance.now() + ms;
  let m = await serverMetrics(port);
  while ((m.running > 0 || m.waiting > 0) && performance.now() < until) {
    await sleep(50);
    m = await serverMetrics(port);
  }
  return m;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A seeded generator (mulberry32): the same seed gives the same run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ------------------------------------------------------------------ measuring the process

export function gcNow(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  // Without --expose-gc (under node --test): the flag can still be set, and gc taken from a fresh context.
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

export async function snapshot(): Promise<Snapshot> {
  const gc = gcNow();
  // A few rounds: finalizers and weak callbacks free more on the next collection.
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(20);
  }
  const mem = process.memoryUsage();
  return { resources: resourceCounts(), heapUsed: mem.heapUsed, rss: mem.rss };
}

// ------------------------------------------------------------------ the clients

const MODES: Array<[Mode, number]> = [
  ['body', 0.1],
  ['early', 0.2],
  ['queued', 0.1],
  ['headers', 0.15],
  ['mid', 0.25],
  ['whole', 0.1],
  ['complete', 0.1],
];

function pickMode(r: number): Mode {
  let acc = 0;
  for (const [mode, share] of MODES) {
    acc += share;
    if (r < acc) return mode;
  }
  return 'complete';
}

interface Outcome {
  mode: Mode;
  reset: boolean;
  /** For the control requests: what went wrong, if anything. */
  failure?: string;
}

/** One client: connects, sends, and breaks off as its mode says (bounded by a 30 s watchdog). */
function oneRequest(port: number, o: SoakOptions, random: () => number, index: number): Promise<Outcome> {
  const mode = pickMode(random());
  const reset = mode !== 'complete' && random() < 0.3;
  const stream = mode !== 'whole' && !(mode === 'complete' && random() < 0.3);
  const body = JSON.stringify({
    model: 'Qwen/Qwen3-0.6B',
    messages: [{ role: 'user', content: `Request ${index % 16}: the quick brown fox jumps over the lazy dog.` }],
    max_tokens: o.tokens,
    ignore_eos: true,
    stream,
  });
  const bytes = rawRequest(port, '/v1/chat/completions', body, mode === 'complete');
  const frames = 1 + Math.floor(random() * Math.max(1, o.tokens - 2));
  const delay = mode === 'early' || mode === 'body' ? random() * 3 : mode === 'queued' ? 5 + random() * 55 : random() * (o.ttft + o.tokens * o.itl);

  return new Promise<Outcome>((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let received = '';
    let seen = 0;
    let done = false;
    const finish = (failure?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(watchdog);
      if (timer) clearTimeout(timer);
      if (!socket.destroyed) {
        if (reset) socket.resetAndDestroy();
        else socket.destroy();
      }
      resolve(failure === undefined ? { mode, reset } : { mode, reset, failure });
    };
    let timer: NodeJS.Timeout | undefined;
    const watchdog = setTimeout(() => finish(mode === 'complete' ? 'no end within 30 s' : undefined), 30_000);
    socket.on('error', () => finish(mode === 'complete' ? 'socket error' : undefined));
    socket.on('close', () => {
      if (mode !== 'complete') return finish();
      const ok = received.startsWith('HTTP/1.1 200') && (stream ? received.includes('data: [DONE]\n\n') : received.includes('"finish_reason":"length"'));
      finish(ok ? undefined : `control request ended badly: ${received.slice(0, 200)}`);
    });
    socket.on('data', (d: Buffer) => {
      if (mode === 'complete') {
        received += d.toString('latin1');
        return;
      }
      if (mode === 'headers') return finish();
      if (mode === 'mid') {
        const text = d.toString('latin1');
        for (let i = text.indexOf('data: '); i >= 0; i = text.indexOf('data: ', i + 6)) seen++;
        if (seen >= frames) finish();
      }
    });
    socket.once('connect', () => {
      if (mode === 'body') {
        // The headers and half of the body, then gone.
        socket.write(bytes.subarray(0, bytes.length - Math.ceil(body.length / 2)));
        timer = setTimeout(finish, delay);
        return;
      }
      socket.write(bytes);
      if (mode === 'early' || mode === 'queued' || mode === 'whole') timer = setTimeout(finish, delay);
    });
  });
}

// ------------------------------------------------------------------ the run

export async function runSoak(given: Partial<SoakOptions> = {}): Promise<SoakReport> {
  const o: SoakOptions = { ...SOAK_DEFAULTS, ...given };
  const say = o.progress ?? (() => undefined);
  const uncaught: string[] = [];
  const onUncaught = (err: unknown): void => void uncaught.push(`uncaughtException: ${err instanceof Error ? err.stack : String(err)}`);
  const onUnhandled = (err: unknown): void => void uncaught.push(`unhandledRejection: ${err instanceof Error ? err.stack : String(err)}`);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandled);
  const logs: string[] = [];
  let server: MockServer | undefined;
  try {
    server = await startMockServer({ ttft: o.ttft, itl: o.itl, max_concurrency: o.maxConcurrency, logWriter: (l) => void logs.push(l) });
    const port = server.port;
    const random = seeded(o.seed);
    const byMode: Record<Mode, number> = { body: 0, early: 0, queued: 0, headers: 0, mid: 0, whole: 0, complete: 0 };
    let resets = 0;
    const controlFailures: string[] = [];

    const drive = async (count: number, deadline: number): Promise<number> => {
      let next = 0;
      const client = async (): Promise<void> => {
        while (next < count && performance.now() < deadline) {
          const out = await oneRequest(port, o, random, next++);
          byMode[out.mode]++;
          if (out.reset) resets++;
          if (out.failure !== undefined) controlFailures.push(out.failure);
        }
      };
      await Promise.all(Array.from({ length: o.clients }, client));
      return next;
    };

    // Warm-up: every path once, so the idle picture already holds the code, caches and templates.
    await drive(Math.min(500, Math.max(200, o.clients * 2)), performance.now() + 60_000);
    await settle(port);
    await sleep(200);
    const idle = await snapshot();
    for (const k of Object.keys(byMode) as Mode[]) byMode[k] = 0;
    resets = 0;
    controlFailures.length = 0;
    const before = await serverMetrics(port);
    say(`idle: heap ${(idle.heapUsed / 2 ** 20).toFixed(1)} MiB, rss ${(idle.rss / 2 ** 20).toFixed(1)} MiB, resources ${JSON.stringify(idle.resources)}`);

    const t0 = performance.now();
    const progress = setInterval(() => say(`  ${Object.values(byMode).reduce((a, b) => a + b, 0)} requests after ${((performance.now() - t0) / 1000).toFixed(0)} s`), 10_000);
    // The queue is exercised: sample how many wait, twice a second.
    let maxWaiting = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxWaiting = Math.max(maxWaiting, (await serverMetrics(port)).waiting);
        await sleep(500);
      }
    })();
    let sent: number;
    try {
      sent = await drive(o.requests, t0 + o.timeLimitMs);
    } finally {
      clearInterval(progress);
      sampling = false;
      await sampler;
    }
    const durationMs = performance.now() - t0;
    const end = await settle(port);
    await sleep(200);
    const after = await snapshot();
    const leaked: Record<string, number> = {};
    for (const [type, n] of Object.entries(after.resources)) {
      const extra = n - (idle.resources[type] ?? 0);
      if (extra > 0) leaked[type] = extra;
    }
    const heapGrowth = after.heapUsed / idle.heapUsed - 1;
    const metrics = {
      running: end.running,
      waiting: end.waiting,
      aborted: end.aborted - before.aborted,
      admitted: end.admitted - before.admitted,
      finished: end.finished - before.finished,
      maxWaiting,
    };

    const shutdownAt = logs.length;
    await server.shutdown();
    server = undefined;
    const inFlight = /(\d+) requests? in flight/.exec(logs.slice(shutdownAt).join(''));
    const inFlightAtShutdown = inFlight ? Number(inFlight[1]) : undefined;
    const errorLogs = logs.filter((l) => / (ERROR|CRITICAL) /.test(l));

    const problems: string[] = [];
    if (sent < o.requests) problems.push(`only ${sent} of ${o.requests} requests within the time limit`);
    if (controlFailures.length) problems.push(`${controlFailures.length} control requests failed: ${controlFailures.slice(0, 3).join(' | ')}`);
    for (const type of ['Timeout', 'Immediate', 'TCPSocketWrap', 'TCPWRAP']) {
      if (leaked[type]) problems.push(`${leaked[type]} more ${type} than when idle`);
    }
    if (heapGrowth > 0.1) problems.push(`heap ${(heapGrowth * 100).toFixed(1)}% above idle after GC`);
    if (metrics.running !== 0 || metrics.waiting !== 0) problems.push(`still running ${metrics.running}, waiting ${metrics.waiting}`);
    if (metrics.aborted === 0) problems.push('no request was counted as aborted');
    if (inFlightAtShutdown !== undefined && inFlightAtShutdown !== 0) problems.push(`${inFlightAtShutdown} requests still in flight at shutdown`);
    if (uncaught.length) problems.push(`${uncaught.length} uncaught errors: ${uncaught[0]}`);
    if (errorLogs.length) problems.push(`${errorLogs.length} ERROR log lines: ${errorLogs[0]}`);
    return { options: o, sent, byMode, resets, durationMs, controlFailures, idle, after, leaked, heapGrowth, metrics, inFlightAtShutdown, uncaught, errorLogs, problems };
  } finally {
    await server?.close();
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUnhandled);
  }
}

export function summary(r: SoakReport): string {
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
  return [
    `soak: ${r.sent} requests in ${(r.durationMs / 1000).toFixed(1)} s (${((r.sent / r.durationMs) * 1000).toFixed(0)}/s), ` +
      `${r.options.clients} clients, max_concurrency ${r.options.maxConcurrency}, ttft ${r.options.ttft} ms, itl ${r.options.itl} ms, ${r.options.tokens} tokens`,
    `  by mode: ${JSON.stringify(r.byMode)}; ${r.resets} left with a reset (RST)`,
    `  server: ${r.metrics.finished} finished (${r.metrics.aborted} as aborted), ${r.metrics.admitted} admitted, up to ${r.metrics.maxWaiting} waiting in the queue; afterwards running ${r.metrics.running}, waiting ${r.metrics.waiting}`,
    `  idle  : heap ${mib(r.idle.heapUsed)}, rss ${mib(r.idle.rss)}, resources ${JSON.stringify(r.idle.resources)}`,
    `  after : heap ${mib(r.after.heapUsed)} (${r.heapGrowth >= 0 ? '+' : ''}${(r.heapGrowth * 100).toFixed(1)}%), rss ${mib(r.after.rss)}, resources ${JSON.stringify(r.after.resources)}`,
    `  in flight at shutdown: ${r.inFlightAtShutdown ?? 'not logged'}; uncaught errors: ${r.uncaught.length}; ERROR log lines: ${r.errorLogs.length}`,
    r.problems.length ? `  FAILED: ${r.problems.join('; ')}` : '  passed: nothing left behind',
  ].join('\n');
}

async function main(): Promise<void> {
  const requests = Number(process.env['SOAK_REQUESTS'] ?? SOAK_DEFAULTS.requests);
  const report = await runSoak({ requests, progress: (l) => console.log(l) });
  console.log(summary(report));
  process.exitCode = report.problems.length ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // The whole run is bounded: the time limit for sending, then at most a minute to settle and measure.
  setTimeout(() => {
    console.error('soak: watchdog: the run did not finish in time');
    process.exit(2);
  }, SOAK_DEFAULTS.timeLimitMs + 120_000).unref();
  await main();
}

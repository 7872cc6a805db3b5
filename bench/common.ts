// Shared by the load generator, the benchmark runner and the guard: the scenario and result shapes,
// percentiles, and readers of another process's CPU time and memory from /proc (Linux only).
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { PromptSpec } from './prompts.js';

/** One load run against one server. Times are milliseconds. */
export interface Scenario {
  /** Base URL, e.g. http://127.0.0.1:8000 (loopback only). */
  url: string;
  /** Concurrent streams (one connection each). */
  concurrency: number;
  /** Stop after this many measured requests in all... */
  requests?: number;
  /** ...or start no new request after this long (the measured phase). One of the two is required. */
  durationMs?: number;
  stream: boolean;
  max_tokens: number;
  ignore_eos: boolean;
  /** The latencies the server was set to, for early-token and drift checks. */
  ttft: number;
  itl: number;
  /** Unmeasured requests per connection before the measured phase (opens the connections). Default 1. */
  warmup?: number;
  /** Keep per-gap timing (ITL percentiles). Off for throughput runs, where gaps are meaningless. Default true. */
  timing?: boolean;
  /** The server's pid: its CPU time over the measured phase is read from /proc. */
  serverPid?: number;
  /** Memory probe: open `concurrency` streams once, sample the server's RSS while all are open, then abort them. */
  rss?: { holdMs: number };
  /** Hard limit for the whole run; outstanding requests are aborted and counted as failed. Default 120 s. */
  timeoutMs?: number;
  /** New prompts from the corpus on every request (bench/prompts.ts). Without it, one fixed prompt: */
  prompts?: PromptSpec;
  /** ...this user message (default: a fixed English passage), a prompt-cache hit after the first request. */
  prompt?: string;
  model?: string;
}

export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LoadResult {
  scenario: Scenario;
  /** Measured phase wall time. */
  wallMs: number;
  requests: { started: number; completed: number; failed: number; aborted: number };
  /** The first few failure reasons. */
  failures: string[];
  /** Output tokens (content frames) received in the measured phase, failed streams included. */
  tokens: number;
  tokensPerSec: number;
  requestsPerSec: number;
  /** Streaming: send → first content frame. Non-streaming: send → whole body. */
  ttftMs: Summary | null;
  latencyMs: Summary | null;
  /** Gaps between consecutive content frames of a stream (only with timing). */
  itlMs: Summary | null;
  /** Tokens (after the first of each stream) that arrived in the same network read as the previous token. */
  sameReadShare: number | null;
  /** Actual stream duration (send → last token) − planned (ttft + (n−1)·itl). */
  driftMs: Summary | null;
  /** Per stream: tokens / (send → last token). */
  streamTokensPerSec: Summary | null;
  /** Tokens k that arrived before send + ttft + k·itl. Must be 0. */
  earlyTokens: number;
  client: { cpuMs: number; cpuPercent: number };
  server: {
    cpuMs: number;
    cpuUsPerToken: number | null;
    cpuUsPerRequest: number | null;
    cpuPercent: number;
  } | null;
  /** What was sent: request bodies built, and corpus passages drawn (each at an offset and length of its own). */
  prompts: { kind: 'corpus' | 'fixed'; requests: number; passages: number };
  rss: {
    idleKb: number;
    openKb: number;
    openStreams: number;
    perStreamKb: number;
    samples: number[];
  } | null;
}

export const DEFAULT_MODEL = 'Qwen/Qwen3-0.6B';

/** Plain English, so the whitespace tokenizer and Qwen3's cut it into pieces of similar size. */
export const DEFAULT_PROMPT =
  'Benchmarks measure what they are given, so a mock server should answer every request the same way: ' +
  'the prompt comes back one token after another, the first one after a fixed delay and the others at a ' +
  'steady pace, whether one client is listening or a thousand of them are waiting for their answers at once.';

export function summarize(values: Float64Array | number[], count = values.length): Summary | null {
  if (count === 0) return null;
  const a = (values instanceof Float64Array ? values.slice(0, count) : Float64Array.from(values.slice(0, count))).sort();
  let sum = 0;
  for (let i = 0; i < count; i++) sum += a[i]!;
  const at = (q: number): number => a[Math.min(count - 1, Math.max(0, Math.ceil(q * count) - 1))]!;
  return { n: count, mean: sum / count, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: a[count - 1]! };
}

/** A growable Float64Array. */
export class Samples {
  data = new Float64Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }

  summary(): Summary | null {
    return summarize(this.data, this.length);
  }
}

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU time of a whole process (all its threads), in milliseconds. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after it start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / ticksPerSecond();
}

/** Resident set size of a process, in KiB. */
export function processRssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function median(values: number[]): number {
  const a = [...values].sort((x, y) => x - y);
  const mid = a.length >> 1;
  return a.length % 2 ? a[mid]! : (a[mid - 1]! + a[mid]!) / 2;
}

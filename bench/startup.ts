// npm run bench:startup: how long `mock-server --workers N` takes from spawn to its "listening on" line and to
// the first successful chat answer, for 1, 2 and 4 workers, and the CPU time all its processes used until
// listening (a figure that a busy machine disturbs far less than wall time); then, in a fresh process, where
// one process's start-up time goes. Starts are interleaved (1, 2, 4, 1, 2, 4, ...; with --against, this
// build and the other alternately) so that a change in the machine's load falls on all of them alike.
//
//   node dist/bench/startup.js [runs] [--against <checkout>]
//     runs       starts of each kind (default 5); the figure is the median
//     --against  another built checkout (e.g. of an earlier commit), measured in the same run for comparison
// The prepared tokenizer tables go to a fresh temporary folder, so the "first start" rows really are the first.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_MODEL, median, processCpuMs } from './common.js';
// bench/servers.js (and undici with it) is imported where it is used, so that it does not count in `--phases`.
type ServersModule = typeof import('./servers.js');

const WORKERS = [1, 2, 4] as const;

export interface StartupSample {
  build: string;
  workers: number;
  /** Spawn → the "listening on" line (every worker listening). */
  listeningMs: number;
  /** Spawn → the first chat completion read in full. */
  firstAnswerMs: number;
  /** CPU time (user + system) of the primary and its workers when the listening line came. */
  cpuMs: number;
}

/** The pids of a process's children (Linux). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** One start: spawn, wait for the listening line, one chat completion, stop. */
export async function startOnce(servers: ServersModule, build: string, workers: number): Promise<StartupSample> {
  const server = await servers.startServer('mock', { ttft: 0, itl: 0 }, 2, workers > 1 ? ['--workers', String(workers)] : []);
  try {
    const cpuMs = [server.pid, ...childrenOf(server.pid)].reduce((sum, pid) => sum + processCpuMs(pid), 0);
    await servers.firstCompletion(server.url);
    return { build, workers, listeningMs: server.listeningAt - server.spawnedAt, firstAnswerMs: performance.now() - server.spawnedAt, cpuMs };
  } finally {
    await server.stop();
  }
}

interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface StartupRow {
  build: string;
  workers: number;
  listening: Spread;
  firstAnswer: Spread;
  cpu: Spread;
  /** The very first start, with no prepared tables stored yet. */
  first: StartupSample;
}

function spread(xs: number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

/**
 * For each build and worker count: one first start (empty tables folder), then `runs` later starts, interleaved.
 * `tmp` is the folder given to the servers as TMPDIR.
 */
export async function startupScenario(
  builds: ReadonlyArray<{ name: string; servers: ServersModule }>,
  runs: number,
  tmp: string,
  log: (msg: string) => void = () => undefined,
): Promise<StartupRow[]> {
  const say = (s: StartupSample, what: string): void =>
    log(`${what}, ${s.build}, ${s.workers} worker${s.workers > 1 ? 's' : ''}: listening ${s.listeningMs.toFixed(0)} ms, first answer ${s.firstAnswerMs.toFixed(0)} ms, CPU ${s.cpuMs.toFixed(0)} ms`);
  const firsts: StartupSample[] = [];
  for (const w of WORKERS) {
    for (const b of builds) {
      // The servers inherit this process's environment: a fresh TMPDIR holds no prepared tables.
      const fresh = mkdtempSync(join(tmp, 'first-'));
      process.env['TMPDIR'] = fresh;
      const s = await startOnce(b.servers, b.name, w);
      say(s, 'first start');
      firsts.push(s);
      process.env['TMPDIR'] = tmp;
      rmSync(fresh, { recursive: true, force: true });
    }
  }
  process.env['TMPDIR'] = tmp;
  for (const b of builds) await startOnce(b.servers, b.name, 1); // stores the tables in `tmp`
  const samples: StartupSample[] = [];
  for (let i = 0; i < runs; i++) {
    for (const w of WORKERS) {
      for (const b of i % 2 === 0 ? builds : [...builds].reverse()) {
        const s = await startOnce(b.servers, b.name, w);
        say(s, `run ${i + 1}/${runs}`);
        samples.push(s);
      }
    }
  }
  return builds.flatMap((b) =>
    WORKERS.map((w) => {
      const mine = samples.filter((s) => s.workers === w && s.build === b.name);
      return {
        build: b.name,
        workers: w,
        listening: spread(mine.map((s) => s.listeningMs)),
        firstAnswer: spread(mine.map((s) => s.firstAnswerMs)),
        cpu: spread(mine.map((s) => s.cpuMs)),
        first: firsts.find((s) => s.workers === w && s.build === b.name)!,
      };
    }),
  );
}

// ---- where one process's start-up goes --------------------------------------------------------------------

const SELF = fileURLToPath(import.meta.url);

/**
 * Runs in a fresh process (`--phases`): the time node takes to reach this script, each heavy import in the
 * order the server needs it, the tokenizer load (its own log line names its phases), and the rest of serve().
 */
async function phases(): Promise<void> {
  const out: Array<[string, number]> = [['node boot to the first line of the script', performance.now()]];
  let t = performance.now();
  const lap = (what: string): void => {
    const now = performance.now();
    out.push([what, now - t]);
    t = now;
  };
  // What a start imports before its first answer; the hub client, prom-client, the YAML parser and the rare
  // endpoints' modules load later, when first needed.
  const { contract } = await import('../src/contract.js');
  const { defaultSettings, validateSettings } = await import('../src/settings.js');
  lap('import the settings modules (src/)');
  const settings = validateSettings({ ...defaultSettings(), port: 0, host: '127.0.0.1', log_level: 'DEBUG' }, (s) => s.name);
  contract();
  lap('the contract and the settings check (prepared by the build)');
  await import('@huggingface/tokenizers');
  lap('import @huggingface/tokenizers');
  await import('@huggingface/jinja');
  lap('import @huggingface/jinja');
  await import('koa');
  lap('import koa');
  await import('openapi-backend');
  lap('import openapi-backend (with ajv, lodash)');
  const { serve } = await import('../src/index.js');
  await import('../src/app.js');
  lap('import the server modules (src/)');
  const lines: string[] = [];
  const server = await serve(settings, { logWriter: (l) => void lines.push(l) });
  lap('serve(): tokenizer and app (validators), then listen');
  await chatOnce(server.url);
  lap('first chat completion (node:http client)');
  await server.close();
  const tokenizerLine = lines.find((l) => l.includes('loaded from'))?.trim() ?? '(no tokenizer line)';
  process.stdout.write(`${JSON.stringify({ phases: out, tokenizerLine, appLine: lines.find((l) => l.includes('app built'))?.trim() })}\n`);
}

/** One chat completion over node:http, which is loaded already (undici would add its own import). */
function chatOnce(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ model: DEFAULT_MODEL, messages: [{ role: 'user', content: 'Hello there, how are you?' }], max_tokens: 8 });
    const req = request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface PhaseReport {
  phases: Array<[string, number]>;
  tokenizerLine: string;
  appLine?: string;
}

function runPhases(env: NodeJS.ProcessEnv): Promise<PhaseReport> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [SELF, '--phases'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    proc.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as PhaseReport) : reject(new Error(`--phases exited with ${code}`))));
  });
}

function table(rows: StartupRow[]): string {
  const f = (s: Spread): string => `${s.median.toFixed(0)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;
  return [
    '| build | workers | spawn → listening, ms | spawn → first chat answer, ms | CPU until listening, ms | first start ever: listening, ms |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.build} | ${r.workers} | ${f(r.listening)} | ${f(r.firstAnswer)} | ${f(r.cpu)} | ${r.first.listeningMs.toFixed(0)} |`),
  ].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--against');
  const against = at >= 0 ? resolve(args[at + 1] ?? '') : undefined;
  const runs = Number(args.find((a, i) => /^\d+$/.test(a) && i !== at + 1) ?? 5);
  const log = (msg: string): void => void process.stderr.write(`[startup] ${msg}\n`);
  const servers = await import('./servers.js');
  servers.installCleanup();
  const builds: Array<{ name: string; servers: ServersModule }> = [{ name: 'this build', servers }];
  if (against) {
    // The other checkout's own bench/servers.js starts its own dist/src/cli.js.
    const other = (await import(pathToFileURL(join(against, 'dist', 'bench', 'servers.js')).href)) as ServersModule;
    other.installCleanup();
    builds.push({ name: against, servers: other });
  }
  const tmp = mkdtempSync(join(os.tmpdir(), 'mock-startup-'));
  try {
    const loadBefore = os.loadavg();
    const cold = await runPhases({ ...process.env, TMPDIR: tmp });
    const warm = await runPhases({ ...process.env, TMPDIR: tmp });
    const rows = await startupScenario(builds, runs, tmp, log);
    const loadAfter = os.loadavg();
    const phaseTable = [
      '| phase (one process, fresh node) | first start, ms | later start, ms |',
      '|---|---:|---:|',
      ...cold.phases.map(([what, ms], i) => `| ${what} | ${ms.toFixed(0)} | ${(warm.phases[i]?.[1] ?? NaN).toFixed(0)} |`),
    ].join('\n');
    process.stdout.write(
      [
        `Start-up, ${runs} runs each (medians, min–max), ${os.cpus().length} CPUs, node ${process.version}; load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')}`,
        '',
        table(rows),
        '',
        phaseTable,
        '',
        `first start: ${cold.tokenizerLine}`,
        `later start: ${warm.tokenizerLine}`,
        `app (contract, openapi-backend, validators): first start ${cold.appLine ?? '?'}; later start ${warm.appLine ?? '?'}`,
        '',
      ].join('\n'),
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--phases') {
  phases().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
} else if (process.argv[1] === SELF) {
  main().catch((err: unknown) => {
    process.stderr.write(`startup: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

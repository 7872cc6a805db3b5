// Starts the real server as a child process on a random port, as a user would run it.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { after, before } from 'node:test';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../../../dist/src/cli.js', import.meta.url));

export interface RunningServer {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Everything the server wrote to stderr so far. */
  logs(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServer(args: string[] = [], env: Record<string, string> = {}): Promise<RunningServer> {
  const proc = spawn(process.execPath, [CLI, '--port', '0', '--host', '127.0.0.1', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (log += d));
  const port = await new Promise<number>((resolve, reject) => {
    // How long a start-up may take is not under test (bench/startup measures it): a loaded machine can take tens of seconds.
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 120_000);
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
      log += d;
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${log}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    proc,
    logs: () => log,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill(signal);
      const [code] = (await once(proc, 'exit')) as [number | null];
      return code;
    },
  };
}

/** The server of a suite: its URL, and the OpenAI-style base URL clients take. */
export interface SuiteServer {
  readonly url: string;
  /** `url` + `/v1`. */
  readonly baseURL: string;
}

/**
 * A server for the tests of the enclosing describe (or file), answering at once (ttft and itl 0) unless `args`
 * say otherwise: started before them, stopped after. With `when` false (tests that skip) none is started.
 */
export function suiteServer(args: string[] = ['--ttft', '0', '--itl', '0'], when = true): SuiteServer {
  let server: RunningServer | undefined;
  before(async () => {
    if (when) server = await startServer(args);
  });
  after(async () => {
    await server?.stop();
  });
  const url = (): string => {
    if (!server) throw new Error('the suite server is not running');
    return server.url;
  };
  return {
    get url() {
      return url();
    },
    get baseURL() {
      return `${url()}/v1`;
    },
  };
}

/** Runs the CLI to completion (for --help and bad settings) and returns its exit code and output. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 120_000);
  const [code] = (await once(proc, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

export interface SseEvent {
  /** The text after `data: `. */
  data: string;
  /** The event's name from an `event: ` line before its data (OpenAI's image and Responses streams), if any. */
  event?: string;
  /** performance.now() when the read that carried it arrived. */
  at: number;
  /** Index of the network read that carried it (events in the same read share it). */
  read: number;
}

/** Reads an SSE body to its end, checking the framing: every event is exactly `data: ...\n\n`, or `event: name\ndata: ...\n\n`. */
export async function readSse(res: Response): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  let read = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const at = performance.now();
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const named = /^event: ([^\n]+)\n(data: [^\n]*)$/.exec(block);
      const data = named ? named[2]! : block;
      if (!data.startsWith('data: ') || data.includes('\n')) throw new Error(`bad SSE frame: ${JSON.stringify(block)}`);
      events.push(named ? { data: data.slice(6), event: named[1]!, at, read } : { data: data.slice(6), at, read });
    }
    read++;
  }
  if (buffer !== '') throw new Error(`SSE body ends mid-frame: ${JSON.stringify(buffer)}`);
  return events;
}

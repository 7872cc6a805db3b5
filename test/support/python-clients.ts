// OpenAI's and Anthropic's Python SDKs (pinned in test/python-clients/requirements.txt, installed into .venv-clients
// by .ci/clients-venv.sh) as real clients: a test runs one script of test/python-clients/ against a running server
// and reads the JSON it prints. Outside CI a missing venv skips those tests; in CI it fails them.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './server.js';

const VENV = join(ROOT, '.venv-clients');
const PYTHON = join(VENV, 'bin', 'python');

/** Why the Python clients' tests are skipped here, or false to run them (always in CI, where a missing venv fails). */
export function pythonClientsSkip(): string | false {
  if (process.env.CI || (existsSync(PYTHON) && existsSync(join(VENV, '.stamp')))) return false;
  return `the Python clients are not installed in ${VENV}: run .ci/clients-venv.sh`;
}

export interface PythonRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs test/python-clients/<script> with `args`; the server's URL is usually the first. */
export async function runPython(script: string, args: readonly string[], timeoutMs = 60_000): Promise<PythonRun> {
  const proc = spawn(PYTHON, [join(ROOT, 'test', 'python-clients', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  try {
    const [code] = (await once(proc, 'exit')) as [number | null];
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** The JSON the script printed last, failing with its stderr when it did not end well. */
export async function pythonJson<T>(script: string, args: readonly string[], timeoutMs?: number): Promise<T> {
  const run = await runPython(script, args, timeoutMs);
  if (run.code !== 0) throw new Error(`${script} exited with ${run.code}:\n${run.stderr}`);
  const lines = run.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

// Runs the performance regression guard (bench/guard.ts) as a child process: it starts the built mock
// server and the bare reference server, loads both at 64 streams and exits non-zero on a gross regression
// (ITL or TTFT p99 over its limit times the reference's, an early token, a failed stream), first with a new
// corpus prompt on every request, as real benchmark traffic has, then with the cached fixed prompt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const GUARD = fileURLToPath(new URL('../bench/guard.js', import.meta.url));

test('bench:guard passes on new prompts and on the cache hit (timing fidelity near the bare reference, nothing early, nothing failed)', { timeout: 120_000 }, async () => {
  const proc = spawn(process.execPath, [GUARD], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 110_000);
  try {
    const [code] = (await once(proc, 'exit')) as [number | null];
    assert.equal(code, 0, `bench:guard exited with ${code}:\n${output}`);
    // Both servers were sent real traffic: as many new corpus passages as requests, not one cached prompt.
    const prompts = [...output.matchAll(/prompts: (\d+) requests, (\d+) corpus passages/g)];
    assert.ok(prompts.length >= 2 && /^new prompts, attempt 1\n.*corpus passages\n.*corpus passages$/m.test(output), `the guard did not send new prompts to both servers:\n${output}`);
    for (const [, requests, passages] of prompts) {
      assert.ok(Number(requests) > 0 && Number(passages) >= Number(requests), `${requests} requests, ${passages} new prompts:\n${output}`);
    }
  } finally {
    clearTimeout(timer);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
});

// Runs the README's Vitest example (test/examples/mock-server.spec.ts) under a given Vitest, from its TypeScript
// source, as a user would: the root's Vitest on Node 20 (test/readme.test.ts) and Vitest 5 on Node 24
// (test/current-clients). Vitest resolves the example's `import ... from 'vitest'` to the Vitest that runs it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { ROOT } from './server.js';

/** Runs `vitest run` on the example with the Node that runs this process; fails unless its 2 tests pass. */
export async function runVitestExample(vitestEntry: string): Promise<string> {
  const proc = spawn(process.execPath, [vitestEntry, 'run', '--root', ROOT, 'test/examples/mock-server.spec.ts'], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const [code] = (await once(proc, 'exit')) as [number | null];
  assert.equal(code, 0, out);
  assert.match(out, /Tests\s+2 passed \(2\)/, out);
  return out;
}

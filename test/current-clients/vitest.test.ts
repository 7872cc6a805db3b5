// The README's Vitest example (test/examples/mock-server.spec.ts) under Vitest 5, as test/readme.test.ts runs it
// under the project's Vitest 3 on Node 20.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runVitestExample } from '../../dist/test/support/vitest-example.js';

test('the README Vitest example passes under Vitest 5', { timeout: 120_000 }, async () => {
  const manifest = createRequire(import.meta.url).resolve('vitest/package.json');
  const out = await runVitestExample(join(dirname(manifest), 'vitest.mjs'));
  assert.match(out, /RUN {2}v5\./, 'Vitest 5 ran it');
});

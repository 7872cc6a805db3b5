// The README's test examples are real: each ```ts block that starts with `// <file>: ` is test/examples/<file>,
// character for character. The node:test one runs with the suite (dist/test/examples/*.test.js); the Vitest
// one runs here, under Vitest itself, from its TypeScript source (and under Vitest 5 in test/current-clients).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './support/server.js';
import { runVitestExample } from './support/vitest-example.js';

/** The README's example files: name → the block's text. */
function readmeExamples(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const found = new Map<string, string>();
  for (const m of readme.matchAll(/```ts\n(\/\/ (\S+): [^\n]*\n[\s\S]*?)```/g)) found.set(m[2]!, m[1]!);
  return found;
}

test('the README shows the node:test and Vitest examples exactly as test/examples holds them', () => {
  const examples = readmeExamples();
  assert.deepEqual([...examples.keys()].sort(), ['mock-server.spec.ts', 'mock-server.test.ts']);
  for (const [name, text] of examples) {
    assert.equal(text, readFileSync(join(ROOT, 'test', 'examples', name), 'utf8'), `README block ${name}`);
  }
  assert.ok(existsSync(join(ROOT, 'dist', 'test', 'examples', 'mock-server.test.js')), 'the node:test example is built, so the suite runs it');
});

test('the Vitest example passes under `vitest run`', { timeout: 120_000 }, async () => {
  const out = await runVitestExample(join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'));
  assert.match(out, /RUN {2}v3\./, 'the root Vitest (3) ran it');
});

test('the README lists every setting (flag and variable in its table), every alias, shortcut and endpoint', async () => {
  const { SETTINGS, ALIASES, SHORTCUTS, aliasEnv } = await import('../src/settings.js');
  const { contract } = await import('../src/contract.js');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const lines = readme.split('\n');
  for (const s of SETTINGS) {
    const row = lines.find((l) => l.startsWith(`| ${s.name} |`));
    assert.ok(row, `a settings table row for ${s.name}`);
    assert.ok(row.includes(`\`--${s.flag}\``) && row.includes(`\`${s.env}\``), `the row of ${s.name} names --${s.flag} and ${s.env}`);
  }
  for (const flag of Object.keys(ALIASES)) assert.ok(readme.includes(`\`--${flag}\``) && readme.includes(aliasEnv(flag)), `alias --${flag}`);
  for (const s of SHORTCUTS) assert.ok(readme.includes(`--${s.flag}\``) && readme.includes(s.env), `shortcut --${s.flag}`);
  for (const path of Object.keys(contract().paths)) {
    // A templated path is shown with a value (/dcgm1/metrics) or as the template itself.
    const shown = new RegExp(`[\`\\s]${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^`/ ]+')}[\`\\s?,)]`);
    assert.match(readme, shown, `the README shows ${path}`);
  }
});

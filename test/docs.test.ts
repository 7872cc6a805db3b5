// The docs site: GET /docs in a real browser (Debian's chromium, driven by playwright-core) with every request
// that is not to 127.0.0.1 refused. Redoc must render and work from the page alone: each tag of the contract
// opens in the sidebar, and each operation, chosen there, shows its summary as a heading.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { contract } from '../src/contract.js';
import { docsPagePath } from '../src/handlers/getDocs.js';
import { startServer, type RunningServer } from './support/server.js';

const CHROMIUM = '/usr/bin/chromium';
// On a developer's machine without Chromium the browser test is skipped; in CI (.ci/run installs it) it must run.
const SKIP = !existsSync(CHROMIUM) && !process.env['CI'] ? `no ${CHROMIUM}: install it with \`apt-get install chromium\` to run this test` : false;

interface Operation {
  tag: string;
  summary: string;
  operationId: string;
}

function operations(): Operation[] {
  return Object.values(contract().paths).flatMap((ops) =>
    Object.values(ops).map((op) => {
      const { tags, summary, operationId } = op as { tags?: string[]; summary?: string; operationId: string };
      assert.ok(tags?.[0] && summary, `${operationId} needs a tag and a summary to be found in the docs`);
      return { tag: tags[0], summary, operationId };
    }),
  );
}

test('the built page is one self-contained file that names no other host for scripts, styles or fonts', () => {
  const html = readFileSync(docsPagePath, 'utf8');
  assert.ok(!/<script[^>]+\bsrc=/i.test(html), 'no external script');
  assert.ok(!/<link[^>]+\bhref=["']?https?:/i.test(html), 'no external stylesheet, preload or font');
  assert.match(html, /<meta http-equiv="Content-Security-Policy"/);
  assert.match(html, /hydrate\(__redoc_definition/, "Redoc's own script is inlined");
});

describe('GET /docs in a browser, offline', { skip: SKIP, timeout: 120_000 }, () => {
  let server: RunningServer;
  let context: BrowserContext;
  let profile: string;
  const refused: string[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    server = await startServer(['--ttft', '0', '--itl', '0']);
    profile = await mkdtemp(join(tmpdir(), 'docs-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
    });
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') return route.continue();
      refused.push(url.href);
      return route.abort('blockedbyclient');
    });
  });
  after(async () => {
    await context?.close();
    await server?.stop();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  test('every operation of the contract is on the page, found through the sidebar', async () => {
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    const res = await page.goto(`${server.url}/docs`, { waitUntil: 'load' });
    assert.equal(res?.status(), 200);
    assert.match(res?.headers()['content-type'] ?? '', /^text\/html/);
    await page.getByRole('heading', { level: 1, name: new RegExp(`^${contract().info.title}`) }).waitFor();

    const menu = page.locator('[data-component-name="Menu/Menu"]');
    const byTag = new Map<string, Operation[]>();
    for (const op of operations()) byTag.set(op.tag, [...(byTag.get(op.tag) ?? []), op]);
    for (const [tag, ops] of byTag) {
      // A tag opens only when Redoc's script runs: the server-rendered HTML alone would not react.
      await menu.getByText(tag, { exact: true }).first().click();
      for (const op of ops) {
        await menu.getByText(op.summary, { exact: true }).click({ timeout: 10_000 });
        // The heading's text is the summary (its accessible name adds the anchor link's label).
        const heading = page.locator('h1, h2, h3', { hasText: new RegExp(`^${op.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) });
        await heading.first().waitFor({ state: 'visible', timeout: 10_000 });
        assert.match(page.url(), new RegExp(`#/${tag.toLowerCase()}/${op.operationId.toLowerCase()}$`));
      }
    }
    assert.deepEqual(pageErrors, [], 'no script errors');
    assert.deepEqual(refused, [], 'the page asked for nothing beyond 127.0.0.1');
  });
});

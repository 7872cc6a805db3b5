// The docs site: GET /docs in a real browser (Debian's chromium, driven by playwright-core) with every request
// that is not to 127.0.0.1 refused. Redoc must render and work from the page alone: each tag of the contract
// opens in the sidebar, and each operation, chosen there, shows its summary as a heading. The page, and the
// contract served as JSON and YAML, name the origin they were served from as the server, whatever the Host header.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { contract, contractPath } from '../src/contract.js';
import { docsPagePath } from '../src/handlers/getDocs.js';
import { startServer, type RunningServer } from './support/server.js';

const CHROMIUM = '/usr/bin/chromium';
// On a developer's machine without Chromium the browser test is skipped; in CI (.ci/run installs it) it must run.
const SKIP = !existsSync(CHROMIUM) && !process.env['CI'] ? `no ${CHROMIUM}: install it with \`apt-get install chromium\` to run this test` : false;

interface Operation {
  tag: string;
  summary: string;
  operationId: string;
  path: string;
}

function operations(): Operation[] {
  return Object.entries(contract().paths).flatMap(([path, ops]) =>
    Object.values(ops).map((op) => {
      const { tags, summary, operationId } = op as { tags?: string[]; summary?: string; operationId: string };
      assert.ok(tags?.[0] && summary, `${operationId} needs a tag and a summary to be found in the docs`);
      return { tag: tags[0], summary, operationId, path };
    }),
  );
}

test('the built page is one self-contained file that names no other host for scripts, styles, fonts or images', () => {
  const html = readFileSync(docsPagePath, 'utf8');
  assert.ok(!/<script[^>]+\bsrc=/i.test(html), 'no external script');
  assert.ok(!/<link[^>]+\bhref=["']?https?:/i.test(html), 'no external stylesheet, preload, icon or font');
  assert.ok(!/<img[^>]+\bsrc=["']?https?:/i.test(html), 'no external image in the prerendered page');
  assert.ok(!/url\(\s*["']?(?:https?:)?\/\//i.test(html), 'no style (font, background) from another host');
  assert.match(html, /<meta http-equiv="Content-Security-Policy"/);
  assert.match(html, /hydrate\(__redoc_definition/, "Redoc's own script is inlined");
  assert.ok(!/"servers":\[\{"url":"[a-z]+:/i.test(html), 'the server is named by a relative URL, not a fixed address');
});

/** A GET with a Host header of our choosing (fetch would not send one that is not the URL's). */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject).end();
  });
}

let server: RunningServer;
before(async () => {
  server = await startServer(['--ttft', '0', '--itl', '0']);
});
after(async () => {
  await server?.stop();
});

const serversOf = (doc: unknown): Array<{ url: string }> => (doc as { servers: Array<{ url: string }> }).servers;

describe('the contract served as JSON and YAML names the server it came from', () => {
  test('/openapi.json and /openapi.yaml: servers[0] is the origin the request was addressed to', async () => {
    const json: unknown = await (await fetch(`${server.url}/openapi.json`)).json();
    assert.equal(serversOf(json)[0]?.url, server.url);
    const yamlText = await (await fetch(`${server.url}/openapi.yaml`)).text();
    assert.equal(serversOf(parse(yamlText))[0]?.url, server.url);

    // The name the client used, not the address the server bound: a tool reads it back the way it came.
    const byName = await getWithHost(`${server.url}/openapi.json`, `localhost:${server.port}`);
    assert.equal(serversOf(JSON.parse(byName.body))[0]?.url, `http://localhost:${server.port}`);

    // Only the servers change: the rest is the contract as written (the YAML byte for byte around the url).
    const file = readFileSync(contractPath, 'utf8');
    const { servers: _served, ...rest } = json as Record<string, unknown>;
    const { servers: _written, ...written } = contract() as unknown as Record<string, unknown>;
    assert.deepEqual(rest, written);
    assert.equal(yamlText.replace(`"${server.url}"`, serversOf(parse(file))[0]!.url), file);
  });

  test('a Host that is not host[:port] is never echoed: /docs is the same page, the contract stays relative', async () => {
    const page = await getWithHost(`${server.url}/docs`, `127.0.0.1:${server.port}`);
    assert.equal(page.status, 200);
    for (const host of [
      '"><script>alert(1)</script>',
      '127.0.0.1:1/</script><script>alert(1)</script>',
      "x' onerror='alert(1)",
      'evil.example/path?q=<b>',
      'two words.example',
      'example.com:99999',
      'user@example.com',
    ]) {
      const docs = await getWithHost(`${server.url}/docs`, host);
      assert.equal(docs.status, 200, host);
      assert.ok(docs.body === page.body, `/docs does not depend on Host: ${host}`);
      for (const path of ['/openapi.json', '/openapi.yaml']) {
        const res = await getWithHost(`${server.url}${path}`, host);
        assert.equal(res.status, 200, `${path} with Host ${host}`);
        assert.ok(!res.body.includes(host), `${path} does not echo Host ${host}`);
        const doc: unknown = path.endsWith('.json') ? JSON.parse(res.body) : parse(res.body);
        assert.equal(serversOf(doc)[0]?.url, '/', `${path} with Host ${host}`);
      }
    }
  });
});

describe('GET /docs in a browser, offline', { skip: SKIP, timeout: 120_000 }, () => {
  let context: BrowserContext;
  let profile: string;
  const refused: string[] = [];
  const pageErrors: string[] = [];

  before(async () => {
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
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  /** How Redoc turns a tag or an operationId into its part of a page anchor ("AIPerf fixtures" → aiperf-fixtures). */
  const slug = (text: string): string =>
    text
      .toLowerCase()
      .replace(/\s+/g, '-')
      .replace(/&/g, '-and-')
      .replace(/[^\w-]+/g, '')
      .replace(/--+/g, '-')
      .replace(/^-+|-+$/g, '');

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
        const entry = menu.getByText(op.summary, { exact: true });
        await entry.click({ timeout: 10_000 });
        // The heading's text is the summary (its accessible name adds the anchor link's label).
        const heading = page.locator('h1, h2, h3', { hasText: new RegExp(`^${op.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) });
        await heading.first().waitFor({ state: 'visible', timeout: 10_000 });
        // Redoc sets the anchor after it scrolls, which a busy machine can leave behind the heading, or miss
        // when the click lands while the tag's section is still opening: a user would click again, and so does this.
        const anchor = new RegExp(`#/${slug(tag)}/${slug(op.operationId)}$`);
        for (let tries = 0; tries < 3 && !anchor.test(page.url()); tries++) {
          if (tries > 0) await entry.click({ timeout: 10_000 });
          for (const until = Date.now() + 5_000; !anchor.test(page.url()) && Date.now() < until; ) await sleep(50);
        }
        assert.match(page.url(), anchor);
      }
    }
    assert.deepEqual(pageErrors, [], 'no script errors');
    assert.deepEqual(refused, [], 'the page asked for nothing beyond 127.0.0.1');
  });

  test('the page names the origin that served it, and loads nothing from elsewhere: no broken image, no failed load', async () => {
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    const failed: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && consoleErrors.push(m.text())));
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
    // Idle once Redoc's script has hydrated the page and drawn the footer's logo (or failed to).
    await page.goto(`${server.url}/docs`, { waitUntil: 'networkidle' });

    // The overview's server panel: the origin, not the relative "/" of openapi.yaml nor a fixed address.
    const panel = await page.locator('[data-testid="panel-servers"]').innerText();
    const lines = panel.split('\n').map((l) => l.trim());
    assert.ok(lines.includes(server.url) && !lines.includes('/'), `the servers panel names ${server.url}: ${lines.join(' | ')}`);

    // An operation's endpoint menu lists the full URL a request would go to.
    const chat = operations().find((op) => op.operationId === 'createChatCompletion')!;
    const menu = page.locator('[data-component-name="Menu/Menu"]');
    await menu.getByText(chat.tag, { exact: true }).first().click();
    await menu.getByText(chat.summary, { exact: true }).click();
    await page.locator('[data-testid="right-panel"] button[aria-haspopup="menu"]', { hasText: chat.path }).first().click();
    await page.getByText(`${server.url}${chat.path}`, { exact: true }).waitFor({ timeout: 10_000 });

    // The collapsed sidebar draws the footer's other (small) logo.
    await page.getByRole('button', { name: 'Hide sidebar' }).click();
    await page.getByRole('button', { name: 'Show sidebar' }).waitFor();
    // (Functions that run in the page are given as text: this project compiles without the DOM's types.)
    await page.waitForFunction('[...document.images].every((img) => img.complete)');
    const images = (await page.evaluate(
      '[...document.images].map((img) => ({ src: img.currentSrc.slice(0, 60), width: img.naturalWidth }))',
    )) as Array<{ src: string; width: number }>;
    assert.ok(images.length > 0, 'the footer logo is there');
    for (const img of images) assert.ok(img.width > 0, `a broken image: ${img.src}`);

    // Everything the page loaded came from the origin or from itself (data: URLs are not resource entries).
    const loaded = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
    for (const url of loaded) assert.equal(new URL(url).origin, server.url, `loaded from elsewhere: ${url}`);
    const fonts = (await page.evaluate('[...document.fonts].map((f) => `${f.family}: ${f.status}`)')) as string[];
    assert.ok(!fonts.some((f) => f.endsWith(': error')), `a font failed: ${fonts.join(', ')}`);

    assert.deepEqual(failed, [], 'no request failed (a refused or a Content-Security-Policy-blocked load shows here)');
    assert.deepEqual(consoleErrors, [], 'nothing logged as an error');
    assert.deepEqual(pageErrors, [], 'no script errors');
    assert.deepEqual(refused, [], 'the page asked for nothing beyond 127.0.0.1');
    await page.close();
  });
});

// Download progress: the real server, started with a model that only the hub has (a local stand-in for it,
// test/support/hub-server.ts), logs one line per downloaded file on a stderr that is not a terminal; on a
// terminal the same wrapper redraws one live line while the bytes come in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qwen3Files, startFakeHub } from './support/hub-server.js';
import { startServer } from './support/server.js';
import { withDownloadProgress } from '../src/model/progress.js';
import type { Logger } from '../src/log.js';

const TINY = 'test-org/tiny-model';

test('a download at start-up logs one line per file, with its bytes, when stderr is not a terminal', { timeout: 60_000 }, async (t) => {
  const files = qwen3Files();
  const hub = await startFakeHub({ [TINY]: { files, lfs: ['tokenizer.json'] } });
  const cache = await mkdtemp(join(tmpdir(), 'progress-cache-'));
  t.after(async () => {
    await hub.close();
    await rm(cache, { recursive: true, force: true });
  });
  const server = await startServer(['-m', TINY, '--ttft', '0', '--itl', '0'], { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '0' });
  t.after(() => server.stop());
  const logs = server.logs();
  assert.ok(!logs.includes('\r'), 'no live progress line on a pipe');
  for (const [file, content] of Object.entries(files)) {
    const lines = logs.split('\n').filter((l) => l.includes(`fetched ${TINY}/${file} from the hub:`));
    assert.equal(lines.length, 1, `one line for ${file}:\n${logs}`);
    assert.match(lines[0]!, new RegExp(`\\(${content.length} bytes\\) in \\d+ ms$`));
  }
  // A file the repository does not have (chat_template.jinja) is not a download.
  assert.ok(!/fetched \S+chat_template\.jinja/.test(logs), logs);

  // Once cached, a second start downloads nothing and logs no progress.
  const again = await startServer(['-m', TINY], { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '0' });
  t.after(() => again.stop());
  assert.ok(!again.logs().includes('fetched '), again.logs());
});

test('on a terminal, one live line shows the file and its bytes, then the log line replaces it', { timeout: 30_000 }, async (t) => {
  const parts = [Buffer.alloc(3000, 1), Buffer.alloc(3000, 2), Buffer.alloc(4000, 3)];
  const size = parts.reduce((n, p) => n + p.length, 0);
  // A file server that sends the body in three parts 150 ms apart, so the line is redrawn while it comes in.
  const files = createServer((req, res) => {
    if (req.headers.range === 'bytes=0-0') {
      res.writeHead(206, { 'content-type': 'application/octet-stream', 'content-range': `bytes 0-0/${size}`, 'content-length': 1 });
      res.end(parts[0]!.subarray(0, 1));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    let i = 0;
    const next = (): void => {
      if (i === parts.length) return void res.end();
      res.write(parts[i++]);
      setTimeout(next, 150);
    };
    next();
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        files.close(() => resolve());
        files.closeAllConnections();
      }),
  );
  const url = `http://127.0.0.1:${(files.address() as AddressInfo).port}/file.bin`;

  const screen: string[] = [];
  const lines: string[] = [];
  const log: Logger = { debug: () => {}, info: (m) => void lines.push(m), warn: () => {}, error: () => {}, enabled: () => true };
  const body = await withDownloadProgress(
    log,
    'org/model/file.bin',
    async (fetch) => {
      await (await fetch(url, { headers: { Range: 'bytes=0-0' } })).arrayBuffer();
      return Buffer.from(await (await fetch(url)).arrayBuffer());
    },
    { isTTY: true, columns: 120, write: (s: string) => void screen.push(s) },
  );
  assert.equal(body.length, size, 'the body passes through whole');
  const drawn = screen.filter((s) => s.startsWith('\r\x1b[Kdownloading '));
  assert.ok(drawn.length >= 2, `redrawn while the bytes come in: ${JSON.stringify(screen)}`);
  assert.ok(drawn.every((s) => s.includes('org/model/file.bin') && s.includes('/ 10.0 kB')), JSON.stringify(drawn));
  assert.match(drawn.at(-1)!, /10\.0 kB \/ 10\.0 kB 100%$/);
  assert.equal(screen.at(-1), '\r\x1b[K', 'the live line is cleared at the end');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^fetched org\/model\/file\.bin from the hub: 10\.0 kB \(10000 bytes\) in \d+ ms$/);
});

test('a failed download clears the live line and logs nothing', async () => {
  const screen: string[] = [];
  const lines: string[] = [];
  const log: Logger = { debug: () => {}, info: (m) => void lines.push(m), warn: () => {}, error: () => {}, enabled: () => true };
  await assert.rejects(
    withDownloadProgress(log, 'org/model/missing.json', async () => Promise.reject(new Error('404')), { isTTY: true, write: (s: string) => void screen.push(s) }),
    /404/,
  );
  assert.deepEqual(lines, []);
  assert.deepEqual(screen, []);
});

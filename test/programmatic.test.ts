// startMockServer(): every setting is a typed option; close() ends streams in flight and frees the port; the
// process has nothing left running after close(); `workers` > 1 runs the workers in a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { SettingError, startMockServer, type MockServerOptions } from '../src/index.js';
import { defaultSettings } from '../src/settings.js';
import { postJson } from './support/server.js';
import type { HealthBody, Settings } from '../src/types.js';

// Type-level: every setting is an option of the same type (this file fails to compile otherwise).
type Missing = Exclude<keyof Settings, keyof MockServerOptions>;
const noneMissing: [Missing] extends [never] ? true : false = true;
const sameTypes: Settings extends MockServerOptions ? true : false = true;

const slowStream = (url: string): Promise<Response> =>
  postJson(`${url}/v1/chat/completions`, {
    model: 'Qwen/Qwen3-0.6B',
    messages: [{ role: 'user', content: 'tick' }],
    max_tokens: 1000,
    ignore_eos: true,
    stream: true,
  });

/** Resolves when something can listen on the port again. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

test('every setting is a typed option, validated like the command line', async () => {
  assert.ok(noneMissing && sameTypes);
  const given: Settings = {
    ...defaultSettings(),
    port: 0,
    host: '127.0.0.1',
    ttft: 1.5,
    itl: 0.25,
    log_level: 'DEBUG',
    access_logs: true,
    reasoning_tokens: 3,
    reasoning_field: 'reasoning',
  };
  const lines: string[] = [];
  const server = await startMockServer({ ...given, logWriter: (l) => void lines.push(l) });
  try {
    assert.deepEqual({ ...server.settings }, given);
    const health = (await (await fetch(`${server.url}/health`)).json()) as HealthBody;
    assert.deepEqual(health.settings, given, 'the server runs with them');
    assert.ok(lines.some((l) => l.includes('GET /health 200')), 'the log writer gets the access log');
  } finally {
    await server.close();
  }
  await assert.rejects(startMockServer({ ttft: -1 }), (e: unknown) => e instanceof SettingError && e.setting === 'ttft');
  await assert.rejects(startMockServer({ log_level: 'LOUD' as Settings['log_level'] }), SettingError);
});

test('close() ends a stream in flight at once and frees the port for reuse', { timeout: 30_000 }, async () => {
  const server = await startMockServer({ ttft: 0, itl: 200 });
  const port = server.port;
  const res = await slowStream(server.url);
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  assert.ok(!(await reader.read()).done, 'the first chunk came');

  const t0 = performance.now();
  await Promise.all([server.close(), server.close()]);
  // 1000 tokens 200 ms apart would take minutes; the stream must end now (the client sees the connection close).
  const ended = await (async () => {
    for (;;) {
      const r = await reader.read();
      if (r.done) return 'done';
    }
  })().catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
  assert.ok(ended, 'the read ended');
  assert.ok(performance.now() - t0 < 2000, `ended in ${(performance.now() - t0).toFixed(0)} ms`);

  assert.ok(await canListen(port), 'the port is free');
  const again = await startMockServer({ port, ttft: 0, itl: 0 });
  try {
    assert.equal(again.port, port, 'a new server listens on the same port');
    assert.equal((await fetch(`${again.url}/health`)).status, 200);
  } finally {
    await again.close();
  }
});

test('after close() nothing keeps the process alive, even with a stream in flight', { timeout: 30_000 }, async () => {
  const index = fileURLToPath(new URL('../src/index.js', import.meta.url));
  const script = `
    import { startMockServer } from ${JSON.stringify(index)};
    const server = await startMockServer({ ttft: 0, itl: 100 });
    const res = await fetch(server.url + '/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 1000, ignore_eos: true, stream: true }) });
    const reader = res.body.getReader();
    await reader.read();
    await server.close();
    await reader.read().catch(() => undefined);
    console.log('closed');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(timer);
  assert.equal(signal, null, `the process had to be killed: it did not exit by itself after close()\n${out}`);
  assert.equal(code, 0, out);
  assert.match(out, /closed/);
});

test('workers > 1: the workers run in a child process behind the same MockServer', { timeout: 60_000 }, async () => {
  const server = await startMockServer({ workers: 2, ttft: 0, itl: 0, logWriter: () => {} });
  const port = server.port;
  try {
    const pids = new Set<number>();
    for (let i = 0; i < 40 && pids.size < 2; i++) {
      const res = await fetch(`${server.url}/health`, { headers: { connection: 'close' } });
      pids.add(((await res.json()) as HealthBody).pid);
    }
    assert.equal(pids.size, 2, 'two worker processes answer');
    assert.ok(!pids.has(process.pid));
    assert.equal(server.settings.workers, 2);
    assert.equal((await server.configure({ ttft: 7 })).ttft, 7);
    assert.equal(server.settings.ttft, 7);
    await assert.rejects(server.configure({ ttft: -1 }), (e: unknown) => e instanceof Error && 'status' in e && e.status === 400);
    const res = await slowStream(server.url);
    assert.equal(res.status, 200);
  } finally {
    await server.close();
  }
  assert.ok(await canListen(port), 'the port is free once close() resolves');
});

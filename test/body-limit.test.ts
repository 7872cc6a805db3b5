// A body over max_body_bytes reaches every client as a 413, also one that writes its whole body before it
// reads a byte (Python's urllib, and clients built like it): the server answers at once, then reads and
// discards the rest of the body before it closes, so such a client never meets a reset or a broken pipe.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { startServer, type RunningServer } from './support/server.js';
import type { ErrorBody } from '../src/types.js';

const MiB = 2 ** 20;
let server: RunningServer;

before(async () => {
  server = await startServer(['-t', '0', '-i', '0']);
});
after(async () => {
  await server?.stop();
});

interface RawResult {
  /** Everything the server sent before it closed. */
  response: string;
  /** A socket error the client met (EPIPE, ECONNRESET), if any. */
  error?: string;
  /** Whether every byte of the body was handed to the kernel before the socket closed. */
  allWritten: boolean;
}

/**
 * Writes the request head and the whole body (or `sendBytes` of it, then stalls), and only then reads: the
 * way urllib does. Resolves when the server closes the connection.
 */
async function writeAllThenRead(port: number, head: Record<string, string>, body: Buffer, encoding: 'length' | 'chunked', sendBytes = body.length): Promise<RawResult> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const result: RawResult = { response: '', allWritten: false };
  socket.on('error', (e: NodeJS.ErrnoException) => (result.error = e.code ?? e.message));
  const lines = Object.entries(head).map(([k, v]) => `${k}: ${v}\r\n`);
  lines.push(encoding === 'length' ? `Content-Length: ${body.length}\r\n` : 'Transfer-Encoding: chunked\r\n');
  socket.write(`POST /v1/chat/completions HTTP/1.1\r\n${lines.join('')}\r\n`);
  const part = body.subarray(0, sendBytes);
  const written = new Promise<void>((resolve) => {
    const payload = encoding === 'length' ? [part] : [Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from(sendBytes === body.length ? '\r\n0\r\n\r\n' : '\r\n')];
    for (const [i, b] of payload.entries()) socket.write(b, i === payload.length - 1 ? () => resolve() : undefined);
  });
  // Not a byte is read until the whole body is written.
  socket.pause();
  await written;
  result.allWritten = !result.error;
  socket.setEncoding('utf8').on('data', (d: string) => (result.response += d));
  socket.resume();
  await once(socket, 'close');
  return result;
}

function bigChat(bytes: number): Buffer {
  return Buffer.from(JSON.stringify({ model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'a'.repeat(bytes) }] }));
}

function statusAndError(response: string): { status: number; body: ErrorBody } {
  const [head, body] = response.split('\r\n\r\n', 2) as [string, string];
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), body: JSON.parse(body) as ErrorBody };
}

describe('a 17 MiB body written whole before the client reads', () => {
  for (const [label, encoding, connection] of [
    ['Content-Length, Connection: close (urllib)', 'length', 'close'],
    ['Content-Length, keep-alive', 'length', 'keep-alive'],
    ['chunked, Connection: close', 'chunked', 'close'],
  ] as const) {
    it(`gets the 413 in OpenAI's error shape: ${label}`, { timeout: 60_000 }, async () => {
      const r = await writeAllThenRead(server.port, { Host: 'x', 'Content-Type': 'application/json', Connection: connection }, bigChat(17 * MiB), encoding);
      assert.equal(r.error, undefined, `the client met ${r.error}`);
      assert.ok(r.allWritten);
      const { status, body } = statusAndError(r.response);
      assert.equal(status, 413);
      assert.equal(body.error.code, 'request_too_large');
      assert.equal(body.error.type, 'invalid_request_error');
      assert.match(r.response, /\r\nconnection: close\r\n/i);
    });
  }

  it("with Python's own urllib, when python3 is on the machine", { timeout: 60_000 }, async (t) => {
    const { spawnSync } = await import('node:child_process');
    if (spawnSync('python3', ['--version']).status !== 0) {
      if (process.env['CI']) assert.fail('python3 is missing in CI');
      t.skip('no python3 here');
      return;
    }
    const script = `
import json, sys, urllib.request, urllib.error
body = json.dumps({"model": "Qwen/Qwen3-0.6B", "messages": [{"role": "user", "content": "a" * (17 * 1024 * 1024)}]}).encode()
req = urllib.request.Request(sys.argv[1] + "/v1/chat/completions", data=body, headers={"Content-Type": "application/json"})
try:
    urllib.request.urlopen(req)
    print("200")
except urllib.error.HTTPError as e:
    print(e.code, json.loads(e.read())["error"]["code"])
`;
    const { spawn } = await import('node:child_process');
    const py = spawn('python3', ['-c', script, server.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    py.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    py.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    await once(py, 'exit');
    assert.equal(out.trim(), '413 request_too_large');
  });

  it('a client that stalls half-way still gets the 413, and the connection closes without waiting for the rest', { timeout: 60_000 }, async () => {
    const t0 = performance.now();
    const r = await writeAllThenRead(server.port, { Host: 'x', 'Content-Type': 'application/json' }, bigChat(17 * MiB), 'length', 17 * MiB - 1000);
    const { status } = statusAndError(r.response);
    assert.equal(status, 413);
    // Closed by the server's idle bound (2 s), not by the client, which never sent the last 1,000 bytes.
    assert.ok(performance.now() - t0 < 30_000, 'the connection closed');
  });

  it('leaves the server serving others', async () => {
    const ok = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'hello' }] }),
    });
    assert.equal(ok.status, 200);
    assert.equal(server.proc.exitCode, null);
  });
});

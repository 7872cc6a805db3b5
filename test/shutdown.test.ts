// SIGTERM and SIGINT: stop accepting, let streams finish within shutdown_timeout, end the rest, exit 0.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { postJson, readSse, startServer, type RunningServer } from './support/server.js';
import type { ChatChunk, ErrorBody } from '../src/types.js';

const streamOf = (server: RunningServer, tokens: number) =>
  postJson(`${server.url}/v1/chat/completions`, {
    model: 'm',
    messages: [{ role: 'user', content: 'word '.repeat(10) }],
    max_tokens: tokens,
    ignore_eos: true,
    stream: true,
  });

/** Whether a TCP connection to the port is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

for (const workers of [1, 2]) {
  describe(`shutdown with ${workers} worker${workers > 1 ? 's' : ''}`, () => {
    it('lets a stream in flight finish, refuses new connections, exits 0', async () => {
      const server = await startServer(['-t', '0', '-i', '20', '-w', String(workers)]);
      // 30 tokens 20 ms apart: about 0.6 s, well within the default 10 s.
      const res = await streamOf(server, 30);
      assert.equal(res.status, 200);
      const events = readSse(res);
      await new Promise((r) => setTimeout(r, 100));
      const exited = server.stop('SIGTERM');
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(await accepts(server.port), false, 'no new connection is accepted while stopping');
      const frames = await events;
      assert.equal(frames.at(-1)!.data, '[DONE]');
      const chunks = frames.slice(0, -1).map((e) => JSON.parse(e.data) as ChatChunk);
      assert.equal(chunks.length, 30, 'the stream finished whole');
      assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'length');
      assert.equal(await exited, 0);
    });

    it('ends streams that outlast shutdown_timeout with an error event and [DONE]', async () => {
      const server = await startServer(['-t', '0', '-i', '50', '-w', String(workers), '--shutdown-timeout', '0.5']);
      // 1000 tokens 50 ms apart would take 50 s.
      const res = await streamOf(server, 1000);
      const events = readSse(res);
      await new Promise((r) => setTimeout(r, 200));
      const t0 = performance.now();
      const code = await server.stop(workers > 1 ? 'SIGINT' : 'SIGTERM');
      const took = performance.now() - t0;
      assert.equal(code, 0);
      assert.ok(took >= 450 && took < 8000, `stopped after ${took.toFixed(0)} ms`);
      const frames = await events;
      assert.equal(frames.at(-1)!.data, '[DONE]');
      const last = JSON.parse(frames.at(-2)!.data) as ErrorBody;
      assert.equal(last.error.code, 'server_shutting_down');
      assert.ok(frames.length > 3 && frames.length < 200, `${frames.length} frames before the end`);
    });
  });
}

// A client that stops reading must not make the server buffer without bound. A raw socket asks for a stream of
// 1,000,000 tokens at itl 0 (about 190 MB of SSE) and stops reading for 3 s: the stream's schedule waits while
// its socket is not drained, so the tokens sent stop growing once the kernel's buffers are full, the server's
// memory stays within a few MB of where it was, and other streams keep flowing meanwhile. Then the client
// reads again and the stream completes, every frame in order, ending with [DONE].
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startMockServer, type MockServer } from '../src/index.js';
import { gcNow, metricValue, rawGet, rawRequest, sleep } from '../bench/soak.js';
import { readSse } from './support/server.js';

const TOKENS = 1_000_000;
const PAUSE_MS = 3_000;

let server: MockServer;
before(async () => {
  // The answer is a million tokens: the window is opened past max_model_len's default of 32768.
  server = await startMockServer({ ttft: 0, itl: 0, max_model_len: 2_147_483_647, logWriter: () => undefined });
});
after(() => server.close());

const tokensSent = async (): Promise<number> => metricValue(await rawGet(server.port, '/metrics'), 'vllm:generation_tokens_total');
const memory = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

/** Counts SSE frames across reads (a frame may be split between two), keeping the last frames' text. */
class FrameCounter {
  frames = 0;
  bytes = 0;
  #tail = '';
  last = '';

  push(d: Buffer): void {
    this.bytes += d.length;
    const text = this.#tail + d.toString('latin1');
    let i = text.indexOf('data: ');
    let lastStart = -1;
    while (i >= 0) {
      const end = text.indexOf('\n\n', i);
      if (end < 0) break;
      this.frames++;
      lastStart = i;
      i = text.indexOf('data: ', end);
    }
    if (lastStart >= 0) this.last = text.slice(Math.max(0, lastStart - 600), text.indexOf('\n\n', lastStart) + 2);
    // Keep what may hold the start of an unfinished frame.
    const open = i >= 0 ? i : Math.max(0, text.length - 6);
    this.#tail = text.slice(open);
  }
}

test(`a reader that stops for ${PAUSE_MS / 1000} s in a ${TOKENS.toLocaleString('en')}-token stream: bounded memory, others flow, then it completes`, { timeout: 180_000 }, async () => {
  const gc = gcNow();
  gc();
  await sleep(50);
  gc();
  const baseline = memory();
  const sentBefore = await tokensSent();

  const socket: Socket = connect(server.port, '127.0.0.1');
  const counter = new FrameCounter();
  let ended = false;
  const closed = new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('end', () => {
      ended = true;
      resolve();
    });
  });
  socket.on('data', (d: Buffer) => counter.push(d));
  const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Slow readers must not fill the server.' }], max_tokens: TOKENS, ignore_eos: true, stream: true });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  // Connection: close, so the end of the answer is the end of the socket.
  socket.write(rawRequest(server.port, '/v1/chat/completions', body, true));
  socket.pause();

  // While it does not read: sample the memory and the tokens sent; run other streams meanwhile.
  let peak = 0;
  const samples: number[] = [];
  const others: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < PAUSE_MS) {
    const started = performance.now();
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mock-itl': '2' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'meanwhile' }], max_tokens: 50, ignore_eos: true, stream: true }),
    });
    const events = await readSse(res);
    assert.equal(events.at(-1)?.data, '[DONE]');
    assert.equal(events.length, 51);
    others.push(performance.now() - started);
    // The tokens of the paused stream alone: the others' 50 each are taken off.
    samples.push((await tokensSent()) - sentBefore - 50 * others.length);
    peak = Math.max(peak, memory() - baseline);
    await sleep(100);
  }
  gc();
  await sleep(50);
  gc();
  const retained = memory() - baseline;
  const sentWhilePaused = (await tokensSent()) - sentBefore - 50 * others.length;
  const lastSecond = samples.slice(-4);
  console.log(
    `# while paused: ${sentWhilePaused} of ${TOKENS} tokens sent (then waiting), memory +${(peak / 2 ** 20).toFixed(1)} MiB at most, ` +
      `+${(retained / 2 ** 20).toFixed(1)} MiB after GC; ${others.length} other streams of 50 tokens, slowest ${Math.max(...others).toFixed(0)} ms`,
  );

  // The schedule waits: the count stands still once the socket's buffers are full, far below the whole.
  assert.ok(sentWhilePaused < TOKENS * 0.4, `${sentWhilePaused} tokens went out to a reader that reads nothing`);
  assert.ok(lastSecond.length >= 2 && lastSecond.every((v) => v === lastSecond[0]), `tokens were still being sent while paused: ${samples.join(', ')}`);
  // What the server holds for it stays bounded: a few batches, not the 190 MB of the whole stream.
  assert.ok(retained < 32 * 2 ** 20, `memory grew by ${(retained / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(peak < 64 * 2 ** 20, `memory peaked at +${(peak / 2 ** 20).toFixed(1)} MiB`);
  // Other streams were served on time all along (50 tokens at 2 ms ≈ 100 ms each).
  assert.ok(others.length >= 5, `only ${others.length} other streams in ${PAUSE_MS} ms`);
  assert.ok(Math.max(...others) < 1_500, `another stream took ${Math.max(...others).toFixed(0)} ms`);
  assert.equal(ended, false);

  // Reading again: the stream resumes and completes, whole and in order.
  const resumed = performance.now();
  socket.resume();
  await closed;
  console.log(`# resumed: ${counter.frames} frames, ${(counter.bytes / 2 ** 20).toFixed(0)} MiB in ${((performance.now() - resumed) / 1000).toFixed(1)} s`);
  assert.equal(counter.frames, TOKENS + 1, 'one frame per token, then [DONE]');
  assert.ok(counter.bytes > 150 * 2 ** 20, `the whole stream is ${counter.bytes} bytes`);
  assert.ok(counter.last.endsWith('data: [DONE]\n\n'), counter.last);
  assert.match(counter.last, /"finish_reason":"length"/);
  assert.equal((await tokensSent()) - sentBefore - 50 * others.length, TOKENS);
});

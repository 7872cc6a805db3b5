// Clients that leave. A stream whose client disconnects stops its timer and its writes at once; and a
// smaller run of the soak (bench/soak.ts: 1,000 raw-socket clients leaving at random points, a share of
// them with a reset) leaves the in-process server as it was when idle: no timer, immediate or socket left,
// the heap within 10% after GC, nothing running or waiting, nothing in flight, no uncaught error, no ERROR.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startMockServer, type MockServer } from '../src/index.js';
import { metricValue, rawGet, rawRequest, resourceCounts, runSoak, serverMetrics, sleep, summary } from '../bench/soak.js';

describe('a stream whose client leaves after 3 chunks (itl 50 ms, 200 tokens)', () => {
  let server: MockServer;
  before(async () => {
    server = await startMockServer({ ttft: 0, itl: 50, logWriter: () => undefined });
  });
  after(() => server.close());

  test('within 100 ms the server holds no timer or socket for it, and counts it as aborted', async () => {
    const timers = (): number => resourceCounts()['Timeout'] ?? 0;
    const sockets = (): number => resourceCounts()['TCPSocketWrap'] ?? 0;
    const before = await serverMetrics(server.port);
    await sleep(50);
    const idleTimers = timers();
    const idleSockets = sockets();

    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello' }], max_tokens: 200, ignore_eos: true, stream: true });
    const socket = connect(server.port, '127.0.0.1');
    let frames = 0;
    let during = 0;
    await new Promise<void>((resolve, reject) => {
      const watchdog = setTimeout(() => reject(new Error('3 chunks did not come within 5 s')), 5_000);
      socket.on('error', reject);
      socket.on('data', (d: Buffer) => {
        frames += d.toString('latin1').split('data: ').length - 1;
        if (frames >= 3) {
          during = timers();
          clearTimeout(watchdog);
          resolve();
        }
      });
      socket.write(rawRequest(server.port, '/v1/chat/completions', body));
    });
    assert.ok(during > idleTimers, `the stream's clock shows as a timer while it runs (${during} vs ${idleTimers} idle)`);
    socket.destroy();
    const left = performance.now();

    // Poll briefly: the server sees the FIN on its next turn of the event loop.
    let elapsed = 0;
    while (performance.now() - left < 100 && (timers() > idleTimers || sockets() > idleSockets)) await sleep(2);
    elapsed = performance.now() - left;
    assert.ok(timers() <= idleTimers, `a timer is left ${elapsed.toFixed(0)} ms after the client left: ${JSON.stringify(resourceCounts())}`);
    assert.ok(sockets() <= idleSockets, `a socket is left ${elapsed.toFixed(0)} ms after the client left: ${JSON.stringify(resourceCounts())}`);

    const m = await serverMetrics(server.port);
    assert.equal(m.running, 0, 'vllm:num_requests_running is back to 0');
    assert.equal(m.aborted - before.aborted, 1, 'request_success_total{finished_reason="abort"} counted it');
    assert.equal(m.finished - before.finished, 1);
    // No token is generated for no one: the count of tokens sent stands still from now on.
    const sent = metricValue(await rawGet(server.port, '/metrics'), 'vllm:generation_tokens_total');
    assert.ok(sent >= 3 && sent < 10, `${sent} tokens were sent, about the 3 chunks read`);
    await sleep(200);
    assert.equal(metricValue(await rawGet(server.port, '/metrics'), 'vllm:generation_tokens_total'), sent);
  });
});

test('soak, 1,000 requests that leave at random points: nothing is left behind', { timeout: 240_000 }, async () => {
  const report = await runSoak({ requests: 1_000, clients: 64, maxConcurrency: 32, timeLimitMs: 120_000, progress: () => undefined });
  console.log(
    summary(report)
      .split('\n')
      .map((l) => `# ${l}`)
      .join('\n'),
  );
  assert.deepEqual(report.problems, []);
  // Each way of leaving was exercised.
  for (const [mode, n] of Object.entries(report.byMode)) assert.ok(n > 0, `no request left in mode ${mode}`);
  assert.ok(report.resets > 0, 'some left with a reset');
  assert.ok(report.metrics.aborted > 0);
});

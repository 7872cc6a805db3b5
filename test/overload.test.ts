// Overload, at CI size: 500 streams (ttft 20 ms, itl 5 ms, 200 tokens, one connection each, opened beforehand)
// sent together against the real server process, while a separate process polls /health every 10 ms. Every
// stream completes whole, none is dropped, the server logs no ERROR, and every /health poll is answered.
// How fast /health answers is a benchmark, not a test: on a machine that something else is loading, any
// absolute bound fails for reasons that are not the server's. The figure is printed here and held to its bound
// (p99 under 100 ms) by `npm run overload`, which is the full-size run (5,000 streams).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openFilesLimit, runOverload, summary } from '../bench/overload.js';
import { startServer, type RunningServer } from './support/server.js';

const STREAMS = 500;
let server: RunningServer;

before(async () => {
  const limit = openFilesLimit();
  assert.ok(limit === undefined || limit >= 2 * STREAMS + 200, `the open files limit (${limit}) is too low for ${STREAMS} streams`);
  server = await startServer(['--ttft', '20', '--itl', '5']);
});
after(async () => {
  await server?.stop();
});

test(`${STREAMS} streams at once while /health is polled: all complete, nothing lost, /health answers`, { timeout: 180_000 }, async () => {
  // Warm-up, as any benchmark has: the server's code compiled and its caches filled.
  const warm = await runOverload({ url: server.url, streams: 100, tokens: 50, wave: 100, rampMs: 0, healthIntervalMs: 50, timeLimitMs: 60_000 });
  assert.equal(warm.completed, 100, summary(warm));

  const report = await runOverload({ url: server.url, streams: STREAMS, tokens: 200, wave: 250, rampMs: 10, healthIntervalMs: 10, timeLimitMs: 120_000 });
  console.log(
    summary(report)
      .split('\n')
      .map((l) => `# ${l}`)
      .join('\n'),
  );
  assert.equal(report.failed, 0, report.failures.join('\n'));
  assert.equal(report.completed, STREAMS);
  assert.equal(report.peakInFlight, STREAMS, 'every request was in flight at once');
  assert.ok(report.peakRunning >= STREAMS / 2, `the server had ${report.peakRunning} streams generating at once`);
  assert.equal(report.healthFailures, 0);
  // At least a few polls were answered while the streams ran (the poller waits for each answer).
  assert.ok(report.health.count >= 5, `only ${report.health.count} /health polls answered`);
  assert.equal(server.proc.exitCode, null, 'the server is still running');
  assert.deepEqual(
    server
      .logs()
      .split('\n')
      .filter((l) => / (ERROR|CRITICAL) /.test(l)),
    [],
  );
});

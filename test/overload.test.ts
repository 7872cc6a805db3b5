// Overload, at CI size: 500 streams (ttft 20 ms, itl 5 ms, 200 tokens, one connection each, opened beforehand)
// sent together against the real server process, while a separate process polls /health every 10 ms. Every
// stream completes whole, none is dropped, the server logs no ERROR, and /health stays responsive: p99 under
// 100 ms (the same bound as npm run overload; measured at about 25 ms on the 2-core development machine).
// bench/overload.ts is the full-size run (5,000 streams).
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

test(`${STREAMS} streams at once while /health is polled: all complete, /health p99 < 100 ms`, { timeout: 180_000 }, async () => {
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
  assert.ok(report.health.count >= 50, `only ${report.health.count} /health polls`);
  assert.ok(report.health.p99 < 100, `/health p99 ${report.health.p99.toFixed(1)} ms`);
  assert.equal(server.proc.exitCode, null, 'the server is still running');
  assert.deepEqual(
    server
      .logs()
      .split('\n')
      .filter((l) => / (ERROR|CRITICAL) /.test(l)),
    [],
  );
});

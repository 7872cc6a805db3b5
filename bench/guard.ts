// npm run bench:guard: a short regression guard (well under 20 s). Both servers, ttft 20 itl 5, 100 tokens,
// 64 streams, measured in the same run. Fails only on gross regressions:
//   - any failed stream or any early token (either server: a broken reference is a broken guard);
//   - the mock's ITL p99 or TTFT p99 more than 5× the reference's.
// A ratio failure is measured once more before failing (the machine is shared and noisy); the correctness
// failures are not retried.
import type { LoadResult, Scenario } from './common.js';
import { installCleanup, runLoad, startServer, type RunningServer, type ServerKind } from './servers.js';

const LIMIT = 5;
const DURATION_MS = 2500;
const WATCHDOG_MS = 90_000;

function scenario(s: RunningServer): Scenario {
  return {
    url: s.url,
    serverPid: s.pid,
    concurrency: 64,
    durationMs: DURATION_MS,
    stream: true,
    max_tokens: 100,
    ignore_eos: true,
    ttft: 20,
    itl: 5,
    warmup: 1,
    timeoutMs: 30_000,
  };
}

function line(kind: ServerKind, r: LoadResult): string {
  return (
    `${kind.padEnd(9)} streams ${r.requests.completed}/${r.requests.completed + r.requests.failed} ok, ` +
    `TTFT p99 ${r.ttftMs?.p99.toFixed(2) ?? '—'} ms, ITL p99 ${r.itlMs?.p99.toFixed(2) ?? '—'} ms, ` +
    `drift p99 ${r.driftMs?.p99.toFixed(2) ?? '—'} ms, early ${r.earlyTokens}, client CPU ${r.client.cpuPercent.toFixed(0)}%`
  );
}

async function main(): Promise<number> {
  installCleanup();
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench:guard: gave up after ${WATCHDOG_MS} ms\n`);
    process.exit(2);
  }, WATCHDOG_MS);
  watchdog.unref();
  const began = performance.now();
  const [mock, reference] = await Promise.all([startServer('mock', { ttft: 20, itl: 5 }), startServer('reference', { ttft: 20, itl: 5 })]);
  try {
    for (let attempt = 1; attempt <= 2; attempt++) {
      const m = await runLoad(scenario(mock));
      const r = await runLoad(scenario(reference));
      process.stdout.write(`attempt ${attempt}\n  ${line('mock', m)}\n  ${line('reference', r)}\n`);

      const broken: string[] = [];
      for (const [kind, res] of [['mock', m], ['reference', r]] as const) {
        if (res.requests.failed > 0) broken.push(`${kind}: ${res.requests.failed} failed stream(s): ${res.failures.slice(0, 3).join(' | ')}`);
        if (res.earlyTokens > 0) broken.push(`${kind}: ${res.earlyTokens} token(s) arrived before their deadline`);
        if (res.requests.completed === 0) broken.push(`${kind}: no stream completed`);
      }
      if (broken.length) {
        process.stdout.write(`FAIL\n  ${broken.join('\n  ')}\n`);
        return 1;
      }

      const slow: string[] = [];
      const check = (name: string, ours: number | undefined, ref: number | undefined): void => {
        if (ours === undefined || ref === undefined) {
          slow.push(`${name}: not measured`);
          return;
        }
        const ratio = ours / ref;
        process.stdout.write(`  ${name}: ${ours.toFixed(2)} ms vs ${ref.toFixed(2)} ms = ${ratio.toFixed(2)}× (limit ${LIMIT}×)\n`);
        if (ratio > LIMIT) slow.push(`${name} ${ratio.toFixed(2)}× the reference's`);
      };
      check('ITL p99', m.itlMs?.p99, r.itlMs?.p99);
      check('TTFT p99', m.ttftMs?.p99, r.ttftMs?.p99);
      if (slow.length === 0) {
        process.stdout.write(`OK in ${((performance.now() - began) / 1000).toFixed(1)} s\n`);
        return 0;
      }
      if (attempt === 2) {
        process.stdout.write(`FAIL (twice)\n  ${slow.join('\n  ')}\n`);
        return 1;
      }
      process.stdout.write(`  over the limit (${slow.join('; ')}): measuring once more\n`);
    }
    return 1;
  } finally {
    await Promise.all([mock.stop(), reference.stop()]);
    clearTimeout(watchdog);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:guard: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);

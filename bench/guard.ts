// npm run bench:guard: a short regression guard (about 20 s). Both servers, ttft 20 itl 5, 100 tokens,
// 64 streams, measured in the same run, in two phases:
//   - new prompts: every request carries a new prompt of about 100 tokens from the corpus, as real benchmark
//     traffic does, so the mock pays for tokenization as in a real run;
//   - cache hit: one fixed prompt on every request, which the mock's prompt cache answers after the first:
//     what is left is the serving path alone, which has long been near the reference's.
// Fails only on gross regressions:
//   - any failed stream or any early token (either server: a broken reference is a broken guard);
//   - in the new-prompt phase, a request without a new prompt (the load must be real traffic);
//   - the mock's ITL p99 or TTFT p99 over the phase's limit times the reference's. With new prompts the mock
//     measured 2.6–6.5× before issue 10's tokenization work and 2.1–2.8× after it on 2026-12-01, but up to
//     4.5× with CI's CPU hog on the other core: its limit is 8×, the cache hit's 5×. (The targets of 1.25× are
//     npm run bench's; see bench/RESULTS.md.)
// A ratio failure is measured once more before failing (the machine is shared and noisy); the correctness
// failures are not retried.
import type { LoadResult, Scenario } from './common.js';
import { seedOf, type PromptSpec } from './prompts.js';
import { installCleanup, runLoad, startServer, type RunningServer, type ServerKind } from './servers.js';

interface Phase {
  name: string;
  /** The mock's TTFT p99 and ITL p99 may be at most this many times the reference's. */
  limit: number;
  /** New corpus prompts (a new seed per attempt: the mock's cache holds the first attempt's), or the fixed one. */
  prompts: ((attempt: number) => PromptSpec) | null;
}

const PHASES: readonly Phase[] = [
  { name: 'new prompts', limit: 8, prompts: (attempt) => ({ seed: seedOf(`guard ${attempt}`), isl: { mean: 100, stddev: 10 } }) },
  { name: 'cache hit', limit: 5, prompts: null },
];
const DURATION_MS = 2500;
const WATCHDOG_MS = 100_000;

function scenario(s: RunningServer, phase: Phase, attempt: number): Scenario {
  return {
    ...(phase.prompts ? { prompts: phase.prompts(attempt) } : {}),
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
    `drift p99 ${r.driftMs?.p99.toFixed(2) ?? '—'} ms, early ${r.earlyTokens}, client CPU ${r.client.cpuPercent.toFixed(0)}%, ` +
    `prompts: ${r.prompts.requests} requests, ${r.prompts.passages} ${r.prompts.kind} passages`
  );
}

/** One phase, measured up to twice; the reason it fails, or null. */
async function runPhase(phase: Phase, mock: RunningServer, reference: RunningServer): Promise<string | null> {
  for (let attempt = 1; attempt <= 2; attempt++) {
    const m = await runLoad(scenario(mock, phase, attempt));
    const r = await runLoad(scenario(reference, phase, attempt));
    process.stdout.write(`${phase.name}, attempt ${attempt}\n  ${line('mock', m)}\n  ${line('reference', r)}\n`);

    const broken: string[] = [];
    for (const [kind, res] of [['mock', m], ['reference', r]] as const) {
      if (res.requests.failed > 0) broken.push(`${kind}: ${res.requests.failed} failed stream(s): ${res.failures.slice(0, 3).join(' | ')}`);
      if (res.earlyTokens > 0) broken.push(`${kind}: ${res.earlyTokens} token(s) arrived before their deadline`);
      if (res.requests.completed === 0) broken.push(`${kind}: no stream completed`);
      if (phase.prompts && (res.prompts.kind !== 'corpus' || res.prompts.passages < res.prompts.requests)) {
        broken.push(`${kind}: ${res.prompts.requests} requests but ${res.prompts.passages} new ${res.prompts.kind} prompts`);
      }
    }
    if (broken.length) return `${phase.name}:\n  ${broken.join('\n  ')}`;

    const slow: string[] = [];
    const check = (name: string, ours: number | undefined, ref: number | undefined): void => {
      if (ours === undefined || ref === undefined) {
        slow.push(`${name}: not measured`);
        return;
      }
      const ratio = ours / ref;
      process.stdout.write(`  ${name}: ${ours.toFixed(2)} ms vs ${ref.toFixed(2)} ms = ${ratio.toFixed(2)}× (limit ${phase.limit}×)\n`);
      if (ratio > phase.limit) slow.push(`${name} ${ratio.toFixed(2)}× the reference's`);
    };
    check('ITL p99', m.itlMs?.p99, r.itlMs?.p99);
    check('TTFT p99', m.ttftMs?.p99, r.ttftMs?.p99);
    if (slow.length === 0) return null;
    if (attempt === 2) return `${phase.name} (twice):\n  ${slow.join('\n  ')}`;
    process.stdout.write(`  over the limit (${slow.join('; ')}): measuring once more\n`);
  }
  return `${phase.name}: not measured`;
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
    for (const phase of PHASES) {
      const failure = await runPhase(phase, mock, reference);
      if (failure !== null) {
        process.stdout.write(`FAIL ${failure}\n`);
        return 1;
      }
    }
    process.stdout.write(`OK in ${((performance.now() - began) / 1000).toFixed(1)} s\n`);
    return 0;
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

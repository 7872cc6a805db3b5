// npm run bench:sweep (and the end of npm run bench): TTFT and ITL, p50 and p99, against concurrency, with the
// engine model off (the configured TTFT/ITL, the default), with prefix caching alone, and all on, on multi-turn corpus conversations (each turn
// repeats the history, so a prefix cache has something to reuse). Writes bench/sweep.svg, linked from
// bench/RESULTS.md, and bench/results/sweep.json: the curve the server draws before a benchmark is pointed at it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadResult, Scenario } from './common.js';
import { lineChartSvg, type Line } from './plot.js';
import { seedOf } from './prompts.js';
import { installCleanup, ROOT, runLoad, startServer, type Latency } from './servers.js';

const CONCURRENCY = [1, 4, 16, 64, 128] as const;
const POINT_MS = 4000;
const LATENCY: Latency = { ttft: 40, itl: 8 };
const MAX_TOKENS = 48;
/** The server's prompt cost: the prefill part of TTFT, so that cached prefixes and waiting prefills show. */
const PER_INPUT_TOKEN = ['--ttft-per-input-token', '0.02'];

interface Curve {
  label: string;
  color: string;
  args: readonly string[];
}

/** What "engine model on" means in this sweep: each part of the engine model switched on (README "Engine model"). */
export const ENGINE_ON: readonly string[] = ['--enable-kv-cache', '--enable-prefix-caching', '--enable-continuous-batching', '--itl-per-running', '0.05', '--enable-preemption'];

const CURVES: readonly Curve[] = [
  { label: 'engine model off', color: '#1f77b4', args: PER_INPUT_TOKEN },
  // Alone, so that the TTFT a cached history saves shows apart from the steps batching adds to it.
  { label: 'prefix caching only', color: '#2ca02c', args: [...PER_INPUT_TOKEN, '--enable-prefix-caching'] },
  { label: 'engine model on', color: '#d62728', args: [...PER_INPUT_TOKEN, ...ENGINE_ON] },
];

interface Point {
  concurrency: number;
  ttft: { p50: number; p99: number } | null;
  itl: { p50: number; p99: number } | null;
  completed: number;
  failed: number;
}

function log(msg: string): void {
  process.stderr.write(`[sweep ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

async function sweep(curve: Curve): Promise<Point[]> {
  const server = await startServer('mock', LATENCY, 3, curve.args);
  const points: Point[] = [];
  try {
    for (const concurrency of CONCURRENCY) {
      const scenario: Scenario = {
        url: server.url,
        concurrency,
        durationMs: POINT_MS,
        stream: true,
        max_tokens: MAX_TOKENS,
        ignore_eos: true,
        ...LATENCY,
        serverPid: server.pid,
        // Its own prompts per point, both curves the same: 3-turn conversations of ~300-token turns.
        prompts: { seed: seedOf(`sweep ${concurrency}`), isl: { mean: 300, stddev: 30 }, turns: 3, answer: { mean: 100, stddev: 10 } },
      };
      const r: LoadResult = await runLoad(scenario);
      const pick = (s: LoadResult['ttftMs']): Point['ttft'] => (s ? { p50: s.p50, p99: s.p99 } : null);
      points.push({ concurrency, ttft: pick(r.ttftMs), itl: pick(r.itlMs), completed: r.requests.completed, failed: r.requests.failed });
      log(`${curve.label} @${concurrency}: TTFT p50/p99 ${r.ttftMs?.p50.toFixed(1)}/${r.ttftMs?.p99.toFixed(1)} ms, ITL p50/p99 ${r.itlMs?.p50.toFixed(2)}/${r.itlMs?.p99.toFixed(2)} ms, ${r.requests.completed} ok, ${r.requests.failed} failed`);
    }
  } finally {
    await server.stop();
  }
  return points;
}

async function main(): Promise<void> {
  installCleanup();
  const results: Array<{ curve: Curve; points: Point[] }> = [];
  for (const curve of CURVES) results.push({ curve, points: await sweep(curve) });
  const lines = (metric: 'ttft' | 'itl'): Line[] =>
    results.flatMap(({ curve, points }) =>
      (['p50', 'p99'] as const).map((q) => ({
        label: `${curve.label}, ${q}`,
        color: curve.color,
        dashed: q === 'p99',
        points: points.map((p) => [p.concurrency, p[metric]?.[q] ?? null] as const),
      })),
    );
  const caption = [
    `both: --ttft ${LATENCY.ttft} --ttft-per-input-token ${PER_INPUT_TOKEN[1]} --itl ${LATENCY.itl} (one process); streamed 3-turn corpus chats, ${MAX_TOKENS} tokens each`,
    `on: ${ENGINE_ON.join(' ')}`,
  ];
  const svg = lineChartSvg(
    [
      { title: 'Time to first token', yLabel: 'ms (log scale)', logY: true, lines: lines('ttft') },
      { title: 'Inter-token latency', yLabel: 'ms', lines: lines('itl') },
    ],
    CONCURRENCY,
    'concurrent streams',
    caption,
  );
  writeFileSync(join(ROOT, 'bench', 'sweep.svg'), svg);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'sweep.json'), JSON.stringify({ at: new Date().toISOString(), latency: LATENCY, results }, null, 2));
  log('wrote bench/sweep.svg and bench/results/sweep.json');
}

await main();

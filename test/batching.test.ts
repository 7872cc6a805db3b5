// Continuous batching (enable_continuous_batching): one step clock; each step lasts itl + itl_per_running ×
// running sequences, plus the prefill it carries. The model is checked against that formula without a clock,
// in seeded runs, then as a client sees it (medians and lower bounds; loose upper bounds for a loaded machine).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StepClock, batchedPace } from '../src/model/batching.js';
import { postJson, readSse, startServer, type RunningServer, type SseEvent } from './support/server.js';

describe('the step clock', () => {
  const settings = { itl: 10, itl_per_running: 5 };

  it('plans each step as itl + itl_per_running × running, plus the prefill it carries, shared by every stream', () => {
    const clock = new StepClock(() => settings);
    const a = batchedPace(clock, clock.join(0, 1, 0), 10);
    assert.equal(a.due(0), 15, 'alone: 10 + 5 × 1');
    assert.equal(a.due(1), 30);
    // b arrives during the step [15, 30) with a 40 ms prefill: it waits for that step, then shares the next.
    const b = batchedPace(clock, clock.join(20, 1, 40), 10);
    assert.equal(b.due(0), 30 + 10 + 5 * 2 + 40, 'TTFT: the rest of the current step, then a step with its prefill');
    assert.equal(a.due(2), b.due(0), 'a\'s next token comes at the end of the same step, delayed by the prefill');
    assert.equal(a.due(3), b.due(1));
    assert.equal(b.due(1) - b.due(0), 10 + 5 * 2, 'two running');
    clock.leave(1);
    assert.equal(a.due(4) - a.due(3), 10 + 5 * 1, 'one left: one running');
  });

  it('a request joining ttft after its admission leaves the running stream stepping until then', () => {
    const clock = new StepClock(() => settings);
    const a = batchedPace(clock, clock.join(0, 1, 0), 20);
    assert.equal(a.due(0), 15);
    // b is admitted at 15 with ttft 50 and a 40 ms prefill: it joins at 65, in the step [60, 75) in progress.
    const b = batchedPace(clock, clock.join(65, 1, 40), 5);
    assert.deepEqual([1, 2, 3].map((k) => a.due(k)), [30, 45, 60], 'a keeps one step of 10 + 5 × 1 until b joins');
    assert.equal(a.due(4), 75);
    assert.equal(b.due(0), 75 + 10 + 5 * 2 + 40, 'b: the rest of the step in progress at 65, then its prefill step');
    assert.equal(a.due(5), b.due(0), 'a waits for b\'s prefill once, in that step');
  });

  /** A seeded run: `streams` streams of `tokens` tokens arriving at random, every gap checked against the formula. */
  function run(streams: number, tokens: number, seed: number): number[] {
    let x = seed;
    const random = (): number => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    const clock = new StepClock(() => settings);
    const arrivals = Array.from({ length: streams }, () => random() * 200).sort((p, q) => p - q);
    const gaps: number[] = [];
    // Steps in time order: each stream asks for its next token at its previous token's time, as a TokenClock does.
    type Live = { due: (k: number) => number; k: number; at: number };
    const live: Live[] = [];
    let next = 0;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const soonest = live.reduce<Live | undefined>((m, l) => (m === undefined || l.at < m.at ? l : m), undefined);
      if (next < arrivals.length && (soonest === undefined || arrivals[next]! <= soonest.at)) {
        const pace = batchedPace(clock, clock.join(arrivals[next]!, 1, 0), tokens);
        live.push({ due: pace.due, k: 0, at: pace.due(0) });
        next++;
        continue;
      }
      if (!soonest) break;
      soonest.k++;
      if (soonest.k === tokens) {
        live.splice(live.indexOf(soonest), 1);
        clock.leave(1);
        continue;
      }
      const at = soonest.due(soonest.k);
      gaps.push(at - soonest.at);
      // No prefill here: a gap is one step, of at least the stream itself and at most every stream running.
      assert.ok(at - soonest.at >= settings.itl + settings.itl_per_running && at - soonest.at <= settings.itl + settings.itl_per_running * streams, 'a gap is one step');
      soonest.at = at;
    }
    return gaps.sort((p, q) => p - q);
  }

  it('in seeded runs, p99 ITL rises with concurrency as itl + itl_per_running × running', () => {
    const p99 = (g: number[]): number => g[Math.min(g.length - 1, Math.floor(g.length * 0.99))]!;
    const one = run(1, 50, 7);
    assert.ok(one.every((g) => g === 15), 'one stream: every gap 10 + 5 × 1');
    const four = p99(run(4, 50, 7));
    const sixteen = p99(run(16, 50, 7));
    assert.equal(four, 10 + 5 * 4, 'four at once: 30 ms at the 99th percentile');
    assert.equal(sixteen, 10 + 5 * 16, 'sixteen at once: 90 ms');
  });
});

const ids = (n: number): number[] => Array.from({ length: n }, (_, i) => 1000 + i);
const stream = (url: string, prompt: number, tokens: number): Promise<SseEvent[]> =>
  postJson(`${url}/v1/completions`, { model: 'm', prompt: ids(prompt), max_tokens: tokens, ignore_eos: true, stream: true }).then(readSse);
const frames = (e: SseEvent[]): SseEvent[] => e.filter((x) => x.data !== '[DONE]');
const gapsOf = (e: SseEvent[]): number[] => frames(e).slice(1).map((x, i) => x.at - frames(e)[i]!.at);
const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;

describe('continuous batching as a client sees it', () => {
  let server: RunningServer;
  const perToken = 3;
  before(async () => {
    server = await startServer(['-t', '0', '-i', '10', '--itl-per-running', '5', '--ttft-per-input-token', String(perToken), '--enable-continuous-batching']);
  });
  after(async () => {
    await server.stop();
  });

  it('ITL is itl + itl_per_running × running streams', async () => {
    const alone = median(gapsOf(await stream(server.url, 1, 40)));
    assert.ok(alone >= 15 - 2 && alone < 15 + 15, `one stream: median ITL ${alone.toFixed(1)} ms, formula 15`);
    const four = await Promise.all(Array.from({ length: 4 }, () => stream(server.url, 1, 40)));
    const m = median(four.flatMap(gapsOf));
    assert.ok(m >= 30 - 2 && m < 30 + 15, `four streams: median ITL ${m.toFixed(1)} ms, formula 30`);
  });

  it('a newly admitted prefill delays the next token of the running stream by its cost', async () => {
    const a = stream(server.url, 1, 60);
    await new Promise((r) => setTimeout(r, 200));
    const sent = performance.now();
    const eb = await stream(server.url, 100, 2);
    const ea = await a;
    const prefill = perToken * 100;
    const gaps = gapsOf(ea);
    const longest = Math.max(...gaps);
    assert.ok(longest >= prefill + 10 + 5 * 2 - 10 && longest < prefill + 200, `a's longest gap ${longest.toFixed(0)} ms: a step with b's prefill, ${prefill + 20} ms`);
    const ttft = frames(eb)[0]!.at - sent;
    assert.ok(ttft >= prefill + 20 - 2, `b's TTFT ${ttft.toFixed(0)} ms: the rest of a step, then its prefill step`);
  });
});

// The latency model: jitter distributions checked on seeded samples of the model itself (so every bound is
// deterministic, and chosen so a correct model would fail it with probability < 1e-6 for any seed), then the
// prefill and seeded jitter as a client sees them, with lower bounds exact and upper bounds loose.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jittered, requestRandom, seeded, type Random } from '../src/model/random.js';
import { drawFault } from '../src/model/faults.js';
import { loadScale, pace, type LatencySettings } from '../src/model/timing.js';
import { postJson, readSse, startServer, type RunningServer } from './support/server.js';
import { binomialNear, mean, near, stddev } from './support/stats.js';
import type { ChatResponse, HealthBody } from '../src/types.js';

const samples = (n: number, draw: (r: Random) => number, seed = 1): number[] => {
  const r = seeded(seed);
  return Array.from({ length: n }, () => draw(r));
};

const base: LatencySettings = {
  ttft: 20,
  itl: 5,
  ttft_per_input_token: 0,
  ttft_stddev: 0,
  itl_stddev: 0,
  jitter_distribution: 'normal',
  load_factor: 1,
  max_concurrency: 0,
};

describe('jitter distributions (seeded samples)', () => {
  const N = 40_000;

  it('uniform draws are uniform: each tenth holds a tenth', () => {
    const xs = samples(N, (r) => r.next(), 7);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    for (let b = 0; b < 10; b++) binomialNear(xs.filter((x) => Math.floor(x * 10) === b).length, N, 0.1, `tenth ${b}`);
  });

  it('normal: mean and standard deviation as set', () => {
    const xs = samples(N, (r) => jittered(r, 100, 20, 'normal'));
    near(mean(xs), 100, 20 / Math.sqrt(N), 'mean');
    // The standard error of a normal sample's standard deviation is sigma / sqrt(2(n - 1)).
    near(stddev(xs), 20, 20 / Math.sqrt(2 * (N - 1)), 'stddev');
    // A normal is symmetric: half above the mean.
    binomialNear(xs.filter((x) => x > 100).length, N, 0.5, 'share above the mean');
  });

  it('normal: never below zero; the mass below zero lands on zero', () => {
    const xs = samples(N, (r) => jittered(r, 5, 10, 'normal'));
    assert.ok(xs.every((x) => x >= 0), 'no negative latency');
    // P(5 + 10 Z < 0) = P(Z < -0.5) = 0.30854
    binomialNear(xs.filter((x) => x === 0).length, N, 0.308538, 'share clamped to 0');
  });

  it('lognormal: the same mean and standard deviation, positive, with a long right tail', () => {
    const m = 100;
    const sd = 50;
    const xs = samples(N, (r) => jittered(r, m, sd, 'lognormal'));
    assert.ok(xs.every((x) => x > 0), 'a lognormal is positive');
    near(mean(xs), m, sd / Math.sqrt(N), 'mean');
    // Its logarithm is normal with these parameters; that pins the whole shape.
    const sigma2 = Math.log(1 + (sd * sd) / (m * m));
    const mu = Math.log(m) - sigma2 / 2;
    const logs = xs.map(Math.log);
    near(mean(logs), mu, Math.sqrt(sigma2 / N), 'mean of log');
    near(stddev(logs), Math.sqrt(sigma2), Math.sqrt(sigma2 / (2 * (N - 1))), 'stddev of log');
    // Right skew: more than half fall below the mean; P(X < mean) = Phi(sigma / 2) = 0.5934 here.
    binomialNear(xs.filter((x) => x < m).length, N, 0.5934, 'share below the mean');
    const normal = samples(N, (r) => jittered(r, m, sd, 'normal'));
    assert.ok(Math.max(...xs) > Math.max(...normal), 'the lognormal tail reaches further than the normal one');
  });

  it('no jitter at stddev 0: the mean exactly, no draw taken', () => {
    const r = seeded(3);
    assert.equal(jittered(r, 42.5, 0, 'normal'), 42.5);
    assert.equal(jittered(r, 42.5, 0, 'lognormal'), 42.5);
    assert.equal(r.next(), seeded(3).next(), 'the generator did not move');
  });
});

describe('the latency model: pace()', () => {
  const paced = (s: Partial<LatencySettings>, seq: number, opts: { promptTokens?: number; count?: number; running?: number; seed?: number } = {}) =>
    pace(
      { ...base, ...s },
      {
        start: 1000,
        promptTokens: opts.promptTokens ?? 10,
        count: opts.count ?? 8,
        random: requestRandom(opts.seed ?? 42, seq),
        running: () => opts.running ?? 1,
      },
    );
  const dues = (p: { count: number; due(k: number): number }): number[] => Array.from({ length: p.count }, (_, k) => p.due(k));

  it('with every new setting at its default: start + ttft + k * itl exactly', () => {
    assert.deepEqual(dues(paced({ ttft: 20, itl: 5 }, 0)), [1020, 1025, 1030, 1035, 1040, 1045, 1050, 1055]);
  });

  it('prefill: TTFT = ttft + ttft_per_input_token x prompt tokens', () => {
    const p = paced({ ttft: 20, itl: 5, ttft_per_input_token: 0.75 }, 0, { promptTokens: 200 });
    assert.equal(p.due(0), 1000 + 20 + 0.75 * 200);
    assert.equal(p.due(3) - p.due(0), 15, 'prefill does not touch the gaps');
  });

  it('ttft_stddev: TTFT over many requests has the set mean (prefill included) and spread', () => {
    const N = 20_000;
    const ttfts = Array.from({ length: N }, (_, i) => paced({ ttft: 100, ttft_stddev: 30, ttft_per_input_token: 1 }, i, { promptTokens: 50 }).due(0) - 1000);
    assert.ok(ttfts.every((t) => t >= 0));
    near(mean(ttfts), 150, 30 / Math.sqrt(N), 'mean TTFT');
    near(stddev(ttfts), 30, 30 / Math.sqrt(2 * (N - 1)), 'TTFT stddev');
  });

  it('itl_stddev: the gaps of a long stream have the set mean and spread, none negative', () => {
    const N = 20_000;
    const p = paced({ itl: 10, itl_stddev: 3, jitter_distribution: 'normal' }, 0, { count: N + 1 });
    const d = dues(p);
    const gaps = d.slice(1).map((x, k) => x - d[k]!);
    assert.ok(gaps.every((g) => g >= 0), 'no token before the one before it');
    near(mean(gaps), 10, 3 / Math.sqrt(N), 'mean gap');
    near(stddev(gaps), 3, 3 / Math.sqrt(2 * (N - 1)), 'gap stddev');
  });

  it('lognormal gaps keep the mean, with the right skew', () => {
    const N = 20_000;
    const d = dues(paced({ itl: 10, itl_stddev: 5, jitter_distribution: 'lognormal' }, 0, { count: N + 1 }));
    const gaps = d.slice(1).map((x, k) => x - d[k]!);
    assert.ok(gaps.every((g) => g > 0));
    near(mean(gaps), 10, 5 / Math.sqrt(N), 'mean gap');
    binomialNear(gaps.filter((g) => g < 10).length, N, 0.5934, 'share below the mean');
  });

  it('seed: the same seed and arrival number give the same schedule; another arrival, another one', () => {
    const s = { ttft: 50, ttft_stddev: 20, itl: 10, itl_stddev: 4 };
    assert.deepEqual(dues(paced(s, 5)), dues(paced(s, 5)));
    assert.notDeepEqual(dues(paced(s, 5)), dues(paced(s, 6)));
    assert.notDeepEqual(dues(paced(s, 5, { seed: 42 })), dues(paced(s, 5, { seed: 43 })));
    // Without a seed every request draws afresh.
    const free = (): number => pace({ ...base, ...s }, { start: 0, promptTokens: 1, count: 2, random: requestRandom(null, 5), running: () => 1 }).due(1);
    assert.notEqual(free(), free());
  });

  it('load_factor: ITL scales linearly from 1x at one stream to load_factor x at max_concurrency', () => {
    const s = { ...base, load_factor: 3, max_concurrency: 5 };
    assert.equal(loadScale(s, 1), 1);
    assert.equal(loadScale(s, 2), 1.5);
    assert.equal(loadScale(s, 3), 2);
    assert.equal(loadScale(s, 5), 3);
    assert.equal(loadScale(s, 50), 3, 'capped at max_concurrency');
    assert.equal(loadScale(s, 0), 1);
    assert.equal(loadScale({ ...s, max_concurrency: 0 }, 100), 1, 'unlimited concurrency: no load model');
    assert.equal(loadScale({ ...s, load_factor: 1 }, 5), 1);
    // The gaps follow the load read when each token is scheduled.
    let running = 1;
    const p = pace(s, { start: 0, promptTokens: 1, count: 4, random: seeded(1), running: () => running });
    assert.equal(p.due(0), 20);
    assert.equal(p.due(1), 25);
    running = 5;
    assert.equal(p.due(2), 40);
    running = 3;
    assert.equal(p.due(3), 50);
  });

  it('X-Mock-TTFT / X-Mock-ITL values replace the model: no prefill, jitter or load', () => {
    const s = { ...base, ttft: 100, ttft_stddev: 50, ttft_per_input_token: 2, itl: 10, itl_stddev: 5, load_factor: 4, max_concurrency: 2 };
    const p = pace(s, { start: 0, promptTokens: 100, count: 4, random: seeded(1), running: () => 2, ttft: 150, itl: 2 });
    assert.deepEqual([p.due(0), p.due(1), p.due(2), p.due(3)], [150, 152, 154, 156]);
  });
});

describe('the latency model as a client sees it', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['-t', '0', '-i', '0']);
  });
  after(async () => {
    await server.stop();
  });

  it('prefill adds ttft_per_input_token per prompt token to the time to first token', async () => {
    const cfg = await postJson(`${server.url}/configure`, { ttft: 50, ttft_per_input_token: 4 });
    assert.equal(cfg.status, 200);
    try {
      const content = Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ');
      const sent = performance.now();
      const res = await postJson(`${server.url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content }], max_tokens: 1 });
      const body = (await res.json()) as ChatResponse;
      const took = performance.now() - sent;
      const want = 50 + 4 * body.usage.prompt_tokens;
      assert.ok(body.usage.prompt_tokens > 60);
      assert.ok(took >= want, `answered after ${took.toFixed(1)} ms, before ${want} ms`);
      assert.ok(took < want + 400, `answered after ${took.toFixed(1)} ms, expected about ${want} ms`);
    } finally {
      await postJson(`${server.url}/configure`, { ttft: 0, ttft_per_input_token: 0 });
    }
  });

  it('with a seed, each request waits the TTFT the seeded model draws for its arrival number', async () => {
    // A server of its own, so the arrival numbers are known: request i is arrival i.
    const seeded = await startServer(['--seed', '1234', '-t', '250', '--ttft-stddev', '150', '--jitter-distribution', 'lognormal', '-i', '0']);
    try {
      const health = (await (await fetch(`${seeded.url}/health`)).json()) as HealthBody; // arrival 0
      const s = health.settings;
      for (let seq = 1; seq <= 6; seq++) {
        // The model's own prediction: the fault draw comes first, then the TTFT.
        const r = requestRandom(1234, seq);
        assert.equal(drawFault(r, s), undefined);
        const want = jittered(r, s.ttft, s.ttft_stddev, s.jitter_distribution);
        const sent = performance.now();
        const res = await postJson(`${seeded.url}/v1/completions`, { model: 'm', prompt: 'a b c', max_tokens: 2, stream: true });
        const events = await readSse(res);
        const ttft = events[0]!.at - sent;
        assert.ok(ttft >= want, `request ${seq}: first token at ${ttft.toFixed(1)} ms, before its drawn TTFT ${want.toFixed(1)} ms`);
        assert.ok(ttft < want + 200, `request ${seq}: first token at ${ttft.toFixed(1)} ms, drawn TTFT ${want.toFixed(1)} ms`);
      }
    } finally {
      await seeded.stop();
    }
  });
});

// Timing as a client sees it. Lower bounds are exact (no token may leave before its deadline). Upper bounds
// must hold on a loaded 2-core machine, which delays timers (here by up to several hundred ms) but never makes
// them early: they allow a second of lateness and are set where a wrong schedule (a doubled ITL, a TTFT left at
// its old value) still lies beyond them. Latency figures themselves are benchmarks: npm run bench.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, readSse, startServer, type RunningServer } from './support/server.js';
import type { ChatResponse, HealthBody } from '../src/types.js';

let server: RunningServer;
const words = (n: number): string => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');

before(async () => {
  server = await startServer(['-t', '300', '-i', '50']);
});
after(async () => {
  await server.stop();
});

describe('timing', () => {
  it('streams the first token after TTFT and the rest ITL apart, never early', async () => {
    const sent = performance.now();
    const res = await postJson(`${server.url}/v1/chat/completions`, {
      model: 'm',
      messages: [{ role: 'user', content: words(30) }],
      max_tokens: 41,
      stream: true,
    });
    const events = (await readSse(res)).slice(0, -1);
    assert.equal(events.length, 41);
    const ttft = events[0]!.at - sent;
    assert.ok(ttft >= 300, `first token at ${ttft.toFixed(1)} ms, before the 300 ms TTFT`);
    assert.ok(ttft < 300 + 1000, `first token at ${ttft.toFixed(1)} ms`);
    // Token k may not arrive before send + TTFT + k * ITL.
    events.forEach((e, k) => assert.ok(e.at - sent >= 300 + 50 * k, `token ${k} early at ${(e.at - sent).toFixed(1)} ms`));
    // The typical gap is the ITL: a late timer makes one long gap and the absolute deadlines then catch up with
    // short ones, so the median, not the mean, is what a loaded machine leaves alone.
    const gaps = events.slice(1).map((e, k) => e.at - events[k]!.at).sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)]!;
    assert.ok(median >= 40 && median <= 60, `median gap ${median.toFixed(1)} ms is not within 20% of 50 ms`);
    // Deadlines are absolute: lateness does not add up over the stream (a doubled ITL would take 4300 ms).
    const total = events.at(-1)!.at - sent;
    assert.ok(total >= 300 + 40 * 50 && total < 300 + 40 * 50 + 1000, `stream took ${total.toFixed(1)} ms`);
  });

  it('answers non-streaming requests after TTFT + (n - 1) * ITL', async () => {
    const sent = performance.now();
    const res = await postJson(`${server.url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: words(30) }], max_tokens: 5 });
    const body = (await res.json()) as ChatResponse;
    const took = performance.now() - sent;
    assert.equal(body.usage.completion_tokens, 5);
    assert.ok(took >= 300 + 4 * 50, `answered after ${took.toFixed(1)} ms`);
    assert.ok(took < 300 + 4 * 50 + 1000, `answered after ${took.toFixed(1)} ms`);
  });

  it('applies /configure to the next request, not to a stream in flight', async () => {
    const before = performance.now();
    const inFlight = postJson(`${server.url}/v1/chat/completions`, {
      model: 'm',
      messages: [{ role: 'user', content: words(10) }],
      max_tokens: 3,
      stream: true,
    }).then(readSse);
    const cfg = await postJson(`${server.url}/configure`, { ttft: 30, itl: 0 });
    assert.equal(cfg.status, 200);
    const health = (await (await fetch(`${server.url}/health`)).json()) as HealthBody;
    assert.equal(health.settings.ttft, 30);
    assert.equal(health.settings.itl, 0);

    // The stream that started under ttft 300 / itl 50 keeps them.
    const old = (await inFlight).slice(0, -1);
    assert.ok(old[2]!.at - before >= 300 + 2 * 50, 'a stream in flight keeps the settings it started with');

    const sent = performance.now();
    const res = await postJson(`${server.url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'x y z' }], stream: true });
    const events = await readSse(res);
    const first = events[0]!.at - sent;
    // At least the new TTFT, and short of the old 300 ms one by more than a loaded machine's usual lateness.
    assert.ok(first >= 30 && first < 300, `first token at ${first.toFixed(1)} ms with ttft 30 (was 300)`);
    await postJson(`${server.url}/configure`, { ttft: 300, itl: 50 });
  });

  it('takes fractional milliseconds and zero', async () => {
    const cfg = await postJson(`${server.url}/configure`, { ttft: 0, itl: 0.5 });
    assert.equal(cfg.status, 200);
    const sent = performance.now();
    const events = (await readSse(await postJson(`${server.url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: words(40) }], stream: true }))).slice(0, -1);
    const total = events.at(-1)!.at - sent;
    const tokens = events.length;
    assert.ok(total >= (tokens - 1) * 0.5, `${tokens} tokens in ${total.toFixed(1)} ms is faster than 0.5 ms apart`);
    await postJson(`${server.url}/configure`, { ttft: 300, itl: 50 });
  });
});

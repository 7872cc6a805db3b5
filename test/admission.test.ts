// Load and queueing: max_concurrency, the FIFO queue up to max_queue (429 beyond it), the queue wait in the
// time to first token, and load_factor. The queue itself is checked without a clock; the server as a client
// sees it, with lower bounds exact and upper bounds loose.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Admission, QueueFull, type Release } from '../src/model/admission.js';
import { postJson, readSse, startServer, type RunningServer, type SseEvent } from './support/server.js';
import { metric } from './support/prometheus.js';
import type { ErrorBody } from '../src/types.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('the admission queue', () => {
  const limits = { max_concurrency: 2, max_queue: 3 };
  const make = (): Admission => new Admission(() => limits);

  it('admits up to max_concurrency at once, then queues in arrival order (FIFO)', async () => {
    limits.max_concurrency = 2;
    limits.max_queue = 3;
    const a = make();
    const order: string[] = [];
    const releases = new Map<string, Release>();
    const queued: string[] = [];
    const enter = (name: string): Promise<void> =>
      a.acquire(() => (queued.push(name), new AbortController().signal)).then((release) => {
        order.push(name);
        releases.set(name, release);
      });
    const all = ['a', 'b', 'c', 'd', 'e'].map(enter);
    await tick();
    assert.deepEqual(order, ['a', 'b']);
    assert.deepEqual(queued, ['c', 'd', 'e']);
    assert.equal(a.running, 2);
    assert.equal(a.waiting, 3);
    releases.get('b')!();
    await tick();
    assert.deepEqual(order, ['a', 'b', 'c'], 'the oldest waiter gets the freed slot');
    releases.get('b')!(); // a second release of the same slot changes nothing
    await tick();
    assert.equal(a.running, 2);
    releases.get('a')!();
    releases.get('c')!();
    await Promise.all(all);
    assert.deepEqual(order, ['a', 'b', 'c', 'd', 'e']);
    assert.equal(a.waiting, 0);
  });

  it('refuses with QueueFull beyond max_queue, and max_queue 0 means no queue', async () => {
    limits.max_concurrency = 1;
    limits.max_queue = 1;
    const a = make();
    const signal = new AbortController().signal;
    const first = await a.acquire(() => assert.fail('the first is not queued'));
    const second = a.acquire(() => signal);
    await assert.rejects(a.acquire(() => assert.fail('refused, not queued')), QueueFull);
    first();
    (await second)();
    limits.max_queue = 0;
    const only = await a.acquire(() => signal);
    await assert.rejects(a.acquire(() => signal), QueueFull);
    only();
  });

  it('a waiter whose client leaves gives up its place; the next in line moves up', async () => {
    limits.max_concurrency = 1;
    limits.max_queue = 5;
    const a = make();
    const first = await a.acquire(() => assert.fail('not queued'));
    const leaving = new AbortController();
    const gone = a.acquire(() => leaving.signal);
    const staying = a.acquire(() => new AbortController().signal);
    assert.equal(a.waiting, 2);
    leaving.abort(new Error('client left'));
    await assert.rejects(gone, /client left/);
    assert.equal(a.waiting, 1);
    // A client already gone when it would have to wait is refused at once, and takes no place.
    await assert.rejects(a.acquire(() => AbortSignal.abort(new Error('gone before'))), /gone before/);
    assert.equal(a.waiting, 1);
    first();
    (await staying)();
    assert.equal(a.running, 0);
    assert.equal(a.waiting, 0);
  });

  it('max_concurrency 0 is unlimited; raising the limit (recheck) admits the waiters at once', async () => {
    limits.max_concurrency = 0;
    limits.max_queue = 0;
    const a = make();
    const many = await Promise.all(Array.from({ length: 100 }, () => a.acquire(() => assert.fail('never queued'))));
    assert.equal(a.running, 100);
    many.forEach((r) => r());
    limits.max_concurrency = 1;
    limits.max_queue = 10;
    const one = await a.acquire(() => assert.fail('not queued'));
    let admitted = 0;
    const waiters = Array.from({ length: 3 }, () => a.acquire(() => new AbortController().signal).then((r) => (admitted++, r)));
    await tick();
    assert.equal(admitted, 0);
    limits.max_concurrency = 3;
    a.recheck();
    await tick();
    assert.equal(admitted, 2, 'two more slots: two waiters in');
    one();
    (await Promise.all(waiters)).forEach((r) => r());
    assert.equal(a.running, 0);
  });
});

const words = (n: number): string => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');
const stream = (url: string, tokens: number, headers: Record<string, string> = {}): Promise<Response> =>
  postJson(`${url}/v1/completions`, { model: 'm', prompt: words(40), max_tokens: tokens, ignore_eos: true, stream: true }, headers);

async function until(what: string, probe: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await probe())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('queueing as a client sees it', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['-t', '0', '-i', '100', '--max-concurrency', '2', '--max-queue', '2']);
  });
  after(async () => {
    await server.stop();
  });
  const gauges = async (): Promise<{ running: number; waiting: number }> => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return { running: metric(text, 'vllm:num_requests_running') ?? 0, waiting: metric(text, 'vllm:num_requests_waiting') ?? 0 };
  };

  it('runs max_concurrency streams, queues the next max_queue in order, answers 429 beyond, and the wait adds to TTFT', async () => {
    const t0 = performance.now();
    // a: 10 tokens (ends near 900 ms), b: 25 tokens (ends near 2400 ms); c (25 tokens, so it outlasts b) and d wait. The
    // lengths leave the checks below most of a second, which a loaded machine needs.
    const a = stream(server.url, 10).then(readSse);
    const b = stream(server.url, 25).then(readSse);
    await until('a and b running', async () => (await gauges()).running === 2);
    const cSent = performance.now();
    const c = stream(server.url, 25).then(readSse);
    await until('c waiting', async () => (await gauges()).waiting === 1);
    const d = stream(server.url, 2).then(readSse);
    await until('d waiting', async () => (await gauges()).waiting === 2);
    assert.deepEqual(await gauges(), { running: 2, waiting: 2 });

    const refused = await stream(server.url, 2);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1');
    const body = (await refused.json()) as ErrorBody;
    assert.equal(typeof body.error.message, 'string');
    assert.equal(body.error.type, 'requests');
    assert.equal(body.error.code, 'queue_full');
    assert.equal(body.error.param, null);

    const [ea, eb, ec, ed] = (await Promise.all([a, b, c, d])) as SseEvent[][];
    for (const events of [ea, eb, ec, ed]) assert.equal(events!.at(-1)!.data, '[DONE]');
    const done = (e: SseEvent[]): number => e.at(-1)!.at;
    const first = (e: SseEvent[]): number => e[0]!.at;
    // c takes a's slot; d, behind it, waits for the next one, b's: first in, first out.
    assert.ok(first(ec!) >= done(ea!) - 1, 'c starts only when a has ended');
    assert.ok(first(ed!) >= done(eb!) - 1, 'd starts only when b has ended');
    assert.ok(first(ec!) < first(ed!), 'c, which came first, starts first');
    // Its wait in the queue is part of c's time to first token: a needed at least 9 gaps of 100 ms.
    assert.ok(first(ec!) - cSent >= 900 - (cSent - t0), `c's TTFT ${(first(ec!) - cSent).toFixed(0)} ms includes the wait`);
    assert.ok(first(ed!) - t0 >= 2400, `d's first token ${(first(ed!) - t0).toFixed(0)} ms after the start, b ends at 2400 ms`);
    assert.deepEqual(await gauges(), { running: 0, waiting: 0 });
  });

  it('a client that leaves the queue frees its place', async () => {
    const a = stream(server.url, 20).then(readSse);
    const b = stream(server.url, 20).then(readSse);
    await until('a and b running', async () => (await gauges()).running === 2);
    const leaving = new AbortController();
    const c = fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', prompt: 'x', stream: true }),
      signal: leaving.signal,
    }).catch((e: unknown) => e);
    await until('c waiting', async () => (await gauges()).waiting === 1);
    leaving.abort();
    assert.ok((await c) instanceof Error);
    await until('c gone from the queue', async () => (await gauges()).waiting === 0);
    await Promise.all([a, b]);
  });

  it('max_concurrency, max_queue and load_factor change with /configure; raising the limit admits waiters', async () => {
    const cfg = await postJson(`${server.url}/configure`, { max_concurrency: 1, max_queue: 0 });
    assert.equal(cfg.status, 200);
    const a = stream(server.url, 30).then(readSse); // 2900 ms
    await until('a running', async () => (await gauges()).running === 1);
    assert.equal((await stream(server.url, 1)).status, 429, 'max_queue 0: no waiting at all');
    await postJson(`${server.url}/configure`, { max_queue: 5 });
    const b = stream(server.url, 1).then(readSse);
    await until('b waiting', async () => (await gauges()).waiting === 1);
    const raised = performance.now();
    await postJson(`${server.url}/configure`, { max_concurrency: 0 });
    const eb = await b;
    const ea = await a;
    assert.ok(eb[0]!.at >= raised, 'b waited until the limit was lifted');
    assert.ok(eb[0]!.at < ea.at(-1)!.at, 'b is admitted when the limit is lifted, not when a ends');
    await postJson(`${server.url}/configure`, { max_concurrency: 2, max_queue: 2 });
  });
});

describe('load_factor as a client sees it', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['-t', '100', '-i', '100', '--max-concurrency', '2', '--load-factor', '3']);
  });
  after(async () => {
    await server.stop();
  });

  it('one stream alone runs at ITL; two at max_concurrency run at load_factor x ITL', async () => {
    const sent = performance.now();
    const alone = await stream(server.url, 6).then(readSse);
    const aloneTook = alone.at(-2)!.at - sent;
    assert.ok(aloneTook >= 100 + 5 * 100, `alone: ${aloneTook.toFixed(0)} ms`);
    assert.ok(aloneTook < 1300, `alone: ${aloneTook.toFixed(0)} ms, expected about 600 ms (3x would be 1600 ms)`);

    const both = performance.now();
    const two = await Promise.all([stream(server.url, 6).then(readSse), stream(server.url, 6).then(readSse)]);
    for (const events of two) {
      const took = events.at(-2)!.at - both;
      // Every gap is scheduled while both run: 3 x 100 ms each.
      assert.ok(took >= 100 + 5 * 300, `under load: last token after ${took.toFixed(0)} ms, before 1600 ms`);
      assert.ok(took < 100 + 5 * 300 + 1000, `under load: last token after ${took.toFixed(0)} ms`);
    }
  });
});

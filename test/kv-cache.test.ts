// The engine model's KV cache (enable_kv_cache): blocks of block_size tokens out of kv_cache_tokens, held by
// running requests for their prompt and what they generated so far; admission waits for a prompt's blocks
// (FIFO), a prompt larger than the cache is a 400, and with enable_preemption the newest stream is preempted
// and resumes after a re-prefill. The model is checked without a clock first, then as a client sees it; lower
// bounds on times are exact (no token leaves early), upper bounds loose.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Admission, type Release } from '../src/model/admission.js';
import { KvCache, TooLargeForCache, type KvSettings } from '../src/model/kvCache.js';
import { postJson, readSse, startServer, type RunningServer, type SseEvent } from './support/server.js';
import { metric } from './support/prometheus.js';
import type { ErrorBody } from '../src/types.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('the KV cache model', () => {
  const settings: KvSettings = { enable_kv_cache: true, kv_cache_tokens: 160, block_size: 16, enable_preemption: false };
  const make = (): { kv: KvCache; admission: Admission } => {
    const admission = new Admission(() => ({ max_concurrency: 0, max_queue: 10 }));
    const kv = new KvCache(() => settings, () => admission.recheck());
    return { kv, admission };
  };
  const quiet = { changed: () => undefined };

  it('holds ceil(tokens / block_size) blocks, and admits a prompt only when its blocks are free, in FIFO order', async () => {
    settings.enable_preemption = false;
    const { kv, admission } = make();
    assert.equal(kv.totalBlocks, 10);
    const a = kv.claim(100, quiet); // 7 blocks
    const releaseA = await admission.acquire(() => assert.fail('a fits at once'), a);
    assert.equal(kv.usedBlocks, 7);
    assert.equal(a.hold!.grow(112), true);
    assert.equal(kv.usedBlocks, 7, '112 tokens still fill 7 blocks');
    a.hold!.grow(113);
    assert.equal(kv.usedBlocks, 8, 'the 113th token takes an 8th block');
    const order: string[] = [];
    const b = kv.claim(48, quiet); // 3 blocks: 8 + 3 > 10
    const c = kv.claim(16, quiet); // 1 block: would fit, but waits behind b (FIFO)
    const wb = admission.acquire(() => new AbortController().signal, b).then((r) => (order.push('b'), r));
    const wc = admission.acquire(() => new AbortController().signal, c).then((r) => (order.push('c'), r));
    await tick();
    assert.deepEqual(order, []);
    assert.equal(admission.waiting, 2);
    a.hold!.release();
    releaseA();
    const released: Release[] = await Promise.all([wb, wc]);
    assert.deepEqual(order, ['b', 'c']);
    assert.equal(kv.usedBlocks, 4);
    b.hold!.release();
    c.hold!.release();
    released.forEach((r) => r());
    assert.equal(kv.usedBlocks, 0);
  });

  it('refuses a prompt whose blocks exceed the whole cache', () => {
    const { kv } = make();
    assert.doesNotThrow(() => kv.claim(160, quiet));
    assert.throws(() => kv.claim(161, quiet), TooLargeForCache);
  });

  it('without preemption a running request grows past the capacity; with it, the newest pausable request is preempted', async () => {
    settings.enable_preemption = false;
    let { kv, admission } = make();
    const whole = kv.claim(64, quiet); // 4 blocks, cannot pause
    await admission.acquire(() => assert.fail(), whole);
    whole.hold!.grow(160);
    assert.equal(kv.usedBlocks, 10);
    assert.equal(whole.hold!.grow(200), true);
    assert.equal(kv.usedBlocks, 13, 'over the capacity: nothing refuses the growth');
    assert.equal(kv.preemptions, 0);

    settings.enable_preemption = true;
    ({ kv, admission } = make());
    const preempted: string[] = [];
    const slots = new Map<string, Release>();
    // A preempted stream gives back its concurrency slot at once, which lets the queue look again.
    const events = (name: string) => ({ changed: () => undefined, preempt: () => (preempted.push(name), slots.get(name)!()) });
    const old = kv.claim(32, events('old'));
    const mid = kv.claim(32, events('mid'));
    const young = kv.claim(32, events('young'));
    const unpausable = kv.claim(32, quiet);
    for (const [name, c] of [['old', old], ['mid', mid], ['young', young], ['u', unpausable]] as const) slots.set(name, await admission.acquire(() => assert.fail(), c));
    assert.equal(kv.usedBlocks, 8);
    // A waiter that would fit in the blocks a preemption frees must not take them from the request that grows.
    const waiter = kv.claim(48, quiet); // 3 blocks: 8 + 3 > 10
    let admitted = false;
    void admission.acquire(() => new AbortController().signal, waiter).then(() => (admitted = true));
    assert.equal(old.hold!.grow(32 + 48), true, 'old needs 3 more blocks: 2 free, young preempted for the third');
    assert.deepEqual(preempted, ['young']);
    assert.equal(young.hold!.released, true);
    assert.equal(kv.usedBlocks, 9);
    await tick();
    assert.equal(admitted, false, 'the waiter did not take the blocks freed for old');
    // The newest is the one asking: it is preempted itself and told so; what it frees goes to the queue.
    assert.equal(mid.hold!.grow(32 + 32), false);
    assert.deepEqual(preempted, ['young', 'mid']);
    assert.equal(kv.preemptions, 2);
    await tick();
    assert.equal(admitted, true);
    assert.equal(kv.usedBlocks, 10);
  });
});

/** A prompt of exactly `n` tokens: token ids, which /v1/completions takes as they are. */
const ids = (n: number): number[] => Array.from({ length: n }, (_, i) => 1000 + i);
const stream = (url: string, prompt: number, tokens: number): Promise<Response> =>
  postJson(`${url}/v1/completions`, { model: 'm', prompt: ids(prompt), max_tokens: tokens, ignore_eos: true, stream: true });

async function until(what: string, probe: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await probe())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const tokenFrames = (events: SseEvent[]): SseEvent[] => events.filter((e) => e.data !== '[DONE]');

describe('the KV cache as a client sees it', () => {
  let server: RunningServer;
  // 16 blocks of 16 tokens.
  before(async () => {
    server = await startServer(['-t', '0', '-i', '40', '--enable-kv-cache', '--kv-cache-tokens', '256', '--block-size', '16']);
  });
  after(async () => {
    await server.stop();
  });
  const page = async (): Promise<string> => (await fetch(`${server.url}/metrics`)).text();

  it('a prompt whose blocks are not free waits for them, its wait in its TTFT; vllm:kv_cache_usage_perc counts blocks', async () => {
    // a: 160 prompt tokens (10 blocks) + 20 tokens → 12 blocks by its end; b: 100 tokens (7 blocks) fits only after a.
    const a = stream(server.url, 160, 20).then(readSse);
    await until('a running', async () => metric(await page(), 'vllm:num_requests_running') === 1);
    const usage = metric(await page(), 'vllm:kv_cache_usage_perc')!;
    assert.ok(usage >= 10 / 16 && usage <= 12 / 16 && Number.isInteger(usage * 16), `usage ${usage} is a number of blocks over 16`);
    const b = stream(server.url, 100, 2).then(readSse);
    await until('b waiting', async () => metric(await page(), 'vllm:num_requests_waiting') === 1);
    const [ea, eb] = await Promise.all([a, b]);
    assert.equal(ea.at(-1)!.data, '[DONE]');
    assert.equal(eb.at(-1)!.data, '[DONE]');
    assert.ok(eb[0]!.at >= tokenFrames(ea).at(-1)!.at - 1, 'b starts only when a has ended and freed its blocks');
    assert.equal(metric(await page(), 'vllm:kv_cache_usage_perc'), 0, 'every block is free again');
  });

  it('a prompt larger than the whole cache is refused with a 400', async () => {
    const res = await stream(server.url, 257, 1);
    assert.equal(res.status, 400);
    const body = (await res.json()) as ErrorBody;
    assert.equal(body.error.param, 'input_tokens');
    assert.match(body.error.message, /KV cache holds 256 tokens/);
    assert.equal((await stream(server.url, 256, 1)).status, 200);
  });
});

describe('recompute preemption as a client sees it', () => {
  let server: RunningServer;
  const perToken = 4;
  before(async () => {
    server = await startServer([
      '-t', '0', '-i', '20', '--ttft-per-input-token', String(perToken),
      '--enable-kv-cache', '--kv-cache-tokens', '256', '--block-size', '16', '--enable-preemption',
    ]);
  });
  after(async () => {
    await server.stop();
  });
  const page = async (): Promise<string> => (await fetch(`${server.url}/metrics`)).text();

  it('the newest stream pauses when an older one needs a block, and resumes after the older ends, after a re-prefill of prompt + sent tokens', async () => {
    // a and b: 96 prompt tokens (6 blocks) each, 100 output tokens; together they outgrow 16 blocks after about
    // 30 tokens each, and a alone ends at 13 blocks: b, the newer, is preempted and waits for a's end.
    const a = stream(server.url, 96, 100).then(readSse);
    await until('a running', async () => metric(await page(), 'vllm:num_requests_running') === 1);
    const b = stream(server.url, 96, 100).then(readSse);
    const [ea, eb] = await Promise.all([a, b]);
    assert.equal(ea.at(-1)!.data, '[DONE]');
    assert.equal(eb.at(-1)!.data, '[DONE]');
    const fa = tokenFrames(ea);
    const fb = tokenFrames(eb);
    assert.equal(fa.length, 100);
    assert.equal(fb.length, 100, 'the preempted stream still sends every token once');
    // b's pause: its longest gap.
    let pause = 1;
    for (let k = 2; k < fb.length; k++) if (fb[k]!.at - fb[k - 1]!.at > fb[pause]!.at - fb[pause - 1]!.at) pause = k;
    const reprefill = perToken * (96 + pause);
    assert.ok(pause > 10 && pause < 60, `b was preempted after ${pause} tokens`);
    assert.ok(fb[pause]!.at >= fa.at(-1)!.at + reprefill - 50, `b resumes ${(fb[pause]!.at - fa.at(-1)!.at).toFixed(0)} ms after a's end: a re-prefill of ${reprefill} ms`);
    const text = await page();
    assert.equal(metric(text, 'vllm:num_preemptions_total'), 1);
    assert.equal(metric(text, 'vllm:kv_cache_usage_perc'), 0);
    assert.equal(metric(text, 'vllm:num_requests_waiting'), 0);
    assert.equal(metric(text, 'vllm:num_requests_running'), 0);
  });

  it('a client that leaves while preempted gives up its place in the queue, and holds nothing', async () => {
    const before = metric(await page(), 'vllm:num_preemptions_total')!;
    const a = stream(server.url, 96, 100).then(readSse);
    await until('a running', async () => metric(await page(), 'vllm:num_requests_running') === 1);
    const leaving = new AbortController();
    const b = fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', prompt: ids(96), max_tokens: 100, ignore_eos: true, stream: true }),
      signal: leaving.signal,
    }).then(readSse).catch((e: unknown) => e);
    await until('b preempted', async () => metric(await page(), 'vllm:num_preemptions_total') === before + 1);
    assert.equal(metric(await page(), 'vllm:num_requests_waiting'), 1, 'the preempted stream waits');
    leaving.abort();
    assert.ok((await b) instanceof Error);
    await until('b gone from the queue', async () => metric(await page(), 'vllm:num_requests_waiting') === 0);
    assert.equal((await a).at(-1)!.data, '[DONE]');
    const text = await page();
    assert.equal(metric(text, 'vllm:kv_cache_usage_perc'), 0);
    assert.equal(metric(text, 'vllm:num_requests_running'), 0);
  });
});

// Fault injection: the X-Mock-* headers exactly, error_rate and stream_abort_rate shares within binomial
// bounds (seeded, so the counts are the same on every run), reproducibility with a seed, and startup_delay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postJson, readSse, startServer, type RunningServer } from './support/server.js';
import { binomialNear } from './support/stats.js';
import { drawAbort, drawFault, type ErrorCode } from '../src/model/faults.js';
import { requestRandom } from '../src/model/random.js';
import type { ChatChunk, ErrorBody, HealthBody } from '../src/types.js';

const CHAT = '/v1/chat/completions';
const TEXT = '/v1/completions';
const words = (n: number): string => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');
const chat = (extra: object = {}): object => ({ model: 'm', messages: [{ role: 'user', content: words(30) }], ...extra });
const text = (extra: object = {}): object => ({ model: 'm', prompt: words(30), ...extra });

/** What a stream delivered before it ended: its data lines, and how it ended. */
interface Cut {
  data: string[];
  /** 'done' after `data: [DONE]` and a clean end; 'closed' when the connection broke off. */
  end: 'done' | 'closed';
}

/** Reads a stream that may be cut: unlike readSse, a connection that breaks off is a result, not an error. */
async function readCut(res: Response): Promise<Cut> {
  const decoder = new TextDecoder();
  let buffer = '';
  const data: string[] = [];
  const take = (): void => {
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      assert.ok(block.startsWith('data: '), `bad frame ${block}`);
      data.push(block.slice(6));
    }
  };
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      take();
    }
  } catch {
    take();
    assert.equal(buffer, '', 'a cut falls between frames');
    return { data, end: 'closed' };
  }
  assert.equal(buffer, '');
  return { data, end: 'done' };
}

const isErrorFrame = (d: string): boolean => d.startsWith('{"error"');

function assertErrorShape(body: ErrorBody, what: string): void {
  assert.deepEqual(Object.keys(body), ['error'], what);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type'], what);
  assert.equal(typeof body.error.message, 'string', what);
  assert.ok(body.error.message.length > 0, what);
}

/** The status, OpenAI type and code, param and Retry-After of each forced or drawn error. */
const EXPECTED: Record<number, { type: string; code: string; param: string | null; retryAfter: string | null }> = {
  400: { type: 'invalid_request_error', code: 'context_length_exceeded', param: 'messages', retryAfter: null },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', param: null, retryAfter: null },
  429: { type: 'requests', code: 'rate_limit_exceeded', param: null, retryAfter: '1' },
  500: { type: 'server_error', code: null as unknown as string, param: null, retryAfter: null },
  503: { type: 'server_error', code: 'service_unavailable', param: null, retryAfter: '1' },
};

async function assertFault(res: Response, status: number): Promise<void> {
  assert.equal(res.status, status);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(res.headers.get('retry-after'), EXPECTED[status]!.retryAfter, `Retry-After of ${status}`);
  assert.match(res.headers.get('x-request-id') ?? '', /^req-/);
  const body = (await res.json()) as ErrorBody;
  assertErrorShape(body, `error ${status}`);
  assert.equal(body.error.type, EXPECTED[status]!.type, `type of ${status}`);
  assert.equal(body.error.code, EXPECTED[status]!.code, `code of ${status}`);
  assert.equal(body.error.param, EXPECTED[status]!.param, `param of ${status}`);
}

describe('the fault draws (seeded samples of the model itself)', () => {
  const N = 100_000;
  const settings = (error_rate: number, error_types: ErrorCode[] = [429, 500, 503, 400, 401]) => ({ error_rate, error_types });

  it('drawFault: error_rate percent of requests fails, evenly over error_types', () => {
    const drawn = Array.from({ length: N }, (_, i) => drawFault(requestRandom(7, i), settings(20)));
    const failed = drawn.filter((d) => d !== undefined);
    binomialNear(failed.length, N, 0.2, 'failed');
    for (const code of [429, 500, 503, 400, 401]) binomialNear(failed.filter((d) => d === code).length, failed.length, 0.2, `share of ${code}`);
    assert.ok(Array.from({ length: 1000 }, (_, i) => drawFault(requestRandom(7, i), settings(0))).every((d) => d === undefined), 'rate 0: none');
    assert.ok(Array.from({ length: 1000 }, (_, i) => drawFault(requestRandom(7, i), settings(100, [503]))).every((d) => d === 503), 'rate 100: all');
  });

  it('drawAbort: stream_abort_rate percent of streams is cut, at a position uniform over the stream', () => {
    const tokens = 10;
    const at = Array.from({ length: N }, (_, i) => drawAbort(requestRandom(8, i), { stream_abort_rate: 30 }, tokens));
    const cut = at.filter((a): a is number => a !== undefined);
    binomialNear(cut.length, N, 0.3, 'cut');
    assert.ok(cut.every((a) => Number.isInteger(a) && a >= 0 && a < tokens));
    for (let k = 0; k < tokens; k++) binomialNear(cut.filter((a) => a === k).length, cut.length, 1 / tokens, `cut after ${k}`);
  });

  it('one seed, one sequence of faults; each request its own', () => {
    const run = (seed: number): Array<number | undefined> => Array.from({ length: 200 }, (_, i) => drawFault(requestRandom(seed, i), settings(50)));
    assert.deepEqual(run(1), run(1));
    assert.notDeepEqual(run(1), run(2));
  });
});

describe('forced behaviour: X-Mock-* headers', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['-t', '0', '-i', '0']);
  });
  after(async () => {
    await server.stop();
  });

  it('X-Mock-Error answers with exactly that error, in OpenAI shape, on both endpoints, streaming or not', async () => {
    for (const status of [400, 401, 429, 500, 503]) {
      for (const [path, body] of [
        [CHAT, chat()],
        [CHAT, chat({ stream: true })],
        [TEXT, text()],
        [TEXT, text({ stream: true })],
      ] as const) {
        await assertFault(await postJson(server.url + path, body, { 'X-Mock-Error': String(status) }), status);
      }
    }
    // The 400 names the prompt's real length.
    const res = await postJson(server.url + CHAT, chat(), { 'X-Mock-Error': '400' });
    const { error } = (await res.json()) as ErrorBody;
    const usage = ((await (await postJson(server.url + CHAT, chat())).json()) as { usage: { prompt_tokens: number } }).usage;
    assert.match(error.message, new RegExp(`your request has ${usage.prompt_tokens} input tokens`));
  });

  it('refuses a forced value outside the contract with a 400 naming the header', async () => {
    for (const [name, value] of [
      ['X-Mock-Error', '404'],
      ['X-Mock-Error', 'soon'],
      ['X-Mock-TTFT', '-1'],
      ['X-Mock-ITL', 'fast'],
      ['X-Mock-Abort-After', '1.5'],
    ] as const) {
      const res = await postJson(server.url + CHAT, chat(), { [name]: value });
      assert.equal(res.status, 400, `${name}: ${value}`);
      const body = (await res.json()) as ErrorBody;
      assert.equal(body.error.param, name.toLowerCase());
    }
  });

  it('X-Mock-TTFT and X-Mock-ITL replace the configured latencies for that request', async () => {
    await postJson(`${server.url}/configure`, { ttft: 0, itl: 100 });
    try {
      let sent = performance.now();
      let events = await readSse(await postJson(server.url + CHAT, chat({ stream: true, max_tokens: 10 }), { 'X-Mock-TTFT': '150', 'X-Mock-ITL': '2' }));
      assert.equal(events.length, 11);
      const first = events[0]!.at - sent;
      const last = events[9]!.at - sent;
      assert.ok(first >= 150 && first < 150 + 250, `first token after ${first.toFixed(1)} ms with X-Mock-TTFT: 150`);
      assert.ok(last >= 150 + 9 * 2, `last token after ${last.toFixed(1)} ms`);
      assert.ok(last < 150 + 9 * 2 + 400, `last token after ${last.toFixed(1)} ms; with the configured ITL it would be 1050 ms`);

      await postJson(`${server.url}/configure`, { ttft: 2000, itl: 0 });
      sent = performance.now();
      events = await readSse(await postJson(server.url + TEXT, text({ stream: true, max_tokens: 5 }), { 'X-Mock-TTFT': '0', 'X-Mock-ITL': '60' }));
      assert.ok(events[0]!.at - sent < 1000, 'X-Mock-TTFT: 0 overrides the configured 2000 ms');
      assert.ok(events[4]!.at - sent >= 4 * 60, `ITL 60 ms: token 4 at ${(events[4]!.at - sent).toFixed(1)} ms`);

      // Non-streaming: the answer comes at TTFT + (n - 1) x ITL of the forced values.
      sent = performance.now();
      const res = await postJson(server.url + CHAT, chat({ max_tokens: 4 }), { 'X-Mock-TTFT': '100', 'X-Mock-ITL': '50' });
      assert.equal(res.status, 200);
      await res.json();
      const took = performance.now() - sent;
      assert.ok(took >= 100 + 3 * 50 && took < 100 + 3 * 50 + 400, `answered after ${took.toFixed(1)} ms`);
    } finally {
      await postJson(`${server.url}/configure`, { ttft: 0, itl: 0 });
    }
  });

  it('X-Mock-Abort-After: N token chunks, then an error event and [DONE] (stream_abort_mode error)', async () => {
    for (const [path, body] of [
      [CHAT, chat({ stream: true, max_tokens: 30, stream_options: { include_usage: true } })],
      [TEXT, text({ stream: true, max_tokens: 30 })],
    ] as const) {
      const cut = await readCut(await postJson(server.url + path, body, { 'X-Mock-Abort-After': '10' }));
      assert.equal(cut.end, 'done');
      assert.equal(cut.data.length, 12, `${path}: 10 tokens, the error, [DONE]`);
      for (const d of cut.data.slice(0, 10)) {
        const chunk = JSON.parse(d) as ChatChunk;
        assert.equal(chunk.choices.length, 1);
        assert.equal(chunk.choices[0]!.finish_reason, null, 'no chunk of a cut stream says it finished');
      }
      const err = JSON.parse(cut.data[10]!) as ErrorBody;
      assertErrorShape(err, 'the error event');
      assert.equal(err.error.type, 'server_error');
      assert.equal(err.error.code, 'stream_aborted');
      assert.equal(cut.data[11], '[DONE]');
    }
    const none = await readCut(await postJson(server.url + CHAT, chat({ stream: true }), { 'X-Mock-Abort-After': '0' }));
    assert.deepEqual(none.data.length, 2, 'after 0 tokens: the error and [DONE] only');
    assert.ok(isErrorFrame(none.data[0]!));
    // A cut at or beyond the stream's length never comes; a non-streaming request is not cut.
    const whole = await readCut(await postJson(server.url + CHAT, chat({ stream: true, max_tokens: 10 }), { 'X-Mock-Abort-After': '10' }));
    assert.equal(whole.data.length, 11);
    assert.ok(!whole.data.some(isErrorFrame));
    assert.equal((await postJson(server.url + CHAT, chat({ max_tokens: 10 }), { 'X-Mock-Abort-After': '3' })).status, 200);
  });

  it('X-Mock-Abort-After with stream_abort_mode close: N token chunks, then the connection drops', async () => {
    assert.equal((await postJson(`${server.url}/configure`, { stream_abort_mode: 'close' })).status, 200);
    try {
      // Both at once (ITL 0: the 10 chunks and the cut in one write) and spread over time.
      for (const itl of ['0', '5']) {
        const cut = await readCut(await postJson(server.url + CHAT, chat({ stream: true, max_tokens: 30 }), { 'X-Mock-Abort-After': '10', 'X-Mock-ITL': itl }));
        assert.equal(cut.end, 'closed', 'no [DONE], no clean end');
        assert.equal(cut.data.length, 10, `ITL ${itl}: every chunk before the cut arrives`);
        assert.ok(!cut.data.some(isErrorFrame));
      }
      // A cut before the first token: the 200 and its headers, then nothing.
      const res = await postJson(server.url + CHAT, chat({ stream: true }), { 'X-Mock-Abort-After': '0' });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
      assert.deepEqual(await readCut(res), { data: [], end: 'closed' });
      // The server is fine afterwards.
      assert.equal((await postJson(server.url + CHAT, chat())).status, 200);
    } finally {
      await postJson(`${server.url}/configure`, { stream_abort_mode: 'error' });
    }
  });
});

describe('error_rate and error_types', () => {
  /** The statuses of `n` non-streaming requests, sent `batch` at a time. */
  async function statuses(url: string, n: number, batch = 1): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < n; i += batch) {
      const group = await Promise.all(
        Array.from({ length: Math.min(batch, n - i) }, async () => {
          const res = await postJson(url + TEXT, { model: 'm', prompt: 'hi', max_tokens: 1 });
          if (res.status !== 200) await assertFault(res, res.status);
          else await res.arrayBuffer();
          return res.status;
        }),
      );
      out.push(...group);
    }
    return out;
  }

  it('answers that share of requests with errors, drawn evenly from error_types, each in OpenAI shape', async () => {
    const server = await startServer(['-t', '0', '-i', '0', '--error-rate', '30', '--error-types', '429,503', '--seed', '99']);
    try {
      const N = 600;
      const got = await statuses(server.url, N, 20);
      const errors = got.filter((s) => s !== 200);
      binomialNear(errors.length, N, 0.3, 'errors');
      assert.deepEqual([...new Set(errors)].sort(), [429, 503], 'only the error_types');
      binomialNear(errors.filter((s) => s === 429).length, errors.length, 0.5, '429 among the errors');
    } finally {
      await server.stop();
    }
  });

  it('every error type by default; error_rate 100 fails every request, 0 none (/configure)', async () => {
    const server = await startServer(['-t', '0', '-i', '0', '--seed', '3'], { MOCK_SERVER_ERROR_RATE: '100' });
    try {
      const N = 500;
      const got = await statuses(server.url, N, 25);
      assert.ok(!got.includes(200), 'error_rate 100: every request fails');
      for (const status of [400, 401, 429, 500, 503]) binomialNear(got.filter((s) => s === status).length, N, 0.2, `share of ${status}`);
      assert.equal((await postJson(`${server.url}/configure`, { error_rate: 0 })).status, 200);
      assert.deepEqual([...new Set(await statuses(server.url, 50, 25))], [200], 'error_rate 0: none fails');
      assert.equal((await postJson(`${server.url}/configure`, { error_rate: 100, error_types: [401] })).status, 200);
      assert.deepEqual([...new Set(await statuses(server.url, 20, 10))], [401]);
      for (const bad of [{ error_rate: 100.5 }, { error_types: [] }, { error_types: [404] }, { error_types: [500, 500] }]) {
        assert.equal((await postJson(`${server.url}/configure`, bad)).status, 400, JSON.stringify(bad));
      }
    } finally {
      await server.stop();
    }
  });

  it('with a seed, the same requests fail the same way on every run; another seed, another way', async () => {
    const run = async (seed: string): Promise<number[]> => {
      const server = await startServer(['-t', '0', '-i', '0', '--error-rate', '50', '--seed', seed]);
      try {
        return await statuses(server.url, 60);
      } finally {
        await server.stop();
      }
    };
    const first = await run('2024');
    assert.ok(first.includes(200) && first.some((s) => s !== 200));
    assert.deepEqual(await run('2024'), first);
    assert.notDeepEqual(await run('2025'), first);
  });
});

describe('stream_abort_rate', () => {
  it('cuts that share of streams after a random number of tokens (error mode: error event, then [DONE])', async () => {
    const server = await startServer(['-t', '0', '-i', '0', '--stream-abort-rate', '40', '--seed', '5']);
    try {
      const N = 400;
      const TOKENS = 8;
      const cuts: Cut[] = [];
      for (let i = 0; i < N; i += 20) {
        cuts.push(
          ...(await Promise.all(
            Array.from({ length: 20 }, async () => readCut(await postJson(server.url + TEXT, text({ stream: true, max_tokens: TOKENS, ignore_eos: true })))),
          )),
        );
      }
      const cut = cuts.filter((c) => c.data.some(isErrorFrame));
      binomialNear(cut.length, N, 0.4, 'cut streams');
      const at = new Map<number, number>();
      for (const c of cuts) {
        assert.equal(c.end, 'done');
        assert.equal(c.data.at(-1), '[DONE]');
        const tokens = c.data.filter((d) => d !== '[DONE]' && !isErrorFrame(d)).length;
        if (c.data.some(isErrorFrame)) {
          assert.ok(tokens < TOKENS, 'a cut stream is short');
          assert.ok(isErrorFrame(c.data.at(-2)!), 'the error is the last event before [DONE]');
          at.set(tokens, (at.get(tokens) ?? 0) + 1);
        } else {
          assert.equal(tokens, TOKENS, 'a stream not cut is whole');
        }
      }
      // The cut falls anywhere in the stream, uniformly: every position from 0 to 7 occurs.
      assert.deepEqual([...at.keys()].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
      for (const [k, n] of at) binomialNear(n, cut.length, 1 / TOKENS, `cuts after ${k} tokens`);
      // Non-streaming requests are never cut.
      for (let i = 0; i < 20; i++) assert.equal((await postJson(server.url + TEXT, text({ max_tokens: TOKENS }))).status, 200);
    } finally {
      await server.stop();
    }
  });

  it('close mode drops the connection instead; set through the environment, changed with /configure', async () => {
    const server = await startServer(['-t', '0', '-i', '1'], { MOCK_SERVER_STREAM_ABORT_RATE: '50', MOCK_SERVER_STREAM_ABORT_MODE: 'close', MOCK_SERVER_SEED: '11' });
    try {
      const N = 200;
      const cuts = await Promise.all(Array.from({ length: N }, async () => readCut(await postJson(server.url + CHAT, chat({ stream: true, max_tokens: 6 })))));
      const closed = cuts.filter((c) => c.end === 'closed');
      binomialNear(closed.length, N, 0.5, 'dropped streams');
      for (const c of closed) {
        assert.ok(!c.data.some(isErrorFrame) && !c.data.includes('[DONE]'));
        assert.ok(c.data.length < 6);
      }
      for (const c of cuts.filter((x) => x.end === 'done')) assert.equal(c.data.length, 7);
      assert.equal((await postJson(`${server.url}/configure`, { stream_abort_rate: 0 })).status, 200);
      const after = await Promise.all(Array.from({ length: 30 }, async () => readCut(await postJson(server.url + CHAT, chat({ stream: true, max_tokens: 6 })))));
      assert.ok(after.every((c) => c.end === 'done' && c.data.length === 7), 'stream_abort_rate 0: none cut');
    } finally {
      await server.stop();
    }
  });
});

describe('startup_delay', () => {
  const health = async (url: string): Promise<{ status: number; body: HealthBody }> => {
    const res = await fetch(`${url}/health`);
    return { status: res.status, body: (await res.json()) as HealthBody };
  };

  it('keeps /health at 503 and inference at 503 until the delay has passed, then serves', async () => {
    const spawned = performance.now();
    const server = await startServer(['-t', '0', '-i', '0', '--startup-delay', '1500']);
    // How long start-up itself takes is no part of this (a loaded machine takes seconds to load a tokenizer).
    const listening = performance.now();
    try {
      const early = await health(server.url);
      assert.equal(early.status, 503);
      assert.equal(early.body.status, 'starting');
      assert.equal(early.body.settings.startup_delay, 1500);
      for (const [path, body] of [
        [CHAT, chat()],
        [TEXT, text({ stream: true })],
      ] as const) {
        const res = await postJson(server.url + path, body);
        assert.equal(res.status, 503);
        assert.equal(res.headers.get('retry-after'), '1');
        const err = (await res.json()) as ErrorBody;
        assertErrorShape(err, 'while starting');
        assert.equal(err.error.type, 'server_error');
        assert.equal(err.error.code, 'model_not_ready');
      }
      assert.equal((await fetch(`${server.url}/metrics`)).status, 200, 'metrics are there from the start');
      let ready = await health(server.url);
      while (ready.status !== 200) {
        await new Promise((r) => setTimeout(r, 20));
        ready = await health(server.url);
      }
      const at = performance.now() - spawned;
      assert.ok(at >= 1500, `ready ${at.toFixed(0)} ms after the process was started, before the 1500 ms delay`);
      const afterListening = performance.now() - listening;
      assert.ok(afterListening < 1500 + 5000, `ready only ${afterListening.toFixed(0)} ms after the server was listening`);
      assert.equal(ready.body.status, 'healthy');
      assert.equal((await postJson(server.url + CHAT, chat())).status, 200);
    } finally {
      await server.stop();
    }
  });

  it('/configure startup_delay makes a running server not ready again for that long, as a model reload would', async () => {
    const server = await startServer(['-t', '0', '-i', '0']);
    try {
      assert.equal((await health(server.url)).status, 200);
      const sent = performance.now();
      assert.equal((await postJson(`${server.url}/configure`, { startup_delay: 800 })).status, 200);
      assert.equal((await health(server.url)).status, 503);
      assert.equal((await postJson(server.url + CHAT, chat())).status, 503);
      // Other changes do not touch readiness.
      assert.equal((await postJson(`${server.url}/configure`, { ttft: 1 })).status, 200);
      let ready = await health(server.url);
      while (ready.status !== 200) {
        await new Promise((r) => setTimeout(r, 20));
        ready = await health(server.url);
      }
      const at = performance.now() - sent;
      assert.ok(at >= 800 && at < 800 + 3000, `ready again ${at.toFixed(0)} ms after the change`);
      assert.equal((await postJson(server.url + CHAT, chat())).status, 200);
      // A delay of 0 ends a wait at once.
      await postJson(`${server.url}/configure`, { startup_delay: 60_000 });
      assert.equal((await health(server.url)).status, 503);
      await postJson(`${server.url}/configure`, { startup_delay: 0 });
      assert.equal((await health(server.url)).status, 200);
    } finally {
      await server.stop();
    }
  });

  it('stays 503 past the delay while a preloaded tokenizer is still loading (MOCK_SERVER_STARTUP_DELAY)', async () => {
    // A hub that holds every request until released: the tokenizer of -m slow/model keeps loading.
    const held: Array<() => void> = [];
    const hub: Server = createServer((_req, res) => {
      held.push(() => res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Repository not found"}'));
    });
    await new Promise<void>((r) => hub.listen(0, '127.0.0.1', r));
    const cache = mkdtempSync(join(tmpdir(), 'mock-startup-'));
    const server = await startServer(['-t', '0', '-i', '0', '-m', 'slow/model'], {
      MOCK_SERVER_STARTUP_DELAY: '1',
      HF_ENDPOINT: `http://127.0.0.1:${(hub.address() as AddressInfo).port}`,
      HF_HUB_CACHE: cache,
      HF_HUB_OFFLINE: '',
    });
    try {
      // The download begins soon after the server listens; on a loaded machine, later than a fixed wait.
      for (let i = 0; i < 500 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(held.length > 0, 'the tokenizer download has begun');
      assert.equal((await health(server.url)).status, 503, 'the delay has passed, the tokenizer is not in yet');
      assert.equal((await postJson(server.url + CHAT, chat())).status, 503);
      held.splice(0).forEach((release) => release());
      let ready = await health(server.url);
      for (let i = 0; i < 500 && ready.status !== 200; i++) {
        held.splice(0).forEach((release) => release());
        await new Promise((r) => setTimeout(r, 20));
        ready = await health(server.url);
      }
      assert.equal(ready.status, 200, 'ready once the tokenizer has loaded (here: failed, and is served by the fallback)');
      assert.ok('slow/model' in ready.body.tokenizers.failed);
      assert.equal((await postJson(server.url + CHAT, chat())).status, 200);
    } finally {
      await server.stop();
      held.splice(0).forEach((release) => release());
      hub.closeAllConnections();
      hub.close();
      rmSync(cache, { recursive: true, force: true });
    }
  });
});

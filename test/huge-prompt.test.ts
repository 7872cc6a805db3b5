// A huge prompt never freezes the server: while a 16 MiB chat prompt is tokenized, /health still answers and
// the streams in flight keep their deadlines. Both are measured twice in one run, without the big prompt and
// with it, so that only what the big prompt adds is judged, whatever the load of the machine.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { readSse, startServer, type RunningServer } from './support/server.js';
import { TokenizerRegistry, type LoadedTokenizer } from '../src/model/tokenizers.js';
import { createLogger } from '../src/log.js';
import type { ChatResponse } from '../src/types.js';

const MODEL = 'Qwen/Qwen3-0.6B';
const TTFT = 40;
const ITL = 10;
const STREAMS = 3;
/** A /health request every this many milliseconds. */
const POLL_MS = 20;
/** What the big prompt may add to the worst /health answer and to the streams' worst lateness. */
const ALLOWED_MS = 100;

/** 16 MiB of varied English-like text, the same on every run. */
function bigText(): string {
  const words = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'a', 'lazy', 'dog,', 'and', 'then', 'sleeps.', '42', 'it\'s', 'well-known\n'];
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < 16 * 2 ** 20; i++) {
    const w = words[(i * 7919) % words.length]!;
    parts.push(w);
    length += w.length + 1;
  }
  return parts.join(' ').slice(0, 16 * 2 ** 20);
}

let server: RunningServer;
let text: string;
let body: Buffer;
let local: LoadedTokenizer;

before(async () => {
  // The body is over the default limit (16 MiB), which counts its JSON around the prompt as well.
  server = await startServer(['--ttft', String(TTFT), '--itl', String(ITL), '--max-body-bytes', String(32 * 2 ** 20)]);
  text = bigText();
  // Built before any measurement: serializing 16 MiB would hold this process's own loop.
  body = Buffer.from(JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: text }], max_tokens: 5 }));
  // The tokenizer without an encode worker: everything on this thread, as it was before the worker existed.
  local = await new TokenizerRegistry(createLogger(() => 'ERROR')).load(MODEL);
});

after(() => server.stop());

interface Figures {
  /** Slowest /health answer, ms. */
  health: number;
  /** Latest token against its deadline (arrival − start − TTFT − k·ITL), over every stream, ms. */
  drift: number;
  polls: number;
  tokens: number;
}

/** /health polled and streams kept running until `until` settles; the worst of each. */
async function measure(until: Promise<unknown>): Promise<Figures> {
  let done = false;
  void until.finally(() => (done = true)).catch(() => undefined);
  const f: Figures = { health: 0, drift: 0, polls: 0, tokens: 0 };
  const poll = async (): Promise<void> => {
    while (!done) {
      const t0 = performance.now();
      const res = await fetch(`${server.url}/health`);
      await res.text();
      f.health = Math.max(f.health, performance.now() - t0);
      f.polls++;
      await sleep(POLL_MS);
    }
  };
  const stream = async (): Promise<void> => {
    while (!done) {
      const t0 = performance.now();
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'one two three four five' }], max_tokens: 30, ignore_eos: true, stream: true }),
      });
      assert.equal(res.status, 200);
      const tokens = (await readSse(res)).filter((e) => e.data !== '[DONE]');
      tokens.forEach((e, k) => (f.drift = Math.max(f.drift, e.at - t0 - TTFT - k * ITL)));
      f.tokens += tokens.length;
    }
  };
  await Promise.all([poll(), ...Array.from({ length: STREAMS }, stream), until]);
  return f;
}

test('a 16 MiB chat prompt is counted exactly while /health and the streams in flight go on', async () => {
  // Warm-up: the server compiles its request validators one per turn after it starts.
  await measure(sleep(2000));
  const without = await measure(sleep(3000));

  let answer: ChatResponse | undefined;
  const big = (async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(res.status, 200, await res.clone().text());
    answer = (await res.json()) as ChatResponse;
  })();
  const t0 = performance.now();
  const withBig = await measure(big);
  const took = performance.now() - t0;
  const report = `without the big prompt ${JSON.stringify(without)}; with it (${took.toFixed(0)} ms) ${JSON.stringify(withBig)}`;
  console.log(report);

  assert.ok(without.polls > 0 && withBig.polls > 0 && withBig.tokens > 0, report);
  assert.ok(withBig.health <= without.health + ALLOWED_MS, `/health: ${report}`);
  assert.ok(withBig.drift <= without.drift + ALLOWED_MS, `stream deadlines: ${report}`);
  // The same count as the whole rendered prompt encoded on one thread, without any worker.
  assert.equal(answer?.usage?.prompt_tokens, local.chatTokens([{ role: 'user', content: text }]));
  assert.equal(answer?.choices[0]?.message.content, text.slice(0, answer?.choices[0]?.message.content?.length), 'the echo is the prompt');
});

// Large JSON bodies are parsed in the encode worker (src/http/body.ts), not on the event loop: the value and the
// errors must be exactly JSON.parse's, and a body that is large only by its whitespace must take that path too.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from './support/server.js';
import { EncodeWorker, InvalidJson } from '../src/model/encodeWorker.js';
import type { ChatResponse } from '../src/types.js';

const MODEL = 'Qwen/Qwen3-0.6B';
/** Over the 1 MiB from which bodies are parsed off the event loop. */
const PADDING = ' \n\t'.repeat(800_000);

const parseError = (text: string): string => {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the text is valid JSON');
};

test('the worker parses as JSON.parse does, and refuses with its message', async () => {
  const worker = new EncodeWorker();
  try {
    const text = JSON.stringify({ a: [1, 2.5, -0, 1e300, null, true, 'x\u2028y'], 'é😀': { b: '\ud800' }, n: 'ü'.repeat(600_000) });
    const withProto = '{"__proto__": {"polluted": 1}, "k": [{}]}';
    assert.deepEqual(await worker.parseJson(Buffer.from(text)), JSON.parse(text));
    const parsed = (await worker.parseJson(Buffer.from(withProto))) as Record<string, unknown>;
    // JSON.parse makes __proto__ an own key, never the object's prototype; so must the copy back.
    assert.deepEqual(Object.keys(parsed), ['__proto__', 'k']);
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
    const broken = `${text.slice(0, 1_000_000)}}`;
    await assert.rejects(worker.parseJson(Buffer.from(broken)), (err: unknown) => err instanceof InvalidJson && err.message === parseError(broken));
    // A view into a larger buffer is copied, not transferred: the caller's buffer stays whole.
    const big = Buffer.from(`[${text},${text}]`);
    const view = big.subarray(1, 1 + Buffer.byteLength(text));
    assert.deepEqual(await worker.parseJson(view), JSON.parse(text));
    assert.equal(big.length, Buffer.byteLength(text) * 2 + 3);
  } finally {
    await worker.close();
  }
});

let server: RunningServer;
before(async () => {
  server = await startServer();
});
after(() => server.stop());

const chat = (body: string): Promise<Response> =>
  fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

test('a body over 1 MiB is parsed off the event loop with the same answer and the same errors', async () => {
  const request = { model: MODEL, messages: [{ role: 'user', content: 'Parse me elsewhere, please.' }], max_tokens: 4 };
  const small = (await (await chat(JSON.stringify(request))).json()) as ChatResponse;
  assert.doesNotMatch(server.logs(), /encode worker started/, 'a small body never starts the worker');

  // Large by its whitespace only: nothing in it to tokenize off the thread, so only the parse starts the worker.
  const padded = `{${PADDING}"model": ${JSON.stringify(MODEL)},${PADDING}"messages": ${JSON.stringify(request.messages)}, "max_tokens": 4}`;
  const res = await chat(padded);
  assert.equal(res.status, 200, await res.clone().text());
  const big = (await res.json()) as ChatResponse;
  assert.equal(big.usage?.prompt_tokens, small.usage?.prompt_tokens);
  assert.equal(big.choices[0]?.message.content, small.choices[0]?.message.content);
  assert.match(server.logs(), /encode worker started/);

  const broken = `${padded.slice(0, -1)},}`;
  const refused = await chat(broken);
  assert.equal(refused.status, 400);
  const error = ((await refused.json()) as { error: { code: string; message: string } }).error;
  assert.equal(error.code, 'invalid_json');
  assert.equal(error.message, `The request body is not valid JSON: ${parseError(broken)}`);
});

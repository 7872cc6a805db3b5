// The encode worker on its own: the same ids as on the calling thread, a failure that fails only its request,
// and a close that answers what was still waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EncodeWorker, offThread, OFF_THREAD_CHARS } from '../src/model/encodeWorker.js';
import { characterIds } from '../src/model/characterTokenizer.js';
import { ApiError } from '../src/http/errors.js';

test('which texts go to the worker: long ones, and short ones with a long run of one kind', () => {
  assert.equal(offThread('word '.repeat(1000)), false);
  assert.equal(offThread('x'.repeat(OFF_THREAD_CHARS + 1)), true);
  assert.equal(offThread(`a${'b'.repeat(300)}`), true);
  assert.equal(offThread(`a${' '.repeat(300)}b`), true);
});

test('ids and counts equal the calling thread\'s; a failed request leaves the next one served; close answers the rest', async () => {
  const worker = new EncodeWorker();
  try {
    const text = `${'héllo wörld 🙂 '.repeat(100_000)}end`;
    assert.deepEqual(await worker.encode({ kind: 'characters' }, text), characterIds(text));
    assert.equal(await worker.count({ kind: 'characters' }, text), characterIds(text).length);

    const failed = worker.encode({ kind: 'folder', dir: '/nonexistent/tokenizer' }, 'some text');
    const next = worker.count({ kind: 'characters' }, 'abcd efgh');
    await assert.rejects(failed, (err: unknown) => err instanceof ApiError && err.status === 500 && /tokenize/.test(err.message));
    assert.equal(await next, characterIds('abcd efgh').length);
  } finally {
    const waiting = assert.rejects(worker.count({ kind: 'characters' }, 'x'.repeat(1_000_000)), (err: unknown) => err instanceof ApiError && err.status === 503);
    await worker.close();
    await waiting;
  }
  await assert.rejects(worker.count({ kind: 'characters' }, 'x'), (err: unknown) => err instanceof ApiError && err.status === 503);
});

// The piece encoder's cache: bounded whatever the traffic (a benchmark sends millions of distinct pieces over a
// long run), while the pieces in use (common words, spaces) stay cached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generations } from '../src/model/lru.js';

test('holds at most maxEntries, and keeps what is read while new keys stream through', () => {
  const cache = new Generations<string, number>(1000);
  cache.set('the', 1);
  for (let i = 0; i < 100_000; i++) {
    cache.set(`new-${i}`, i);
    assert.ok(cache.size <= 1000, `size ${cache.size} after ${i + 1} sets`);
    if (i % 100 === 0) assert.equal(cache.get('the'), 1, `a key read every 100 sets is kept (set ${i})`);
  }
  assert.equal(cache.get('new-0'), undefined, 'an old key read never is dropped');
  assert.equal(cache.get('new-99999'), 99_999);
});

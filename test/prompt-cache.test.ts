// The simulated prompt cache of the Messages API (src/model/promptCache.ts) on its own, with the clock given:
// minimum lengths per model, the longest live prefix read, time to live started again by each use, 5m and 1h
// entries, and the bound on entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minCacheableTokens, PromptCache, PROMPT_CACHE_ENTRIES, type Breakpoint } from '../src/model/promptCache.js';

const MODEL = 'claude-sonnet-4-5';
const MINUTE = 60_000;
const bp = (prefix: string, tokens: number, ttl: Breakpoint['ttl'] = '5m'): Breakpoint => ({ prefix, tokens, ttl });

test("minimum cacheable lengths follow Anthropic's per model", () => {
  assert.equal(minCacheableTokens('claude-sonnet-4-5'), 1024);
  assert.equal(minCacheableTokens('claude-3-5-haiku-latest'), 2048);
  assert.equal(minCacheableTokens('claude-haiku-4-5'), 4096);
  assert.equal(minCacheableTokens('claude-opus-4-5'), 4096);
  assert.equal(minCacheableTokens('Qwen/Qwen3-0.6B'), 1024);
  const cache = new PromptCache();
  assert.deepEqual(cache.use('claude-3-haiku', [bp('a', 1500)], 0), { read: 0, created5m: 0, created1h: 0 });
  assert.deepEqual(cache.use(MODEL, [bp('a', 1500)], 0), { read: 0, created5m: 1500, created1h: 0 });
});

test('the longest live prefix is read, the rest up to the last breakpoint written with each ttl', () => {
  const cache = new PromptCache();
  assert.deepEqual(cache.use(MODEL, [bp('sys', 2000, '1h')], 0), { read: 0, created5m: 0, created1h: 2000 });
  // The same system prefix, then a longer conversation prefix: 2000 read, 1000 written (5m).
  assert.deepEqual(cache.use(MODEL, [bp('sys', 2000, '1h'), bp('sys+turns', 3000)], MINUTE), { read: 2000, created5m: 1000, created1h: 0 });
  assert.deepEqual(cache.use(MODEL, [bp('sys', 2000, '1h'), bp('sys+turns', 3000)], 2 * MINUTE), { read: 3000, created5m: 0, created1h: 0 });
});

test('an entry lives for its ttl after its last use', () => {
  const cache = new PromptCache();
  cache.use(MODEL, [bp('p', 1200)], 0);
  // Read at 4 minutes: alive, and its five minutes start again.
  assert.equal(cache.use(MODEL, [bp('p', 1200)], 4 * MINUTE).read, 1200);
  assert.equal(cache.use(MODEL, [bp('p', 1200)], 8 * MINUTE).read, 1200);
  // More than five minutes after the last use: gone, written again.
  assert.deepEqual(cache.use(MODEL, [bp('p', 1200)], 14 * MINUTE), { read: 0, created5m: 1200, created1h: 0 });
  cache.use(MODEL, [bp('h', 1200, '1h')], 0);
  assert.equal(cache.use(MODEL, [bp('h', 1200, '1h')], 59 * MINUTE).read, 1200);
  assert.equal(cache.use(MODEL, [bp('h', 1200, '1h')], 200 * MINUTE).read, 0);
});

test('prefixes are told apart by model and by text, and the cache holds a bounded number of them', () => {
  const cache = new PromptCache();
  cache.use(MODEL, [bp('p', 1200)], 0);
  assert.equal(cache.use('claude-opus-4-1', [bp('p', 1200)], 0).read, 0);
  assert.equal(cache.use(MODEL, [bp('q', 1200)], 0).read, 0);
  for (let i = 0; i < PROMPT_CACHE_ENTRIES; i++) cache.use(MODEL, [bp(`fill ${i}`, 1200)], 0);
  // The oldest went first.
  assert.equal(cache.use(MODEL, [bp('p', 1200)], 0).read, 0);
  assert.equal(cache.use(MODEL, [bp(`fill ${PROMPT_CACHE_ENTRIES - 1}`, 1200)], 0).read, 1200);
});

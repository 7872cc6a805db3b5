// The store behind GET /v1/responses/{id} and previous_response_id is bounded by count and by bytes, dropping
// the least recently used first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_STORED, MAX_STORED_BYTES, ResponseStore } from '../src/model/storedResponses.js';
import type { ResponseObject } from '../src/types.js';

function response(id: string, text = ''): ResponseObject {
  return {
    id,
    object: 'response',
    created_at: 0,
    status: 'completed',
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model: 'm',
    output: [{ id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] }],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    metadata: {},
  };
}

test('the documented bounds: 1,000 responses, 64 MiB', () => {
  assert.equal(MAX_STORED, 1000);
  assert.equal(MAX_STORED_BYTES, 64 * 1024 * 1024);
});

test('beyond the count the least recently used response goes; a read keeps one', () => {
  const store = new ResponseStore(3);
  for (const id of ['a', 'b', 'c']) store.put(response(id), []);
  assert.ok(store.get('a'));
  store.put(response('d'), []);
  assert.equal(store.size, 3);
  assert.equal(store.get('b'), undefined, 'b was the least recently used');
  assert.ok(store.get('a') && store.get('c') && store.get('d'));
});

test('beyond the bytes the oldest responses go, and one larger than the bound is not kept', () => {
  const store = new ResponseStore(100, 10_000);
  for (let i = 0; i < 10; i++) store.put(response(`r${i}`, 'x'.repeat(2_000)), [{ role: 'user', content: 'hi' }]);
  assert.ok(store.size < 10 && store.size >= 3, `${store.size} kept`);
  assert.ok(store.get('r9'));
  assert.equal(store.get('r0'), undefined);
  store.put(response('huge', 'x'.repeat(20_000)), []);
  assert.equal(store.get('huge'), undefined);
});

// Model names come from requests: /metrics must not grow a label (and memory) per name without bound.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, startServer } from './support/server.js';

describe('/metrics label cardinality', () => {
  it('keeps at most 256 model_name labels and counts the rest under __other__', async () => {
    const server = await startServer(['-t', '0', '-i', '0']);
    try {
      const total = 300;
      for (let i = 0; i < total; i += 25) {
        await Promise.all(
          Array.from({ length: Math.min(25, total - i) }, (_, j) =>
            postJson(`${server.url}/v1/chat/completions`, { model: `m-${i + j}`, messages: [{ role: 'user', content: 'hi' }] }).then((r) => r.text()),
          ),
        );
      }
      await postJson(`${server.url}/v1/chat/completions`, { model: 'x'.repeat(5000), messages: [{ role: 'user', content: 'hi' }] }).then((r) => r.text());
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const names = new Set([...text.matchAll(/^vllm:request_success_total\{model_name="([^"]*)"/gm)].map((m) => m[1]));
      assert.equal(names.size, 257, 'the first 256 names and __other__');
      assert.ok(names.has('__other__'));
      assert.ok(![...names].some((n) => (n ?? '').length > 256), 'no absurd name becomes a label');
      const counts = [...text.matchAll(/^vllm:request_success_total\{[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
      assert.equal(counts, total + 1, 'every request is still counted');
    } finally {
      await server.stop();
    }
  });
});

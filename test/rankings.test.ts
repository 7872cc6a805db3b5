// Rankings, each in its own server's wire shape: NVIDIA NIM (POST /v1/ranking), Hugging Face TEI (POST /rerank)
// and Cohere (POST /v2/rerank, /v1/rerank). The scoring math alone, then a real server with the real tokenizer:
// every answer and every error checked against the contract, the order meaningful and deterministic, tokens
// counted as /v1/completions counts them, the latency model, faults, readiness, and the typed client.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, startServer, type RunningServer } from './support/server.js';
import { declaredResponse } from './support/spec.js';
import { LOGIT_SPAN, logitOf, rank, relevance, searchUnits, sigmoid, words } from '../src/model/rerank.js';
import { createMockClient, MockServerError } from '../src/client.js';
import type { CohereRerankResponse, CompletionResponse, RankingResponse, TeiRerankResponse } from '../src/types.js';

const QUERY = 'Which planet is known as the red planet?';
const PASSAGES = [
  'Venus is the brightest planet in the night sky.',
  'Mars is known as the red planet: iron oxide colours its surface.',
  'Two cups of flour, one egg.',
  'The red planet, Mars, has two small moons.',
];
/** Holds every word of the query. */
const BEST = 1;
/** Shares no word with the query. */
const UNRELATED = 2;

describe('rerank math (model/rerank.ts)', () => {
  test('words are lower-cased runs of letters and digits, each once', () => {
    assert.deepEqual([...words('The RED planet, the red Planet! 4 moons; naïve')], ['the', 'red', 'planet', '4', 'moons', 'naïve']);
    assert.equal(words(' ,.; ').size, 0);
  });

  test('relevance is 0 without a shared word, 1 for the same words, and grows with the share of the query held', () => {
    const q = words('red planet moons');
    assert.equal(relevance(q, words('flour and eggs')), 0);
    assert.equal(relevance(q, words('Moons, planet, RED.')), 1);
    assert.equal(relevance(words(''), words('anything')), 0);
    const one = relevance(q, words('a red car'));
    const two = relevance(q, words('a red planet'));
    const three = relevance(q, words('a red planet with moons'));
    assert.ok(0 < one && one < two && two < three && three < 1, `${one} < ${two} < ${three}`);
    // Of two passages holding the whole query, the one with fewer other words ranks first.
    assert.ok(relevance(q, words('red planet moons today')) > relevance(q, words('red planet moons and many other words')));
  });

  test('logits span ±LOGIT_SPAN; the sigmoid maps them into (0, 1) in the same order', () => {
    assert.equal(logitOf(0), -LOGIT_SPAN);
    assert.equal(logitOf(1), LOGIT_SPAN);
    assert.equal(sigmoid(0), 0.5);
    assert.ok(sigmoid(logitOf(0)) > 0 && sigmoid(logitOf(1)) < 1 && sigmoid(logitOf(0.3)) < sigmoid(logitOf(0.6)));
  });

  test('rank sorts by logit, ties in request order, every passage once', () => {
    const ranked = rank(QUERY, PASSAGES);
    assert.equal(ranked[0]!.index, BEST);
    assert.equal(ranked.at(-1)!.index, UNRELATED);
    assert.deepEqual(ranked.map((r) => r.index).sort(), [0, 1, 2, 3]);
    for (let i = 1; i < ranked.length; i++) assert.ok(ranked[i - 1]!.logit >= ranked[i]!.logit);
    assert.deepEqual(rank('x', ['same', 'text', 'here']).map((r) => r.index), [0, 1, 2], 'equal scores keep the request order');
    assert.deepEqual(rank(QUERY, PASSAGES), ranked, 'deterministic');
  });

  test("search units as Cohere bills them: a unit per 100 documents, a document per started 500 tokens", () => {
    assert.equal(searchUnits(5, [10]), 1);
    assert.equal(searchUnits(5, Array.from({ length: 100 }, () => 10)), 1);
    assert.equal(searchUnits(5, Array.from({ length: 101 }, () => 10)), 2);
    assert.equal(searchUnits(10, [490]), 1, '500 tokens with the query: one chunk');
    assert.equal(searchUnits(10, Array.from({ length: 50 }, () => 491)), 1, '501 tokens: two chunks each, 100 in all');
    assert.equal(searchUnits(10, Array.from({ length: 51 }, () => 491)), 2);
  });
});

/** Checks an answer against what the contract declares for its status; returns the parsed body. */
async function declared<T>(path: string, res: Response): Promise<T> {
  const body: unknown = await res.json();
  const problem = declaredResponse('POST', path, res.status, res.headers.get('content-type')).check(body);
  assert.equal(problem, undefined, `${res.status} ${JSON.stringify(body)}`);
  return body as T;
}

const nim = (query: string, passages: readonly string[]) => ({ model: 'nvidia/llama-3.2-nv-rerankqa-1b-v2', query: { text: query }, passages: passages.map((text) => ({ text })) });
const cohere = (query: string, documents: string[], extra: Record<string, unknown> = {}) => ({ model: 'rerank-v3.5', query, documents, ...extra });

describe('ranking endpoints against a real server', { timeout: 180_000 }, () => {
  let server: RunningServer;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) => postJson(`${server.url}${path}`, body, headers);
  /** Tokens of each text as /v1/completions counts a prompt (same real tokenizer, another handler). */
  const tokens = async (texts: string[]): Promise<number[]> =>
    Promise.all(
      texts.map(async (prompt) => {
        const res = await post('/v1/completions', { model: 'Qwen/Qwen3-0.6B', prompt, max_tokens: 1 });
        return ((await res.json()) as CompletionResponse).usage.prompt_tokens;
      }),
    );

  before(async () => {
    server = await startServer(['--ttft', '0', '--itl', '0', '--ranking-base-latency', '0', '--ranking-per-passage-latency', '0']);
  });
  after(async () => {
    await server?.stop();
  });

  test('NIM /v1/ranking: NIM shape, every passage once, the query-holding one first, the unrelated one last', async () => {
    const res = await post('/v1/ranking', nim(QUERY, PASSAGES), { 'x-request-id': 'rank-1' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'rank-1');
    const body = await declared<RankingResponse>('/v1/ranking', res);
    assert.deepEqual(Object.keys(body), ['rankings', 'usage']);
    const order = body.rankings.map((r) => r.index);
    assert.equal(order[0], BEST);
    assert.equal(order.at(-1), UNRELATED);
    assert.deepEqual([...order].sort(), [0, 1, 2, 3]);
    for (let i = 1; i < body.rankings.length; i++) assert.ok(body.rankings[i - 1]!.logit >= body.rankings[i]!.logit);
    assert.equal(body.rankings.at(-1)!.logit, -LOGIT_SPAN, 'no word in common: the lowest logit');
    // A cross-encoder reads the query with every passage.
    const [q, ...p] = await tokens([QUERY, ...PASSAGES]);
    const expected = p.reduce((sum, t) => sum + q! + t, 0);
    assert.deepEqual(body.usage, { prompt_tokens: expected, total_tokens: expected });
  });

  test('the same request ranks the same way every time; equal passages keep their order', async () => {
    const a = (await (await post('/v1/ranking', nim(QUERY, PASSAGES))).json()) as RankingResponse;
    const b = (await (await post('/v1/ranking', nim(QUERY, PASSAGES))).json()) as RankingResponse;
    assert.deepEqual(a.rankings, b.rankings);
    const same = (await (await post('/v1/ranking', nim(QUERY, ['the red planet', 'x', 'the red planet']))).json()) as RankingResponse;
    assert.deepEqual(same.rankings.map((r) => r.index), [0, 2, 1]);
  });

  test('TEI /rerank: a bare array of probabilities; raw_scores gives the logits; text only with return_text', async () => {
    const res = await post('/rerank', { query: QUERY, texts: PASSAGES });
    const plain = await declared<TeiRerankResponse>('/rerank', res);
    assert.ok(Array.isArray(plain));
    assert.equal(plain[0]!.index, BEST);
    assert.equal(plain.at(-1)!.index, UNRELATED);
    for (const r of plain) {
      assert.deepEqual(Object.keys(r), ['index', 'score'], 'no text unless asked for');
      assert.ok(r.score > 0 && r.score < 1);
    }
    const raw = await declared<TeiRerankResponse>('/rerank', await post('/rerank', { query: QUERY, texts: PASSAGES, raw_scores: true, return_text: true }));
    const logits = ((await (await post('/v1/ranking', nim(QUERY, PASSAGES))).json()) as RankingResponse).rankings;
    assert.deepEqual(raw.map((r) => [r.index, r.score]), logits.map((r) => [r.index, r.logit]), "TEI's raw scores are NIM's logits");
    for (const r of raw) {
      assert.deepEqual(Object.keys(r), ['index', 'text', 'score'], "TEI's field order");
      assert.equal(r.text, PASSAGES[r.index]);
    }
    assert.deepEqual(plain.map((r) => r.score), raw.map((r) => sigmoid(r.score)));
  });

  test('Cohere /v2/rerank: results cut to top_n, most relevant first, meta as Cohere sends it', async () => {
    const body = await declared<CohereRerankResponse>('/v2/rerank', await post('/v2/rerank', cohere(QUERY, PASSAGES, { top_n: 2 })));
    assert.deepEqual(Object.keys(body), ['results', 'id', 'meta']);
    assert.match(body.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(body.results.length, 2);
    assert.equal(body.results[0]!.index, BEST);
    assert.ok(body.results[0]!.relevance_score > body.results[1]!.relevance_score);
    assert.deepEqual(body.meta, { api_version: { version: '2', is_experimental: false }, billed_units: { search_units: 1 } });
    for (const r of body.results) assert.equal(r.document, undefined);

    const all = await declared<CohereRerankResponse>('/v2/rerank', await post('/v2/rerank', cohere(QUERY, PASSAGES, { top_n: 99, return_documents: true })));
    assert.equal(all.results.length, PASSAGES.length, 'top_n above the count answers every document');
    assert.equal(all.results.at(-1)!.index, UNRELATED);
    for (const r of all.results) assert.deepEqual(r.document, { text: PASSAGES[r.index] });
  });

  test('Cohere search units: one per 100 documents', async () => {
    const docs = Array.from({ length: 150 }, (_, i) => `document number ${i}`);
    const body = (await (await post('/v2/rerank', cohere('number', docs))).json()) as CohereRerankResponse;
    assert.equal(body.meta.billed_units.search_units, 2);
  });

  test('Cohere /v1/rerank: model optional, object documents, return_documents gives them back as sent, rank_fields', async () => {
    const docs = [{ text: PASSAGES[0], id: 'a' }, PASSAGES[1]!, { text: PASSAGES[2], id: 'c' }];
    const body = await declared<CohereRerankResponse>('/v1/rerank', await post('/v1/rerank', { query: QUERY, documents: docs, return_documents: true }));
    assert.deepEqual(Object.keys(body), ['id', 'results', 'meta']);
    assert.deepEqual(body.meta, { api_version: { version: '1' }, billed_units: { search_units: 1 } });
    assert.deepEqual(body.results.map((r) => r.index), [1, 0, 2]);
    assert.deepEqual(body.results.map((r) => r.document), [{ text: PASSAGES[1] }, docs[0], docs[2]]);
    assert.deepEqual(Object.keys(body.results[0]!), ['document', 'index', 'relevance_score']);

    const fields = [{ title: 'Flour', body: 'two cups' }, { title: 'Mars', body: 'the red planet' }];
    const byFields = (await (await post('/v1/rerank', { query: 'red planet', documents: fields, rank_fields: ['title', 'body'] })).json()) as CohereRerankResponse;
    assert.deepEqual(byFields.results.map((r) => r.index), [1, 0]);
  });

  test('errors come in each API’s own shape and status, as the contract declares them', async () => {
    const cases: Array<[path: string, body: unknown, status: number, expected: object]> = [
      ['/v1/ranking', { model: 'm', passages: [{ text: 'a' }] }, 422, { object: 'error', message: 'query: is required', detail: {}, type: 'invalid_request_error' }],
      ['/v1/ranking', nim(QUERY, []), 422, { object: 'error', message: 'passages: must not be empty', detail: {}, type: 'invalid_request_error' }],
      ['/rerank', { texts: ['a'] }, 422, { error: 'query: is required', error_type: 'validation' }],
      ['/rerank', { query: QUERY, texts: [] }, 400, { error: '`texts` cannot be empty', error_type: 'empty' }],
      ['/v2/rerank', { model: 'm', documents: ['a'] }, 400, { message: 'invalid request: query: is required' }],
      ['/v2/rerank', cohere(QUERY, []), 400, { message: 'invalid request: list of documents must not be empty' }],
      ['/v2/rerank', cohere(QUERY, ['a'], { top_n: 0 }), 400, { message: 'invalid request: top_n: must be >= 1' }],
      ['/v1/rerank', { query: QUERY, documents: [{ title: 'no text' }] }, 400, { message: 'invalid request: documents[0]: a document object needs a string field text, or rank_fields naming its fields to rank on' }],
    ];
    for (const [path, body, status, expected] of cases) {
      const res = await post(path, body);
      assert.equal(res.status, status, `${path} ${JSON.stringify(body)}`);
      assert.deepEqual(await declared(path, res), expected);
    }
  });

  test('more than 1,000 passages are refused at once, in each API’s shape', async () => {
    const many = Array.from({ length: 1001 }, () => 'x');
    const cases: Array<[string, unknown, number, object]> = [
      ['/v1/ranking', nim(QUERY, many), 422, { object: 'error', message: 'passages: at most 1000 passages are accepted, got 1001', detail: {}, type: 'invalid_request_error' }],
      ['/rerank', { query: QUERY, texts: many }, 413, { error: 'batch size 1001 > maximum allowed batch size 1000', error_type: 'validation' }],
      ['/v2/rerank', cohere(QUERY, many), 400, { message: 'invalid request: too many documents: got 1001, at most 1000 are accepted' }],
    ];
    for (const [path, body, status, expected] of cases) {
      const res = await post(path, body);
      assert.equal(res.status, status, path);
      assert.deepEqual(await declared(path, res), expected);
    }
    assert.equal((await post('/rerank', { query: QUERY, texts: many.slice(1) })).status, 200, 'exactly 1,000 is accepted');
  });

  test('X-Mock-Error answers the forced error in each API’s shape', async () => {
    const calls: Array<[string, unknown]> = [
      ['/v1/ranking', nim(QUERY, PASSAGES)],
      ['/rerank', { query: QUERY, texts: PASSAGES }],
      ['/v2/rerank', cohere(QUERY, PASSAGES)],
      ['/v1/rerank', { query: QUERY, documents: PASSAGES }],
    ];
    const bodies: unknown[] = [];
    for (const [path, body] of calls) {
      const res = await post(path, body, { 'x-mock-error': '429' });
      assert.equal(res.status, 429, path);
      assert.equal(res.headers.get('retry-after'), '1');
      bodies.push(await declared(path, res));
      assert.equal((await post(path, body, { 'x-mock-error': '503' })).status, 503);
    }
    const message = 'Rate limit reached for requests. Please try again in 1s.';
    assert.deepEqual(bodies, [
      { object: 'error', message, detail: {}, type: 'requests' },
      { error: message, error_type: 'overloaded' },
      { message },
      { message },
    ]);
  });

  test('latency: the answer never comes before ranking_base_latency + ranking_per_passage_latency × passages', async () => {
    const cfg = await post('/configure', { ranking_base_latency: 150, ranking_per_passage_latency: 25 });
    assert.equal(cfg.status, 200);
    try {
      for (const [path, body] of [
        ['/v1/ranking', nim(QUERY, PASSAGES)],
        ['/rerank', { query: QUERY, texts: PASSAGES }],
        ['/v2/rerank', cohere(QUERY, PASSAGES)],
      ] as const) {
        const t0 = performance.now();
        const res = await post(path, body);
        await res.arrayBuffer();
        const elapsed = performance.now() - t0;
        assert.equal(res.status, 200);
        assert.ok(elapsed >= 150 + 25 * PASSAGES.length, `${path}: ${elapsed.toFixed(1)} ms`);
        assert.ok(elapsed < 150 + 25 * PASSAGES.length + 1000, `${path}: ${elapsed.toFixed(1)} ms`);
      }
      // X-Mock-TTFT replaces the latency model for one request.
      const t0 = performance.now();
      assert.equal((await post('/rerank', { query: QUERY, texts: PASSAGES }, { 'x-mock-ttft': '0' })).status, 200);
      assert.ok(performance.now() - t0 < 250, 'X-Mock-TTFT: 0 answers without the configured 250 ms');
    } finally {
      await post('/configure', { ranking_base_latency: 0, ranking_per_passage_latency: 0 });
    }
  });

  test('the typed client has a method per ranking API and reads their error bodies', async () => {
    const client = createMockClient(server.url);
    assert.equal((await client.createRanking(nim(QUERY, PASSAGES))).rankings[0]!.index, BEST);
    assert.equal((await client.teiRerank({ query: QUERY, texts: PASSAGES }))[0]!.index, BEST);
    assert.equal((await client.cohereRerank(cohere(QUERY, PASSAGES, { top_n: 1 }))).results.length, 1);
    assert.equal((await client.cohereRerankV1({ query: QUERY, documents: PASSAGES })).results[0]!.index, BEST);
    await assert.rejects(client.teiRerank({ query: QUERY, texts: [] }), (e: unknown) => {
      assert.ok(e instanceof MockServerError);
      assert.equal(e.status, 400);
      assert.equal(e.message, '400 `texts` cannot be empty');
      return true;
    });
    await assert.rejects(client.cohereRerank(cohere(QUERY, [])), /400 invalid request: list of documents must not be empty/);
  });

  // Last: it makes the server not ready for a moment.
  test('while the server is not ready, ranking paths answer 503 in their own shape', async () => {
    assert.equal((await post('/configure', { startup_delay: 60_000 })).status, 200);
    try {
      const tei = await post('/rerank', { query: QUERY, texts: PASSAGES });
      assert.equal(tei.status, 503);
      assert.deepEqual(await declared('/rerank', tei), { error: 'The server is starting: the model is not ready yet.', error_type: 'unhealthy' });
      const co = await post('/v2/rerank', cohere(QUERY, PASSAGES));
      assert.equal(co.status, 503);
      assert.deepEqual(await declared('/v2/rerank', co), { message: 'The server is starting: the model is not ready yet.' });
    } finally {
      await post('/configure', { startup_delay: 0 });
    }
  });
});

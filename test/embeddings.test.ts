// Embeddings (POST /v1/embeddings and POST /v1/chat/embeddings) against a real server with the real Qwen3
// tokenizer: the answer's shape by this contract and by OpenAI's own description, openai-node's embeddings.create
// (base64 by default, decoded to the same floats), the vectors' properties (deterministic across processes, unit
// length, shortened as OpenAI shortens, closer for texts that share tokens), usage from the tokenizer, every input
// shape, NVIDIA NIM's images and fields, OpenAI's limits and errors, and the engine's faults, queue and latency.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import OpenAI from 'openai';
import { ROOT, postJson, startServer, type RunningServer } from './support/server.js';
import { declaredResponse } from './support/spec.js';
import { count, qwenTokenizer as tokenizer } from './support/qwen.js';
import { createMockClient, MockServerError } from '../src/client.js';
import { embed, modelSalt, toBase64 } from '../src/model/embedding.js';
import { IMAGE_TOKENS } from '../src/model/embeddingImages.js';
import type { ChatResponse, EmbeddingResponse, ErrorBody } from '../src/types.js';

const MODEL = 'Qwen/Qwen3-0.6B';
const EMBEDDINGS = '/v1/embeddings';
const CHAT_EMBEDDINGS = '/v1/chat/embeddings';
const DIMS = 768;

// The oracle of token counts: the same tokenizer files, read by the tokenizer library directly.
const idsOf = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false }).ids;

// ------------------------------------------------------------------------------------------- helpers

type Vector = number[];

const dot = (a: Vector, b: Vector): number => a.reduce((s, x, i) => s + x * b[i]!, 0);
const norm = (a: Vector): number => Math.sqrt(dot(a, a));
const cosine = (a: Vector, b: Vector): number => dot(a, b) / (norm(a) * norm(b));

/** A 200 answer as JSON, checked against this contract's declaration for the path. */
async function ok(path: string, res: Response): Promise<EmbeddingResponse> {
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const declared = declaredResponse('POST', path, 200, res.headers.get('content-type'));
  const body = JSON.parse(text) as EmbeddingResponse;
  assert.equal(declared.check(body), undefined, `the contract refuses the answer: ${declared.check(body)}`);
  return body;
}

/** An error answer: the status, OpenAI's error shape as the contract declares it; the error object. */
async function refused(path: string, res: Response, status: number): Promise<ErrorBody['error']> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  const body = JSON.parse(text) as ErrorBody;
  const declared = declaredResponse('POST', path, status, res.headers.get('content-type'));
  assert.equal(declared.check(body), undefined, `the contract refuses the error: ${declared.check(body)}`);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  return body.error;
}

const vectors = (body: EmbeddingResponse): Vector[] => body.data.map((d) => d.embedding as Vector);

/** The vectors of `input` (float), in one request. */
async function vectorsOf(url: string, input: unknown, extra: Record<string, unknown> = {}): Promise<Vector[]> {
  return vectors(await ok(EMBEDDINGS, await postJson(url + EMBEDDINGS, { model: MODEL, input, ...extra })));
}

function decodeBase64(s: string): Vector {
  const buf = Buffer.from(s, 'base64');
  const out: Vector = [];
  for (let k = 0; k < buf.length; k += 4) out.push(buf.readFloatLE(k));
  return out;
}

async function configure(url: string, patch: Record<string, unknown>): Promise<void> {
  const res = await postJson(url + '/configure', patch);
  assert.equal(res.status, 200, await res.text());
}

// ---------------------------------------------------------------------- OpenAI's description (oracle)

const OPENAI_SPEC = join(ROOT, '..', 'shared', 'conformance', 'openai-openapi.yaml');
const HAVE_SPEC = existsSync(OPENAI_SPEC);
const MISSING = `OpenAI's OpenAPI description is not at ${OPENAI_SPEC} (shared/ must sit beside the clone)`;

/** OpenAI's CreateEmbeddingResponse, compiled from its own description (which has no nullable in this corner). */
function openAiEmbeddingResponse(): ValidateFunction {
  const doc = parse(readFileSync(OPENAI_SPEC, 'utf8')) as { components: { schemas: Record<string, unknown> } };
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  // `float` is the one format of the embedding schemas: any JSON number is one.
  ajv.addFormat('float', true);
  ajv.addSchema({ components: { schemas: doc.components.schemas } }, 'openai');
  return ajv.compile({ $ref: 'openai#/components/schemas/CreateEmbeddingResponse' });
}

// ------------------------------------------------------------------------------------------- the tests

describe('embeddings', { timeout: 240_000 }, () => {
  let server: RunningServer;
  let url: string;

  before(async () => {
    server = await startServer(['--embedding-base-latency', '0', '--embedding-per-input-latency', '0']);
    url = server.url;
  });
  after(async () => {
    await server?.stop();
  });

  describe('the answer', () => {
    test("OpenAI's shape, in OpenAI's key order, by this contract", async () => {
      const body = await ok(EMBEDDINGS, await postJson(url + EMBEDDINGS, { model: MODEL, input: ['The food was delicious.', 'The waiter was friendly.'] }));
      assert.deepEqual(Object.keys(body), ['object', 'data', 'model', 'usage']);
      assert.equal(body.object, 'list');
      assert.equal(body.model, MODEL);
      for (const d of body.data) assert.deepEqual(Object.keys(d), ['object', 'index', 'embedding']);
      assert.deepEqual(
        body.data.map((d) => [d.object, d.index]),
        [
          ['embedding', 0],
          ['embedding', 1],
        ],
      );
      for (const v of vectors(body)) assert.equal(v.length, DIMS);
      assert.deepEqual(Object.keys(body.usage), ['prompt_tokens', 'total_tokens']);
    });

    test("OpenAI's own CreateEmbeddingResponse accepts float answers of every input shape", { skip: HAVE_SPEC || process.env['CI'] ? false : MISSING }, async () => {
      // In CI a missing description is a failure, not a silent skip.
      assert.ok(HAVE_SPEC, MISSING);
      // Float answers only: OpenAI sends base64 vectors as strings too, which its own description does not declare.
      const validate = openAiEmbeddingResponse();
      const bodies = [
        await postJson(url + EMBEDDINGS, { model: MODEL, input: 'One text.' }),
        await postJson(url + EMBEDDINGS, { model: MODEL, input: ['Two', 'texts'], dimensions: 3, user: 'user-1234' }),
        await postJson(url + EMBEDDINGS, { model: MODEL, input: idsOf('Token ids.') }),
        await postJson(url + EMBEDDINGS, { model: MODEL, input: [idsOf('Arrays of'), idsOf('token ids.')] }),
        await postJson(url + CHAT_EMBEDDINGS, { model: MODEL, messages: [{ role: 'user', content: 'A chat.' }] }),
      ];
      for (const res of bodies) {
        const body = await res.json();
        assert.ok(validate(body), `OpenAI's CreateEmbeddingResponse rejects our body: ${JSON.stringify(validate.errors)}`);
      }
      // The oracle can fail: a vector of strings is not OpenAI's answer.
      assert.equal(validate({ object: 'list', model: MODEL, data: [{ object: 'embedding', index: 0, embedding: ['0.1'] }], usage: { prompt_tokens: 1, total_tokens: 1 } }), false);
    });

    test('base64 is the little-endian float32 bytes of exactly the float answer', async () => {
      const input = ['The quick brown fox', 'jumps over the lazy dog'];
      const floats = await vectorsOf(url, input);
      const b64 = await ok(EMBEDDINGS, await postJson(url + EMBEDDINGS, { model: MODEL, input, encoding_format: 'base64' }));
      assert.equal(b64.data.length, 2);
      for (const [i, d] of b64.data.entries()) {
        assert.equal(typeof d.embedding, 'string');
        assert.equal(Buffer.from(d.embedding as string, 'base64').length, DIMS * 4);
        assert.deepEqual(decodeBase64(d.embedding as string), floats[i]);
      }
      // Every float is a float32 value, written as the number it is.
      for (const x of floats[0]!) assert.equal(Math.fround(x), x);
    });

    test('unit length (L2 norm 1 within 1e-6) at every dimension count', async () => {
      for (const dimensions of [1, 2, 7, 64, 256, DIMS]) {
        const [v] = await vectorsOf(url, 'Unit length, whatever the size.', { dimensions });
        assert.equal(v!.length, dimensions);
        assert.ok(Math.abs(norm(v!) - 1) < 1e-6, `norm ${norm(v!)} at ${dimensions} dimensions`);
      }
    });

    test('dimensions shortens as OpenAI does: the first d numbers of the full vector, normalized again', async () => {
      const text = 'Matryoshka embeddings keep their meaning when cut short.';
      const [full] = await vectorsOf(url, text);
      for (const d of [8, 100, 512]) {
        const [short] = await vectorsOf(url, text, { dimensions: d });
        const head = full!.slice(0, d);
        const n = norm(head);
        for (let k = 0; k < d; k++) assert.ok(Math.abs(short![k]! - head[k]! / n) < 1e-6, `coordinate ${k} of ${d}`);
      }
    });
  });

  describe('the vectors', () => {
    test('the same input gives the same vector in every request; different inputs give different vectors', async () => {
      const texts = ['alpha', 'beta', 'alpha beta', 'beta alpha', 'Alpha'];
      const a = await vectorsOf(url, texts);
      const b = await vectorsOf(url, [...texts].reverse());
      assert.deepEqual(a, b.reverse());
      for (let i = 0; i < a.length; i++) {
        for (let j = i + 1; j < a.length; j++) assert.ok(cosine(a[i]!, a[j]!) < 0.999, `${texts[i]} and ${texts[j]} differ`);
      }
    });

    test('texts that share tokens are closer than unrelated texts; order alone changes little', async () => {
      const [query, near, far, reordered] = await vectorsOf(url, [
        'the cat sat on the mat in the sun',
        'a cat sat on a mat in the warm sun',
        'quantum chromodynamics describes strong interactions between quarks',
        'in the sun the cat sat on the mat',
      ]);
      const simNear = cosine(query!, near!);
      const simFar = cosine(query!, far!);
      assert.ok(simNear > simFar + 0.3, `near ${simNear}, far ${simFar}`);
      assert.ok(Math.abs(simFar) < 0.25, `unrelated texts are nearly orthogonal: ${simFar}`);
      assert.ok(cosine(query!, reordered!) > simFar + 0.3, `reordered: ${cosine(query!, reordered!)}`);
      // The same tokens in another order: the same bag, another order part.
      const ids = idsOf('the cat sat on the mat in the sun');
      const [forward, backward] = await vectorsOf(url, [ids, [...ids].reverse()]);
      const simOrder = cosine(forward!, backward!);
      assert.ok(simOrder > 0.85 && simOrder < 0.999, `reversed ids: ${simOrder}`);
    });

    test("a vector is made from the input's tokens: a text and its token ids give the same vector", async () => {
      const text = 'The quick brown fox';
      const [fromText] = await vectorsOf(url, text);
      const [fromIds] = await vectorsOf(url, idsOf(text));
      assert.deepEqual(fromText, fromIds);
      // ...and each model has vectors of its own.
      const [other] = vectors(await ok(EMBEDDINGS, await postJson(url + EMBEDDINGS, { model: 'another/model', input: text })));
      assert.ok(cosine(fromText!, other!) < 0.5);
    });

    test('the pure function: same ids, same vector; dims only cut; any order of a bag differs', () => {
      const salt = modelSalt(MODEL);
      const ids = idsOf('pure and deterministic');
      assert.deepEqual(embed(ids, 32, salt), embed([...ids], 32, salt));
      assert.notDeepEqual(embed(ids, 32, salt), embed([...ids].reverse(), 32, salt));
      assert.notDeepEqual(embed(ids, 32, salt), embed(ids, 32, modelSalt('other')));
      const full = embed(ids, 64, salt);
      const short = embed(ids, 16, salt);
      const n = Math.sqrt(full.subarray(0, 16).reduce((s, x) => s + x * x, 0));
      for (let k = 0; k < 16; k++) assert.ok(Math.abs(short[k]! - full[k]! / n) < 1e-6);
      // base64 is little-endian float32, whatever the host.
      assert.deepEqual(decodeBase64(toBase64(short)), Array.from(short));
    });
  });

  describe('usage and input shapes', () => {
    test('prompt_tokens is the tokenizer count, summed over inputs; token ids count as given', async () => {
      const texts = ['Hello, world!', 'Embeddings count every token of every input.', '你好，世界 🎉'];
      const body = await ok(EMBEDDINGS, await postJson(url + EMBEDDINGS, { model: MODEL, input: texts }));
      const expected = texts.reduce((s, t) => s + count(t), 0);
      assert.deepEqual(body.usage, { prompt_tokens: expected, total_tokens: expected });

      const one = await ok(EMBEDDINGS, await postJson(url + EMBEDDINGS, { model: MODEL, input: texts[1] }));
      assert.equal(one.usage.prompt_tokens, count(texts[1]!));
      assert.equal(one.data.length, 1);

      const ids = await ok(EMBEDDINGS, await postJson(url + EMBEDDINGS, { model: MODEL, input: [1, 2, 3, 4, 5] }));
      assert.equal(ids.usage.prompt_tokens, 5);
      assert.equal(ids.data.length, 1);

      const lists = await ok(EMBEDDINGS, await postJson(url + EMBEDDINGS, { model: MODEL, input: [[1, 2], [3], [4, 5, 6]] }));
      assert.equal(lists.usage.prompt_tokens, 6);
      assert.deepEqual(
        lists.data.map((d) => d.index),
        [0, 1, 2],
      );
    });

    test("a chat-shaped request (either path) is one input: the conversation through the model's chat template", async () => {
      const messages = [
        { role: 'system', content: 'Represent the question for retrieval.' },
        { role: 'user', content: [{ type: 'text', text: 'What is the capital of France?' }] },
      ];
      // What AIPerf's chat_embeddings endpoint type sends, to /v1/embeddings by default.
      const aiperf = await ok(EMBEDDINGS, await postJson(url + EMBEDDINGS, { messages, model: MODEL, stream: false }));
      const own = await ok(CHAT_EMBEDDINGS, await postJson(url + CHAT_EMBEDDINGS, { model: MODEL, messages }));
      assert.equal(aiperf.data.length, 1);
      assert.deepEqual(aiperf, own);
      // The template's tokens, as a chat completion counts its prompt.
      const chat = (await (await postJson(url + '/v1/chat/completions', { model: MODEL, messages, max_tokens: 1 })).json()) as ChatResponse;
      assert.equal(own.usage.prompt_tokens, chat.usage.prompt_tokens);
      assert.ok(own.usage.prompt_tokens > count('Represent the question for retrieval.') + count('What is the capital of France?'));
    });

    test('the typed client: createEmbedding and createChatEmbedding, errors as MockServerError', async () => {
      const client = createMockClient(url);
      const body = await client.createEmbedding({ model: MODEL, input: ['one', 'two'], dimensions: 5 });
      assert.equal(body.data.length, 2);
      assert.equal((body.data[1]!.embedding as Vector).length, 5);
      const b64 = await client.createEmbedding({ model: MODEL, input: 'one', encoding_format: 'base64', dimensions: 5 });
      assert.deepEqual(decodeBase64(b64.data[0]!.embedding as string), body.data[0]!.embedding);
      const chat = await client.createChatEmbedding({ model: MODEL, messages: [{ role: 'user', content: 'one' }] });
      assert.equal((chat.data[0]!.embedding as Vector).length, DIMS);
      await assert.rejects(client.createEmbedding({ model: MODEL, input: 'one', dimensions: DIMS + 1 }), (err: unknown) => {
        assert.ok(err instanceof MockServerError);
        assert.equal(err.status, 400);
        assert.equal(err.param, 'dimensions');
        return true;
      });
    });
  });

  describe('NVIDIA NIM: images and its fields', () => {
    // What AIPerf's nim_embeddings type sends: "<text> <image data URL>". 48 KiB of bytes: as text, its base64 would
    // be far over 8,192 tokens, so an answer at all shows that the image is not tokenized.
    const image = (seed: number): string => {
      const bytes = Buffer.alloc(48 * 1024);
      for (let k = 0; k < bytes.length; k++) bytes[k] = (k * 31 + seed * 97 + (k >> 7)) & 0xff;
      return `data:image/png;base64,${bytes.toString('base64')}`;
    };
    const text = 'A photo of a red bicycle leaning on a wall.';
    const embedOne = async (input: unknown, extra: Record<string, unknown> = {}): Promise<EmbeddingResponse> =>
      ok(EMBEDDINGS, await postJson(url + EMBEDDINGS, { model: MODEL, input, ...extra }));

    test('a text with an image (inferred): the text is tokenized, the image counts 256 tokens and is never text', async () => {
      const both = await embedOne([`${text} ${image(1)}`]);
      assert.equal(both.usage.prompt_tokens, count(text) + IMAGE_TOKENS);
      const alone = await embedOne(image(1));
      assert.equal(alone.usage.prompt_tokens, IMAGE_TOKENS);
      // NIM's own words for the same inputs give the same answers.
      assert.deepEqual(await embedOne([`${text} ${image(1)}`], { modality: 'text_image', input_type: 'passage', truncate: 'NONE' }), both);
      assert.deepEqual(await embedOne(image(1), { modality: ['image'] }), alone);
    });

    test('the same image, the same vector; another image, another; a text with an image is near both', async () => {
      const [a, again, b, withText, textOnly] = await vectorsOf(url, [image(1), image(1), image(2), `${text} ${image(1)}`, text]);
      assert.deepEqual(a, again);
      assert.ok(cosine(a!, b!) < 0.5, `two images: cosine ${cosine(a!, b!)}`);
      assert.ok(cosine(withText!, a!) > cosine(withText!, b!), 'the text with image 1 is nearer image 1 than image 2');
      assert.ok(cosine(withText!, textOnly!) > 0.1, `the text with its image and the text alone: cosine ${cosine(withText!, textOnly!)}`);
    });

    test('modality text takes a data URL as text; per-input modalities; refused shapes', async () => {
      const small = 'data:image/png;base64,iVBORw0KGgo=';
      const asText = await embedOne([small], { modality: 'text' });
      assert.equal(asText.usage.prompt_tokens, count(small));
      const mixed = await embedOne([text, small, `${text} ${small}`], { modality: ['text', 'image', 'text_image'] });
      assert.equal(mixed.usage.prompt_tokens, count(text) + IMAGE_TOKENS + count(text) + IMAGE_TOKENS);
      const send = (input: unknown, extra: Record<string, unknown>): Promise<Response> => postJson(url + EMBEDDINGS, { model: MODEL, input, ...extra });
      assert.equal((await refused(EMBEDDINGS, await send([text, text], { modality: ['text', 'text', 'text'] }), 400)).param, 'modality');
      assert.equal((await refused(EMBEDDINGS, await send([text], { modality: 'image' }), 400)).param, 'input[0]');
      assert.equal((await refused(EMBEDDINGS, await send([`${text} ${small}`], { modality: 'image' }), 400)).param, 'input[0]');
      assert.equal((await refused(EMBEDDINGS, await send([small], { modality: 'text_image' }), 400)).param, 'input[0]');
      assert.equal((await refused(EMBEDDINGS, await send([[1, 2]], { modality: 'image' }), 400)).param, 'input[0]');
      assert.equal((await refused(EMBEDDINGS, await send(['data:image/png;utf8,<svg/>'], {}), 400)).param, 'input[0]');
      assert.equal((await refused(EMBEDDINGS, await send([text], { modality: 'audio' }), 400)).param, 'modality');
      assert.equal((await refused(EMBEDDINGS, await send([text], { truncate: 'MIDDLE' }), 400)).param, 'truncate');
    });

    test('input_type: queries and passages of text alike; an image is a passage, refused as a query', async () => {
      const query = await embedOne(text, { input_type: 'query' });
      assert.deepEqual(await embedOne(text, { input_type: 'passage' }), query);
      await embedOne(image(1), { input_type: 'passage' });
      const e = await refused(EMBEDDINGS, await postJson(url + EMBEDDINGS, { model: MODEL, input: [text, image(1)], input_type: 'query' }), 400);
      assert.equal(e.param, 'input_type');
    });

    test('truncate END keeps the first 8,192 tokens, START the last; NONE refuses; an image keeps its tokens', async () => {
      const long = Array.from({ length: 3000 }, (_, k) => `word${k}`).join(' ');
      const ids = idsOf(long);
      assert.ok(ids.length > 8192);
      const end = await embedOne(long, { truncate: 'END', dimensions: 8 });
      assert.equal(end.usage.prompt_tokens, 8192);
      assert.deepEqual(vectors(end), await vectorsOf(url, [ids.slice(0, 8192)], { dimensions: 8 }));
      const start = await embedOne(long, { truncate: 'START', dimensions: 8 });
      assert.deepEqual(vectors(start), await vectorsOf(url, [ids.slice(ids.length - 8192)], { dimensions: 8 }));
      assert.match((await refused(EMBEDDINGS, await postJson(url + EMBEDDINGS, { model: MODEL, input: long, truncate: 'NONE' }), 400)).message, /maximum context length/);
      const withImage = await embedOne(`${long} ${image(1)}`, { truncate: 'END', dimensions: 8 });
      assert.equal(withImage.usage.prompt_tokens, 8192);
      // A huge text is cut before it is tokenized, and still keeps exactly 8,192 tokens.
      const huge = await embedOne('hello world '.repeat(400_000), { truncate: 'START', dimensions: 8 });
      assert.equal(huge.usage.prompt_tokens, 8192);
    });
  });

  describe('openai-node', () => {
    const client = (): OpenAI => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'test', maxRetries: 0, timeout: 30_000 });

    test('embeddings.create asks for base64 by default and decodes it to exactly the float vectors', async () => {
      const input = ['The food was delicious and the waiter...', 'Another sentence entirely.'];
      const seen: string[] = [];
      const spy = new OpenAI({
        baseURL: `${url}/v1`,
        apiKey: 'test',
        maxRetries: 0,
        fetch: async (req, init) => {
          seen.push(String(init?.body));
          return fetch(req, init);
        },
      });
      const decoded = await spy.embeddings.create({ model: MODEL, input });
      assert.equal(JSON.parse(seen[0]!).encoding_format, 'base64', 'openai-node asked for base64');
      const floats = await client().embeddings.create({ model: MODEL, input, encoding_format: 'float' });
      assert.equal(decoded.object, 'list');
      assert.equal(decoded.data.length, 2);
      assert.deepEqual(
        decoded.data.map((d) => d.embedding),
        floats.data.map((d) => d.embedding),
      );
      assert.deepEqual(decoded.usage, floats.usage);
      assert.equal(decoded.usage.prompt_tokens, count(input[0]!) + count(input[1]!));
    });

    test('dimensions, through the client, both encodings', async () => {
      const a = await client().embeddings.create({ model: MODEL, input: 'shorter', dimensions: 256 });
      const b = await client().embeddings.create({ model: MODEL, input: 'shorter', dimensions: 256, encoding_format: 'float' });
      assert.equal(a.data[0]!.embedding.length, 256);
      assert.deepEqual(a.data[0]!.embedding, b.data[0]!.embedding);
    });

    test('a refused request is a BadRequestError with the server message', async () => {
      await assert.rejects(client().embeddings.create({ model: MODEL, input: '' }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError, String(err));
        assert.equal(err.status, 400);
        return true;
      });
    });
  });

  describe('determinism across processes, and the settings', () => {
    let other: RunningServer;
    before(async () => {
      // The vector length from the environment: 1024, a second process of its own.
      other = await startServer([], { MOCK_SERVER_EMBEDDING_DIMENSIONS: '1024' });
    });
    after(async () => {
      await other?.stop();
    });

    test('another server process gives the same vectors; its longer vectors begin with ours', async () => {
      const texts = ['Same input, same vector.', 'Across restarts too.'];
      const here = await vectorsOf(url, texts);
      const there = await vectorsOf(other.url, texts, { dimensions: DIMS });
      assert.deepEqual(there, here);
      const [long] = await vectorsOf(other.url, texts[0]);
      assert.equal(long!.length, 1024);
      const n = norm(long!.slice(0, DIMS));
      for (let k = 0; k < DIMS; k++) assert.ok(Math.abs(here[0]![k]! - long![k]! / n) < 1e-6);
    });

    test('the settings are shown by /health and change with /configure', async () => {
      const health = (await (await fetch(url + '/health')).json()) as { settings: Record<string, unknown> };
      assert.equal(health.settings['embedding_dimensions'], DIMS);
      assert.equal(health.settings['embedding_base_latency'], 0);
      assert.equal(health.settings['embedding_per_input_latency'], 0);
      await configure(other.url, { embedding_dimensions: 32 });
      const [v] = await vectorsOf(other.url, 'x');
      assert.equal(v!.length, 32);
      const res = await postJson(other.url + '/configure', { embedding_dimensions: 4097 });
      assert.equal(res.status, 400);
    });
  });

  describe('limits and errors, in OpenAI shape', () => {
    const send = (body: Record<string, unknown>, path = EMBEDDINGS): Promise<Response> => postJson(url + path, { model: MODEL, ...body });

    test('dimensions out of range', async () => {
      assert.equal((await refused(EMBEDDINGS, await send({ input: 'a', dimensions: 0 }), 400)).param, 'dimensions');
      const e = await refused(EMBEDDINGS, await send({ input: 'a', dimensions: DIMS + 1 }), 400);
      assert.equal(e.param, 'dimensions');
      assert.match(e.message, /at most 768/);
      assert.equal((await refused(CHAT_EMBEDDINGS, await send({ messages: [{ role: 'user', content: 'a' }], dimensions: 5000 }, CHAT_EMBEDDINGS), 400)).param, 'dimensions');
    });

    test('empty inputs, mixed shapes, unknown fields of the wrong kind', async () => {
      assert.equal((await refused(EMBEDDINGS, await send({ input: '' }), 400)).param, 'input');
      assert.equal((await refused(EMBEDDINGS, await send({ input: ['a', ''] }), 400)).param, 'input[1]');
      assert.equal((await refused(EMBEDDINGS, await send({ input: [[1, 2], []] }), 400)).param, 'input[1]');
      assert.equal((await refused(EMBEDDINGS, await send({ input: [] }), 400)).param, 'input');
      assert.equal((await refused(EMBEDDINGS, await send({ input: ['a', 1] }), 400)).param, 'input');
      assert.equal((await refused(EMBEDDINGS, await send({ input: 'a', encoding_format: 'bytes' }), 400)).param, 'encoding_format');
      assert.equal((await refused(EMBEDDINGS, await send({}), 400)).param, 'input');
      assert.equal((await refused(EMBEDDINGS, await send({ input: 'a', messages: [{ role: 'user', content: 'b' }] }), 400)).param, 'messages');
      assert.equal((await refused(CHAT_EMBEDDINGS, await send({ input: 'a' }, CHAT_EMBEDDINGS), 400)).param, 'messages');
    });

    test('token ids outside the vocabulary', async () => {
      const e = await refused(EMBEDDINGS, await send({ input: [[1, 2], [3, 10_000_000]] }), 400);
      assert.equal(e.param, 'input');
      assert.match(e.message, /10000000 is out of vocabulary/);
      assert.equal((await refused(EMBEDDINGS, await send({ input: [-1] }), 400)).param, 'input[0]');
    });

    test('more than 2,048 inputs', async () => {
      const e = await refused(EMBEDDINGS, await send({ input: Array.from({ length: 2049 }, () => 'a') }), 400);
      assert.equal(e.param, 'input');
      assert.match(e.message, /2048/);
      await ok(EMBEDDINGS, await send({ input: Array.from({ length: 2048 }, () => 'a'), dimensions: 4 }));
    });

    test('more than 8,192 tokens in one input: refused, counted or (for a huge text) bounded without tokenizing', async () => {
      const exact = await refused(EMBEDDINGS, await send({ input: [[1], Array.from({ length: 8193 }, () => 1)] }), 400);
      assert.match(exact.message, /maximum context length is 8192 tokens, however you requested 8193 tokens/);
      await ok(EMBEDDINGS, await send({ input: [Array.from({ length: 8192 }, () => 1)], dimensions: 4 }));
      const text = 'hello world '.repeat(5000);
      const counted = await refused(EMBEDDINGS, await send({ input: text }), 400);
      assert.match(counted.message, new RegExp(`requested ${count(text)} tokens`));
      // 4 MiB of one letter: no token of the vocabulary covers more than 128 bytes.
      const huge = await refused(EMBEDDINGS, await send({ input: 'x'.repeat(4 * 2 ** 20) }), 400);
      assert.match(huge.message, /requested at least 32768 tokens/);
    });

    test('more than 300,000 tokens in one request', async () => {
      const e = await refused(EMBEDDINGS, await send({ input: Array.from({ length: 37 }, () => Array.from({ length: 8192 }, () => 1)) }), 400);
      assert.equal(e.code, 'max_tokens_per_request');
      assert.equal(e.type, 'max_tokens_per_request');
      assert.match(e.message, /^Requested 303104 tokens, max 300000 tokens per request$/);
    });

    test('an answer over 2^22 numbers is refused before any work', async () => {
      await configure(url, { embedding_dimensions: 4096 });
      try {
        const e = await refused(EMBEDDINGS, await send({ input: Array.from({ length: 1025 }, () => 'a') }), 400);
        assert.equal(e.code, 'output_too_large');
      } finally {
        await configure(url, { embedding_dimensions: DIMS });
      }
    });
  });

  describe('the engine: faults, queue, latency', () => {
    test('X-Mock-Error answers that error in OpenAI shape, on both paths', async () => {
      for (const path of [EMBEDDINGS, CHAT_EMBEDDINGS]) {
        const body = path === EMBEDDINGS ? { model: MODEL, input: 'x' } : { model: MODEL, messages: [{ role: 'user', content: 'x' }] };
        const res = await postJson(url + path, body, { 'X-Mock-Error': '429' });
        assert.equal(res.headers.get('retry-after'), '1');
        assert.equal((await refused(path, res, 429)).code, 'rate_limit_exceeded');
        assert.equal((await refused(path, await postJson(url + path, body, { 'X-Mock-Error': '503' }), 503)).type, 'server_error');
      }
    });

    test('the answer comes no earlier than embedding_base_latency + embedding_per_input_latency × inputs', async () => {
      await configure(url, { embedding_base_latency: 120, embedding_per_input_latency: 40 });
      try {
        for (const input of [['one'], ['one', 'two', 'three', 'four']]) {
          const t0 = performance.now();
          await ok(EMBEDDINGS, await postJson(url + EMBEDDINGS, { model: MODEL, input }));
          const took = performance.now() - t0;
          const floor = 120 + 40 * input.length;
          assert.ok(took >= floor - 1, `${input.length} inputs took ${took.toFixed(1)} ms, less than ${floor}`);
          assert.ok(took < floor + 1000, `${input.length} inputs took ${took.toFixed(1)} ms`);
        }
        // X-Mock-TTFT replaces the latency.
        const t0 = performance.now();
        await ok(EMBEDDINGS, await postJson(url + EMBEDDINGS, { model: MODEL, input: 'fast' }, { 'X-Mock-TTFT': '0' }));
        assert.ok(performance.now() - t0 < 120 + 40 + 1000);
      } finally {
        await configure(url, { embedding_base_latency: 0, embedding_per_input_latency: 0 });
      }
    });

    test('max_concurrency queues embeddings (FIFO, the wait adds to the latency) and a full queue is 429', async () => {
      // Long enough that the first is still running when the third arrives, on a loaded machine too.
      await configure(url, { embedding_base_latency: 800, max_concurrency: 1, max_queue: 1 });
      try {
        const t0 = performance.now();
        const times: number[] = [];
        const timed = async (res: Promise<Response>): Promise<Response> => {
          const r = await res;
          times.push(performance.now() - t0);
          return r;
        };
        const first = timed(postJson(url + EMBEDDINGS, { model: MODEL, input: 'first' }));
        await new Promise((r) => setTimeout(r, 50));
        const second = timed(postJson(url + EMBEDDINGS, { model: MODEL, input: 'second' }));
        await new Promise((r) => setTimeout(r, 50));
        const third = await postJson(url + EMBEDDINGS, { model: MODEL, input: 'third' });
        const e = await refused(EMBEDDINGS, third, 429);
        assert.equal(e.code, 'queue_full');
        await ok(EMBEDDINGS, await first);
        await ok(EMBEDDINGS, await second);
        // The second waited for the first's slot, then took its own latency.
        assert.ok(times[1]! >= 1600 - 1, `the queued request took ${times[1]!.toFixed(1)} ms`);
      } finally {
        await configure(url, { embedding_base_latency: 0, max_concurrency: 0, max_queue: 1000 });
      }
    });

    test('served requests count in /metrics with their prompt tokens', async () => {
      const model = 'metrics/embedder';
      await ok(EMBEDDINGS, await postJson(url + EMBEDDINGS, { model, input: ['count me', 'and me'] }));
      const metrics = await (await fetch(url + '/metrics')).text();
      const line = metrics.split('\n').find((l) => l.startsWith(`vllm:prompt_tokens_total{model_name="${model}"}`));
      assert.ok(line, metrics.slice(0, 2000));
      assert.equal(Number(line.split(' ').at(-1)), count('count me') + count('and me'));
    });
  });
});

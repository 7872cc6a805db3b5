// Image generation (POST /v1/images/generations and the PNG files behind its URLs) against a real server with the
// real Qwen3 tokenizer: real PNGs (decoded with fast-png) of the asked size, the same bytes for the same prompt,
// n different images, b64_json and URLs that are fetchable, the stream's named events in order, usage as
// gpt-image-1 bills it, OpenAI's rules and errors per model, openai-node and the typed client, faults and latency.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import OpenAI from 'openai';
import { decode } from 'fast-png';
import { postJson, readSse, startServer, type RunningServer } from './support/server.js';
import { declaredResponse } from './support/spec.js';
import { count } from './support/qwen.js';
import { MISSING, OPENAI_SPEC, refused } from './support/openai.js';
import { createMockClient } from '../src/client.js';
import type { ImageGenCompletedEvent, ImageGenPartialImageEvent, ImagesResponse } from '../src/types.js';

const PATH = '/v1/images/generations';
const PROMPT = 'A cute baby sea otter floating on its back';


const png = (b64: string | undefined): ReturnType<typeof decode> => {
  assert.ok(b64, 'no b64_json');
  const bytes = Buffer.from(b64, 'base64');
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'the PNG signature');
  return decode(bytes);
};

/** A 200 answer as JSON, checked against this contract. */
async function ok(res: Response): Promise<ImagesResponse> {
  const text = await res.text();
  assert.equal(res.status, 200, text.slice(0, 500));
  const body = JSON.parse(text) as ImagesResponse;
  const declared = declaredResponse('POST', PATH, 200, res.headers.get('content-type'));
  assert.equal(declared.check(body), undefined);
  return body;
}


/** A schema of OpenAI's own description, compiled. */
function openAi(name: string): ValidateFunction {
  const doc = parse(readFileSync(OPENAI_SPEC, 'utf8')) as { components: { schemas: Record<string, unknown> } };
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  ajv.addFormat('unixtime', true);
  ajv.addFormat('uri', true);
  ajv.addSchema({ components: { schemas: doc.components.schemas } }, 'openai');
  return ajv.compile({ $ref: `openai#/components/schemas/${name}` });
}

describe('image generation', { timeout: 240_000 }, () => {
  let server: RunningServer;
  let url: string;
  const configure = (patch: object): Promise<Response> => postJson(`${url}/configure`, patch);

  before(async () => {
    server = await startServer(['--image-generation-latency', '0']);
    url = server.url;
  });
  after(async () => {
    await server?.stop();
  });

  describe('a GPT image model', () => {
    test("base64 PNGs of the asked size, in OpenAI's shape and key order, with gpt-image-1's usage", async () => {
      const body = await ok(await postJson(url + PATH, { model: 'gpt-image-1', prompt: PROMPT, size: '1536x1024', quality: 'low' }));
      assert.deepEqual(Object.keys(body), ['created', 'data', 'background', 'output_format', 'size', 'quality', 'usage']);
      assert.ok(Math.abs(body.created - Date.now() / 1000) < 60);
      assert.equal(body.data.length, 1);
      assert.deepEqual(Object.keys(body.data[0]!), ['b64_json']);
      const image = png(body.data[0]!.b64_json);
      assert.deepEqual([image.width, image.height, image.channels, image.depth], [1536, 1024, 3, 8]);
      assert.deepEqual([body.background, body.output_format, body.size, body.quality], ['opaque', 'png', '1536x1024', 'low']);
      const text = count(PROMPT);
      assert.deepEqual(body.usage, { total_tokens: text + 400, input_tokens: text, output_tokens: 400, input_tokens_details: { text_tokens: text, image_tokens: 0 } });
    });

    test("the answer matches OpenAI's own ImagesResponse", { skip: MISSING }, async () => {
      const body = await ok(await postJson(url + PATH, { model: 'gpt-image-1', prompt: PROMPT, quality: 'high' }));
      const validate = openAi('ImagesResponse');
      assert.ok(validate(body), JSON.stringify(validate.errors));
      assert.equal(body.usage?.output_tokens, 4160);
      assert.equal(body.size, '1024x1024', 'auto is square');
    });

    test('output tokens per image follow the table, times n; auto is billed as medium', async () => {
      const cases: Array<[string, string, number]> = [
        ['1024x1024', 'low', 272], ['1024x1536', 'low', 408], ['1536x1024', 'medium', 1568], ['1024x1536', 'high', 6240], ['1024x1024', 'auto', 1056],
      ];
      for (const [size, quality, tokens] of cases) {
        const body = await ok(await postJson(url + PATH, { model: 'gpt-image-1-mini', prompt: 'x', size, quality, n: 2 }));
        assert.equal(body.usage?.output_tokens, 2 * tokens, `${size} ${quality}`);
      }
    });

    test('the same prompt gives the same bytes; n images differ from each other; another prompt differs', async () => {
      const ask = { model: 'gpt-image-1', prompt: PROMPT, size: '1024x1024', quality: 'low', n: 3 };
      const a = await ok(await postJson(url + PATH, ask));
      const b = await ok(await postJson(url + PATH, ask));
      assert.deepEqual(a.data, b.data);
      const bytes = a.data.map((d) => d.b64_json);
      assert.equal(new Set(bytes).size, 3, 'three different images');
      for (const d of a.data) assert.deepEqual([png(d.b64_json).width, png(d.b64_json).height], [1024, 1024]);
      const other = await ok(await postJson(url + PATH, { ...ask, prompt: `${PROMPT}!`, n: 1 }));
      assert.notEqual(other.data[0]!.b64_json, bytes[0]);
    });

    test('the same prompt gives the same bytes in another server process', async () => {
      const ask = { model: 'gpt-image-1', prompt: 'determinism across processes', quality: 'low' };
      const here = await ok(await postJson(url + PATH, ask));
      const second = await startServer(['--image-generation-latency', '0']);
      try {
        const there = await ok(await postJson(second.url + PATH, ask));
        assert.equal(there.data[0]!.b64_json, here.data[0]!.b64_json);
      } finally {
        await second.stop();
      }
    });

    test('a transparent background is an RGBA image whose corners are transparent', async () => {
      const body = await ok(await postJson(url + PATH, { model: 'gpt-image-1', prompt: 'transparent', background: 'transparent', quality: 'low' }));
      assert.equal(body.background, 'transparent');
      const image = png(body.data[0]!.b64_json);
      assert.equal(image.channels, 4);
      const alpha = (x: number, y: number): number => image.data[(y * image.width + x) * 4 + 3]!;
      const corners = [alpha(0, 0), alpha(image.width - 1, 0), alpha(0, image.height - 1), alpha(image.width - 1, image.height - 1)];
      assert.ok(corners.some((a) => a === 0), `corner alphas ${corners}`);
      let opaque = 0;
      for (let i = 3; i < image.data.length; i += 4) if (image.data[i] === 255) opaque++;
      assert.ok(opaque > 0, 'an opaque part (the disc)');
    });

    test("OpenAI's refusals: response_format, sizes, qualities and formats the model does not take", async () => {
      const rf = await refused(await postJson(url + PATH, { model: 'gpt-image-1', prompt: 'x', response_format: 'b64_json' }), 400);
      assert.deepEqual(rf, { message: "Unknown parameter: 'response_format'.", type: 'invalid_request_error', param: 'response_format', code: 'unknown_parameter' });
      const size = await refused(await postJson(url + PATH, { model: 'gpt-image-1', prompt: 'x', size: '512x512' }), 400);
      assert.deepEqual(size, { message: "Invalid value: '512x512'. Supported values are: '1024x1024', '1536x1024', '1024x1536', and 'auto'.", type: 'invalid_request_error', param: 'size', code: 'invalid_value' });
      assert.equal((await refused(await postJson(url + PATH, { model: 'gpt-image-1', prompt: 'x', quality: 'hd' }), 400)).param, 'quality');
      assert.equal((await refused(await postJson(url + PATH, { model: 'gpt-image-1', prompt: 'x', output_format: 'jpeg' }), 400)).param, 'output_format');
      // gpt-image-2 takes free sizes in steps of 16 px, up to 3:1.
      const free = await ok(await postJson(url + PATH, { model: 'gpt-image-2', prompt: 'x', size: '976x704', quality: 'low' }));
      assert.deepEqual([png(free.data[0]!.b64_json).width, png(free.data[0]!.b64_json).height], [976, 704]);
      assert.equal((await refused(await postJson(url + PATH, { model: 'gpt-image-2', prompt: 'x', size: '3200x1024' }), 400)).param, 'size');
    });
  });

  describe('dall-e and URLs', () => {
    test('dall-e-2 (the default model) answers URLs that serve the same PNG as b64_json', async () => {
      const res = await postJson(url + PATH, { prompt: PROMPT, n: 2, size: '256x256' });
      const body = await ok(res);
      assert.deepEqual(Object.keys(body), ['created', 'data'], 'dall-e reports no usage');
      const urls = body.data.map((d) => d.url!);
      for (const u of urls) assert.match(u, new RegExp(`^${url}/v1/images/files/[0-9a-f]{32}-[01]-256x256-opaque\\.png$`));
      const b64 = await ok(await postJson(url + PATH, { prompt: PROMPT, n: 2, size: '256x256', response_format: 'b64_json' }));
      for (const [i, u] of urls.entries()) {
        const file = await fetch(u);
        assert.equal(file.status, 200);
        assert.equal(file.headers.get('content-type'), 'image/png');
        const bytes = Buffer.from(await file.arrayBuffer());
        assert.equal(bytes.toString('base64'), b64.data[i]!.b64_json);
        assert.deepEqual([decode(bytes).width, decode(bytes).height], [256, 256]);
      }
    });

    test("a URL names the origin the request was addressed to (its Host), and another server serves it too", async () => {
      // fetch sets Host itself: send the request with node:http to address the server by another name.
      const answer = await new Promise<string>((resolve, reject) => {
        const req = request({ port: server.port, host: '127.0.0.1', method: 'POST', path: PATH, headers: { 'content-type': 'application/json', host: `localhost:${server.port}` } }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ prompt: 'host', size: '256x256' }));
      });
      const body = JSON.parse(answer) as ImagesResponse;
      assert.ok(body.data[0]!.url!.startsWith(`http://localhost:${server.port}/v1/images/files/`), body.data[0]!.url);
      const name = body.data[0]!.url!.split('/').at(-1)!;
      const second = await startServer([]);
      try {
        const file = await fetch(`${second.url}/v1/images/files/${name}`);
        assert.equal(file.status, 200);
        assert.deepEqual([decode(new Uint8Array(await file.arrayBuffer())).width], [256]);
      } finally {
        await second.stop();
      }
    });

    test('a file name this server never gave is a 404 in OpenAI\'s shape', async () => {
      for (const name of ['nope.png', `${'a'.repeat(32)}-0-99999x1-opaque.png`, `${'a'.repeat(32)}-10-256x256-opaque.png`]) {
        const e = await refused(await fetch(`${url}/v1/images/files/${name}`), 404);
        assert.equal(e.param, 'name');
      }
    });

    test("dall-e-3 gives one image with its revised_prompt; its n, sizes and streaming follow OpenAI's rules", async () => {
      const body = await ok(await postJson(url + PATH, { model: 'dall-e-3', prompt: PROMPT, response_format: 'b64_json' }));
      assert.deepEqual(Object.keys(body.data[0]!), ['b64_json', 'revised_prompt']);
      assert.equal(body.data[0]!.revised_prompt, PROMPT);
      assert.equal((await refused(await postJson(url + PATH, { model: 'dall-e-3', prompt: 'x', n: 2 }), 400)).param, 'n');
      const size = await refused(await postJson(url + PATH, { model: 'dall-e-3', prompt: 'x', size: '256x256' }), 400);
      assert.equal(size.message, "Invalid value: '256x256'. Supported values are: '1024x1024', '1792x1024', and '1024x1792'.");
      assert.equal((await refused(await postJson(url + PATH, { model: 'dall-e-2', prompt: 'x', stream: true }), 400)).param, 'stream');
      const small = await refused(await postJson(url + PATH, { prompt: 'x', size: '100x100' }), 400);
      assert.deepEqual(small, { message: "Invalid value: '100x100'. Supported values are: '256x256', '512x512', and '1024x1024'.", type: 'invalid_request_error', param: 'size', code: 'invalid_value' });
    });

    test('n out of 1 to 10 and a missing prompt are 400 with the field named', async () => {
      for (const n of [0, 11]) assert.equal((await refused(await postJson(url + PATH, { prompt: 'x', n }), 400)).param, 'n');
      assert.equal((await refused(await postJson(url + PATH, { n: 1 }), 400)).param, 'prompt');
    });
  });

  describe('another model (an open server, as AIPerf asks)', () => {
    test("AIPerf's request: response_format b64_json, n 1, ignore_eos; usage, size and quality reported", async () => {
      const body = await ok(await postJson(url + PATH, { prompt: PROMPT, model: 'Qwen/Qwen3-0.6B', response_format: 'b64_json', n: 1, ignore_eos: true, size: '512x384' }));
      assert.deepEqual([png(body.data[0]!.b64_json).width, png(body.data[0]!.b64_json).height], [512, 384]);
      assert.equal(body.size, '512x384');
      assert.equal(body.usage?.input_tokens, count(PROMPT));
      assert.equal(body.usage?.output_tokens, Math.round((1056 * 512 * 384) / (1024 * 1024)));
      const asUrl = await ok(await postJson(url + PATH, { prompt: PROMPT, model: 'Qwen/Qwen3-0.6B', response_format: 'url' }));
      assert.ok(asUrl.data[0]!.url);
    });
  });

  describe('streaming', () => {
    test('partial images then the completed image, as named events, without [DONE]', async () => {
      const res = await postJson(url + PATH, { model: 'gpt-image-1', prompt: PROMPT, quality: 'low', stream: true, partial_images: 2 });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      const events = await readSse(res);
      const declared = declaredResponse('POST', PATH, 200, 'text/event-stream');
      const payloads = events.map((e) => JSON.parse(e.data) as ImageGenPartialImageEvent | ImageGenCompletedEvent);
      assert.deepEqual(payloads.map((p) => p.type), ['image_generation.partial_image', 'image_generation.partial_image', 'image_generation.completed']);
      assert.deepEqual(events.map((e) => e.event), payloads.map((p) => p.type), 'each event is named in an event: line');
      for (const p of payloads) assert.equal(declared.check(p), undefined);
      const partials = payloads.slice(0, 2) as ImageGenPartialImageEvent[];
      assert.deepEqual(partials.map((p) => p.partial_image_index), [0, 1]);
      for (const p of payloads) assert.deepEqual([png(p.b64_json).width, png(p.b64_json).height], [1024, 1024]);
      // The final image is the one the same request answers whole; the partials are coarser versions of it.
      const whole = await ok(await postJson(url + PATH, { model: 'gpt-image-1', prompt: PROMPT, quality: 'low' }));
      const completed = payloads[2] as ImageGenCompletedEvent;
      assert.equal(completed.b64_json, whole.data[0]!.b64_json);
      assert.notEqual(partials[0]!.b64_json, completed.b64_json);
      assert.deepEqual(Object.keys(completed), ['type', 'b64_json', 'created_at', 'size', 'quality', 'background', 'output_format', 'usage']);
      const text = count(PROMPT);
      assert.deepEqual(completed.usage, { total_tokens: text + 472, input_tokens: text, output_tokens: 472, input_tokens_details: { text_tokens: text, image_tokens: 0 } });
    });

    test("the events match OpenAI's own event schemas", { skip: MISSING }, async () => {
      const events = await readSse(await postJson(url + PATH, { model: 'gpt-image-1', prompt: 'x', quality: 'low', stream: true, partial_images: 1 }));
      const [partial, completed] = events.map((e) => JSON.parse(e.data) as unknown);
      for (const [name, value] of [['ImageGenPartialImageEvent', partial], ['ImageGenCompletedEvent', completed]] as const) {
        const validate = openAi(name);
        assert.ok(validate(value), `${name}: ${JSON.stringify(validate.errors)}`);
      }
    });

    test('n images stream one after the other; partial_images 0 sends only the completed events', async () => {
      const events = await readSse(await postJson(url + PATH, { model: 'gpt-image-1', prompt: PROMPT, quality: 'low', stream: true, n: 2 }));
      const payloads = events.map((e) => JSON.parse(e.data) as ImageGenCompletedEvent);
      assert.deepEqual(payloads.map((p) => p.type), ['image_generation.completed', 'image_generation.completed']);
      assert.notEqual(payloads[0]!.b64_json, payloads[1]!.b64_json);
      assert.equal(payloads[0]!.usage.output_tokens, 272);
    });

    test('the events are spread over the latency: partial k of p after (k+1)/(p+1) of it, the image at its end', async () => {
      await configure({ image_generation_latency: 300 });
      try {
        const start = performance.now();
        const res = await postJson(url + PATH, { model: 'gpt-image-1', prompt: 'spread', quality: 'low', stream: true, partial_images: 2 });
        const events = await readSse(res);
        const at = events.map((e) => e.at - start);
        assert.equal(at.length, 3);
        assert.ok(at[0]! >= 100, `first partial at ${at[0]} ms, before a third of 300`);
        assert.ok(at[1]! >= 200, `second partial at ${at[1]} ms, before two thirds of 300`);
        assert.ok(at[2]! >= 300, `completed at ${at[2]} ms, before 300`);
      } finally {
        await configure({ image_generation_latency: 0 });
      }
    });
  });

  describe('the engine', () => {
    test('n images take n × image_generation_latency, never less', async () => {
      await configure({ image_generation_latency: 150 });
      try {
        const start = performance.now();
        await ok(await postJson(url + PATH, { prompt: 'latency', size: '256x256', n: 2, response_format: 'b64_json' }));
        const took = performance.now() - start;
        assert.ok(took >= 300, `answered after ${took} ms, before 2 × 150`);
        const forced = performance.now();
        await ok(await postJson(url + PATH, { prompt: 'latency', size: '256x256', n: 2, response_format: 'b64_json' }, { 'x-mock-ttft': '0' }));
        assert.ok(performance.now() - forced < took, 'X-Mock-TTFT replaces the latency');
      } finally {
        await configure({ image_generation_latency: 0 });
      }
    });

    test('X-Mock-Error answers the forced error in OpenAI\'s shape, for whole and streamed requests', async () => {
      const e = await refused(await postJson(url + PATH, { prompt: 'x', size: '256x256' }, { 'x-mock-error': '429' }), 429);
      assert.equal(e.code, 'rate_limit_exceeded');
      await refused(await postJson(url + PATH, { model: 'gpt-image-1', prompt: 'x', stream: true }, { 'x-mock-error': '500' }), 500);
    });

    test('the requests are counted in the metrics under their model', async () => {
      await ok(await postJson(url + PATH, { model: 'gpt-image-1', prompt: 'metrics', quality: 'low' }));
      const text = await (await fetch(`${url}/metrics`)).text();
      assert.match(text, /vllm:request_success_total\{[^}]*model_name="gpt-image-1"[^}]*\} [1-9]/);
    });
  });

  describe('clients', () => {
    test("openai-node's images.generate decodes the answer", async () => {
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'none' });
      const res = await client.images.generate({ model: 'gpt-image-1', prompt: PROMPT, size: '1024x1024', quality: 'low' });
      assert.deepEqual([png(res.data?.[0]?.b64_json).width], [1024]);
      assert.equal(res.usage?.output_tokens, 272);
    });

    test("openai-node's images.generate streams the events", async () => {
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'none' });
      const stream = await client.images.generate({ model: 'gpt-image-1', prompt: PROMPT, quality: 'low', stream: true, partial_images: 1 });
      const types: string[] = [];
      for await (const event of stream) types.push(event.type);
      assert.deepEqual(types, ['image_generation.partial_image', 'image_generation.completed']);
    });

    test('the typed client: createImage and getImageFile', async () => {
      const client = createMockClient(url);
      const body = await client.createImage({ prompt: 'typed client', size: '256x256' });
      const name = body.data[0]!.url!.split('/').at(-1)!;
      const bytes = await client.getImageFile(name);
      assert.deepEqual([decode(bytes).width, decode(bytes).height], [256, 256]);
    });
  });
});

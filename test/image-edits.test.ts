// Image edits (POST /v1/images/edits, a multipart upload) against a real server: openai-node's client.images.edit
// with one and several images, real PNGs of the asked (or the upload's) size, a picture that follows both the
// prompt and the uploaded bytes, usage as image generation bills it, errors for what is no image, the typed client.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import { decode, encode } from 'fast-png';
import { startServer, type RunningServer } from './support/server.js';
import { declaredResponse } from './support/spec.js';
import { createMockClient } from '../src/client.js';
import type { ErrorBody, ImagesResponse } from '../src/types.js';

const PATH = '/v1/images/edits';
const MODEL = 'Qwen/Qwen3-0.6B';

/** A real PNG of one colour. */
const pngOf = (width: number, height: number, shade: number): Buffer =>
  Buffer.from(encode({ width, height, data: new Uint8Array(width * height * 3).fill(shade), channels: 3, depth: 8 }));

const image = (b64: string | undefined): ReturnType<typeof decode> => {
  assert.ok(b64, 'no b64_json');
  return decode(Buffer.from(b64, 'base64'));
};

describe('image edits', { timeout: 240_000 }, () => {
  let server: RunningServer;
  let openai: OpenAI;
  let url: string;
  const post = (fields: Array<[string, string | Buffer]>, headers: Record<string, string> = {}): Promise<Response> => {
    const form = new FormData();
    for (const [name, v] of fields) {
      if (typeof v === 'string') form.append(name, v);
      else form.append(name, new Blob([v], { type: 'image/png' }), 'image.png');
    }
    return fetch(url + PATH, { method: 'POST', body: form, headers });
  };
  const refused = async (res: Response, status: number): Promise<ErrorBody['error']> => {
    const text = await res.text();
    assert.equal(res.status, status, text);
    return (JSON.parse(text) as ErrorBody).error;
  };

  before(async () => {
    server = await startServer(['--image-generation-latency', '0']);
    url = server.url;
    openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await server?.stop();
  });

  test('openai-node, gpt-image-1: a base64 PNG of the asked size, with usage, in the contract\'s shape', async () => {
    const body = await openai.images.edit({ image: await toFile(pngOf(32, 32, 10), 'in.png', { type: 'image/png' }), prompt: 'Add a red hat', model: 'gpt-image-1', size: '1024x1024', quality: 'low' });
    assert.equal(declaredResponse('POST', PATH, 200, 'application/json').check(body), undefined);
    const png = image(body.data?.[0]?.b64_json);
    assert.deepEqual([png.width, png.height], [1024, 1024]);
    assert.equal(body.usage?.output_tokens, 272);
  });

  test('an open server\'s model answers at the upload\'s size; the picture follows the uploaded bytes and the prompt', async () => {
    const ask = async (shade: number, prompt = 'Make it blue'): Promise<string> => {
      const res = await post([['image', pngOf(48, 40, shade)], ['prompt', prompt], ['model', MODEL]]);
      const body = (await res.json()) as ImagesResponse;
      const png = image(body.data[0]!.b64_json);
      assert.deepEqual([png.width, png.height], [48, 40]);
      return body.data[0]!.b64_json!;
    };
    const a = await ask(10);
    assert.equal(await ask(10), a);
    assert.notEqual(await ask(200), a);
    assert.notEqual(await ask(10, 'Make it green'), a);
  });

  test('openai-node with several images (image[]) and n: 2, and the typed client', async () => {
    const files = [await toFile(pngOf(16, 16, 1), 'a.png', { type: 'image/png' }), await toFile(pngOf(16, 16, 2), 'b.png', { type: 'image/png' })];
    const body = await openai.images.edit({ image: files, prompt: 'Side by side', model: MODEL, n: 2, size: '64x64', response_format: 'b64_json' });
    assert.equal(body.data?.length, 2);
    assert.notEqual(body.data?.[0]?.b64_json, body.data?.[1]?.b64_json);
    const typed = await createMockClient(url).createImageEdit({ image: new Blob([pngOf(8, 8, 3)]), prompt: 'x', model: 'dall-e-2', size: '256x256', response_format: 'url' });
    const file = await fetch(typed.data[0]!.url!);
    assert.deepEqual([decode(new Uint8Array(await file.arrayBuffer())).width, file.status], [256, 200]);
  });

  test('what is no image, a missing image or prompt, a stream and a JSON body are refused in OpenAI\'s shape', async () => {
    assert.equal((await refused(await post([['image', Buffer.from('not an image')], ['prompt', 'x']]), 400)).param, 'image');
    assert.equal((await refused(await post([['prompt', 'x']]), 400)).param, 'image');
    assert.equal((await refused(await post([['image', pngOf(8, 8, 1)]]), 400)).param, 'prompt');
    assert.equal((await refused(await post([['image', pngOf(8, 8, 1)], ['prompt', 'x'], ['model', MODEL], ['stream', 'true']]), 400)).param, 'stream');
    assert.equal((await refused(await post([['image', pngOf(8, 8, 1)], ['prompt', 'x'], ['n', 'two']]), 400)).param, 'n');
    await refused(await fetch(url + PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"x"}' }), 415);
    // Faults as for every inference request.
    await refused(await post([['image', pngOf(8, 8, 1)], ['prompt', 'x']], { 'x-mock-error': '429' }), 429);
  });
});

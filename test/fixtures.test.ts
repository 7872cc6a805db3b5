// AIPerf's test fixtures against a real server with the real Qwen3 tokenizer: NIM image retrieval (/v1/infer),
// SOLIDO RAG (/rag/api/prompt) and the custom multimodal API (/v1/custom-multimodal). Each is sent what AIPerf
// 0.13's endpoint sends (aiperf/endpoints/nim_image_retrieval.py, solido_rag.py, template_endpoint.py), checked
// against this contract and against what AIPerf's parser reads, with token counts, latency, faults and errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, startServer, type RunningServer } from './support/server.js';
import { declaredResponse } from './support/spec.js';
import { count } from './support/qwen.js';
import { createMockClient } from '../src/client.js';
import type { CustomMultimodalResponse, ImageRetrievalResponse, SolidoRagResponse } from '../src/types.js';

const MODEL = 'Qwen/Qwen3-0.6B';

async function ok<T>(path: string, res: Response): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const body = JSON.parse(text) as T;
  assert.equal(declaredResponse('POST', path, 200, res.headers.get('content-type')).check(body), undefined);
  return body;
}

const PNG_URL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';

describe('AIPerf fixtures', { timeout: 240_000 }, () => {
  let server: RunningServer;
  let url: string;
  const configure = (patch: object): Promise<Response> => postJson(`${url}/configure`, patch);

  before(async () => {
    server = await startServer(['--fast']);
    url = server.url;
  });
  after(async () => {
    await server?.stop();
  });

  describe('NIM image retrieval: POST /v1/infer', () => {
    const PATH = '/v1/infer';
    // What AIPerf's ImageRetrievalEndpoint.format_payload sends: one image_url part per image, no model.
    const payload = (urls: string[]): object => ({ input: urls.map((u) => ({ type: 'image_url', url: u })) });

    test("one entry per image, in order, with boxes in range; AIPerf's parser reads a non-empty data", async () => {
      const urls = [PNG_URL, 'https://example.com/page-2.png', 'https://example.com/page-3.png'];
      const body = await ok<ImageRetrievalResponse>(PATH, await postJson(url + PATH, payload(urls)));
      assert.deepEqual(Object.keys(body), ['data', 'usage']);
      assert.deepEqual(body.data.map((d) => d.index), [0, 1, 2]);
      for (const d of body.data) {
        const boxes = Object.entries(d.bounding_boxes);
        assert.ok(boxes.length >= 1);
        let n = 0;
        for (const [category, list] of boxes) {
          assert.ok(['title', 'table', 'figure', 'text', 'header', 'footer'].includes(category), category);
          for (const b of list) {
            n++;
            assert.ok(b.x_min < b.x_max && b.y_min < b.y_max, JSON.stringify(b));
            assert.ok(b.confidence >= 0.7 && b.confidence <= 1);
          }
        }
        assert.ok(n >= 1 && n <= 5, `${n} boxes`);
      }
      const mb = Math.round((urls.reduce((s, u) => s + u.length, 0) / (1024 * 1024 * 1.37)) * 10_000) / 10_000;
      assert.deepEqual(body.usage, { images_size_mb: mb });
    });

    test('the same image URL gets the same boxes; another URL other boxes', async () => {
      const a = await ok<ImageRetrievalResponse>(PATH, await postJson(url + PATH, payload(['https://example.com/a.png', PNG_URL])));
      const b = await ok<ImageRetrievalResponse>(PATH, await postJson(url + PATH, payload([PNG_URL])));
      assert.deepEqual(a.data[1]!.bounding_boxes, b.data[0]!.bounding_boxes);
      assert.notDeepEqual(a.data[0]!.bounding_boxes, a.data[1]!.bounding_boxes);
    });

    test("a body NIM cannot accept is 422 in NIM's error shape; X-Mock-Error is answered in it too", async () => {
      const res = await postJson(url + PATH, { input: [] });
      assert.equal(res.status, 422);
      const e = (await res.json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(e), ['object', 'message', 'detail', 'type']);
      assert.equal(e['object'], 'error');
      const forced = await postJson(url + PATH, payload([PNG_URL]), { 'x-mock-error': '503' });
      assert.equal(forced.status, 503);
      assert.equal(((await forced.json()) as Record<string, unknown>)['object'], 'error');
    });

    test('the answer comes after image_retrieval_base_latency + per image × images, never sooner', async () => {
      await configure({ image_retrieval_base_latency: 100, image_retrieval_per_image_latency: 50 });
      try {
        const start = performance.now();
        await ok(PATH, await postJson(url + PATH, payload([PNG_URL, PNG_URL, PNG_URL])));
        const took = performance.now() - start;
        assert.ok(took >= 250, `answered after ${took} ms, before 100 + 3 × 50`);
      } finally {
        await configure({ image_retrieval_base_latency: 0, image_retrieval_per_image_latency: 0 });
      }
    });
  });

  describe('SOLIDO RAG: POST /rag/api/prompt', () => {
    const PATH = '/rag/api/prompt';
    const QUERY = ['How do I run a Monte Carlo analysis in Solido Design Environment?', 'Which corners does it sweep?'];
    // What AIPerf's SolidoEndpoint.format_payload sends, with --extra-inputs as it merges them.
    const payload = (extra: object = {}): object => ({ query: QUERY, filters: { family: 'Solido', tool: 'SDE' }, inference_model: MODEL, ...extra });

    test("content, sources, filters and inference_model; AIPerf's parser reads content and sources", async () => {
      const body = await ok<SolidoRagResponse>(PATH, await postJson(url + PATH, payload()));
      assert.deepEqual(Object.keys(body), ['content', 'sources', 'filters', 'inference_model']);
      // Without a cap, the content is the echo of the query texts, joined by spaces.
      assert.equal(body.content, QUERY.join(' '));
      assert.deepEqual(body.filters, { family: 'Solido', tool: 'SDE' });
      assert.equal(body.inference_model, MODEL);
      assert.equal(body.sources.length, 2, 'one source per query text, at most 3');
      assert.deepEqual(body.sources.map((s) => [s.title, s.score]), [['Document 1', 0.9], ['Document 2', 0.8]]);
      const again = await ok<SolidoRagResponse>(PATH, await postJson(url + PATH, payload()));
      assert.deepEqual(again.sources, body.sources, 'the sources are deterministic');
      const many = await ok<SolidoRagResponse>(PATH, await postJson(url + PATH, { ...payload(), query: ['a', 'b', 'c', 'd'] }));
      assert.equal(many.sources.length, 3);
    });

    test('max_tokens and ignore_eos (AIPerf --extra-inputs) make the content exactly that many tokens', async () => {
      const short = await ok<SolidoRagResponse>(PATH, await postJson(url + PATH, payload({ max_tokens: 5 })));
      assert.equal(count(short.content), 5);
      const long = await ok<SolidoRagResponse>(PATH, await postJson(url + PATH, payload({ max_tokens: 64, ignore_eos: true })));
      assert.equal(count(long.content), 64);
    });

    test('the latency model: the answer comes after ttft + (tokens - 1) × itl, never sooner', async () => {
      await configure({ ttft: 100, itl: 20 });
      try {
        const start = performance.now();
        await ok(PATH, await postJson(url + PATH, payload({ max_tokens: 6 })));
        const took = performance.now() - start;
        assert.ok(took >= 100 + 5 * 20, `answered after ${took} ms`);
      } finally {
        await configure({ ttft: 0, itl: 0 });
      }
    });

    test('a query that is not a list of texts is 400; X-Mock-Error is answered', async () => {
      const res = await postJson(url + PATH, { query: 'not a list', inference_model: MODEL });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: { param: string } }).error.param, 'query');
      assert.equal((await postJson(url + PATH, payload(), { 'x-mock-error': '429' })).status, 429);
    });
  });

  describe('custom multimodal: POST /v1/custom-multimodal', () => {
    const PATH = '/v1/custom-multimodal';
    const FRAGMENTS = ['Describe this picture in detail.', 'Mention every colour you see.'];
    const payload = (params: object): object => ({
      modality_bundle: { text_fragments: FRAGMENTS, visual_assets: { images: [PNG_URL], videos: [] }, audio_streams: [] },
      inference_params: { model_id: MODEL, ...params },
    });

    test('text and generated_text are the generated text; tokens_used counts it and the fragments', async () => {
      const body = await ok<CustomMultimodalResponse>(PATH, await postJson(url + PATH, payload({ max_tokens: 6 })));
      assert.deepEqual(Object.keys(body), ['text', 'completion']);
      assert.equal(body.completion.generated_text, body.text);
      assert.ok(FRAGMENTS.join(' ').startsWith(body.text), body.text);
      const input = count(FRAGMENTS.join(' '));
      assert.equal(count(body.text), 6);
      assert.deepEqual(body.completion.metadata.tokens_used, { input, output: 6, total: input + 6 });
      const long = await ok<CustomMultimodalResponse>(PATH, await postJson(url + PATH, payload({ max_tokens: 40, ignore_eos: true })));
      assert.equal(count(long.text), 40);
    });

    test("an empty body takes the later mock's defaults: default-model, default text", async () => {
      const body = await ok<CustomMultimodalResponse>(PATH, await postJson(url + PATH, {}));
      assert.equal(body.text, 'default text');
    });
  });

  test('the typed client calls each fixture', async () => {
    const client = createMockClient(url);
    assert.equal((await client.nimImageRetrieval({ input: [{ type: 'image_url', url: PNG_URL }] })).data.length, 1);
    assert.equal((await client.solidoRagPrompt({ query: ['hello world'], inference_model: MODEL })).content, 'hello world');
    assert.equal((await client.customMultimodal({ modality_bundle: { text_fragments: ['hi there'] } })).text, 'hi there');
  });
});

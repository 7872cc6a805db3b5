// POST /configure, GET /health and GET /: run-time settings, applied whole or not at all.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { postJson, startServer, ROOT, type RunningServer } from './support/server.js';
import type { ChatResponse, ErrorBody, HealthBody, RootBody, Schemas } from '../src/types.js';

const LENML = join(ROOT, 'node_modules', '@lenml');
const LLAMA3 = join(LENML, 'tokenizer-llama3', 'models');
let server: RunningServer;
const configure = (body: unknown) => postJson(`${server.url}/configure`, body);
const health = async () => (await (await fetch(`${server.url}/health`)).json()) as HealthBody;

before(async () => {
  // No hub in tests: a name that is not cached fails at once.
  server = await startServer(['-t', '0', '-i', '0', '--tokenizer-dir', LENML], { HF_HUB_OFFLINE: '1' });
});
after(async () => {
  await server.stop();
});

describe('/configure', () => {
  it('changes ttft and itl and answers with the settings in force', async () => {
    const res = await configure({ ttft: 12.5, itl: 3 });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Schemas['ConfigureResponse'];
    assert.equal(body.status, 'ok');
    assert.equal(body.settings.ttft, 12.5);
    assert.equal(body.settings.itl, 3);
    assert.equal((await health()).settings.ttft, 12.5);
    await configure({ ttft: 0, itl: 0 });
  });

  it('applies a patch whole or not at all, naming the field at fault', async () => {
    const cases: Array<[unknown, string]> = [
      [{ ttft: 50, itl: -1 }, 'itl'],
      [{ ttft: 'soon' }, 'ttft'],
      [{ ttft: 50, bogus: 1 }, 'bogus'],
      [{ ttft: 50, tokenizer_models: 'Qwen/Qwen3-0.6B' }, 'tokenizer_models'],
      [{ ttft: 50, tokenizer_models: ['not-cached/model'] }, 'tokenizer_models'],
      [{ ttft: 50, fallback_tokenizer: 'not-cached/other' }, 'fallback_tokenizer'],
    ];
    for (const [patch, param] of cases) {
      const res = await configure(patch);
      assert.equal(res.status, 400, JSON.stringify(patch));
      const err = (await res.json()) as ErrorBody;
      assert.equal(err.error.param, param, JSON.stringify(err));
      assert.equal(err.error.type, 'invalid_request_error');
      assert.equal((await health()).settings.ttft, 0, `${JSON.stringify(patch)} changed ttft`);
    }
    const h = await health();
    assert.deepEqual(h.settings.tokenizer_models, []);
    assert.equal(h.settings.fallback_tokenizer, 'Qwen/Qwen3-0.6B');
    assert.ok('not-cached/model' in h.tokenizers.failed, 'a failed load is reported with its reason');
  });

  it('loads tokenizer_models before answering, and requests for them use their own tokenizer', async () => {
    const prompt = 'Tokenizers disagree about supercalifragilisticexpialidocious words.';
    const ask = async (model: string) =>
      (await (await postJson(`${server.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: prompt }] })).json()) as ChatResponse;
    const before = await ask(LLAMA3);
    const res = await configure({ tokenizer_models: [LLAMA3] });
    assert.equal(res.status, 200);
    assert.ok((await health()).tokenizers.loaded.includes(LLAMA3));
    const afterLoad = await ask(LLAMA3);
    assert.equal(afterLoad.choices[0]!.message.content, prompt);
    assert.notEqual(afterLoad.usage.prompt_tokens, before.usage.prompt_tokens, 'Llama 3 counts the templated prompt differently from Qwen3');
    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as Schemas['ListModelsResponse'];
    assert.deepEqual(models.data.map((m) => m.id).sort(), [LLAMA3, 'Qwen/Qwen3-0.6B'].sort());
  });

  it('switches the fallback tokenizer', async () => {
    const res = await configure({ fallback_tokenizer: LLAMA3 });
    assert.equal(res.status, 200);
    assert.equal((await health()).settings.fallback_tokenizer, LLAMA3);
    await configure({ fallback_tokenizer: 'Qwen/Qwen3-0.6B' });
  });
});

describe('GET /health and GET /', () => {
  it('health shows status, settings and tokenizers', async () => {
    const h = await health();
    assert.equal(h.status, 'healthy');
    assert.equal(typeof h.settings.port, 'number');
    assert.ok(h.tokenizers.loaded.includes('Qwen/Qwen3-0.6B'));
  });

  it('root shows name, version, every endpoint and the settings', async () => {
    const r = (await (await fetch(`${server.url}/`)).json()) as RootBody;
    assert.equal(r.name, 'aiperf-mock-server');
    assert.match(r.version, /^\d+\.\d+\.\d+/);
    const endpoints = r.endpoints.map((e) => `${e.method} ${e.path}`);
    for (const e of ['POST /v1/chat/completions', 'POST /configure', 'GET /health', 'GET /']) assert.ok(endpoints.includes(e), e);
    assert.equal(r.settings.fallback_tokenizer, 'Qwen/Qwen3-0.6B');
  });
});

describe('when the fallback tokenizer cannot be had', () => {
  it('serves preloaded models, answers others 404 model_not_found, and logs the failure once', async () => {
    const LLAMA = join(ROOT, 'node_modules', '@lenml', 'tokenizer-llama3', 'models');
    const broken = await startServer(['-t', '0', '-i', '0', '--fallback-tokenizer', 'missing-org/missing-model', '-m', LLAMA, '--tokenizer-dir', LENML], {
      HF_HUB_OFFLINE: '1',
    });
    try {
      for (let i = 0; i < 5; i++) {
        const res = await postJson(`${broken.url}/v1/chat/completions`, { model: 'some-model', messages: [{ role: 'user', content: 'x' }] });
        assert.equal(res.status, 404);
        const err = (await res.json()) as ErrorBody;
        assert.equal(err.error.code, 'model_not_found');
        assert.equal(err.error.param, 'model');
      }
      const ok = await postJson(`${broken.url}/v1/chat/completions`, { model: LLAMA, messages: [{ role: 'user', content: 'still served' }] });
      assert.equal(((await ok.json()) as ChatResponse).choices[0]!.message.content, 'still served');
      const h = (await (await fetch(`${broken.url}/health`)).json()) as HealthBody;
      assert.match(h.tokenizers.failed['missing-org/missing-model'] ?? '', /HF_HUB_OFFLINE/);
      const failures = broken.logs().split('\n').filter((l) => l.includes('missing-org/missing-model cannot be loaded'));
      assert.equal(failures.length, 1, 'logged once, not retried per request');
    } finally {
      await broken.stop();
    }
  });
});

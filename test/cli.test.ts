// The command line and environment: names, short flags, defaults, priority and refusal of bad values.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { postJson, runCli, startServer, ROOT } from './support/server.js';
import type { HealthBody } from '../src/types.js';
import { SETTINGS, settingSchema } from '../src/settings.js';

const LENML = join(ROOT, 'node_modules', '@lenml');
const LLAMA3 = join(LENML, 'tokenizer-llama3', 'models');

async function healthOf(args: string[], env: Record<string, string> = {}): Promise<HealthBody> {
  const server = await startServer(args, env);
  try {
    return (await (await fetch(`${server.url}/health`)).json()) as HealthBody;
  } finally {
    await server.stop();
  }
}

describe('command line', () => {
  it('--help lists every flag with its short flag, environment variable and default', async () => {
    const { code, stdout } = await runCli(['--help']);
    assert.equal(code, 0);
    const expected: Array<[string, string | null, string, string]> = [
      ['--port', '-p', 'MOCK_SERVER_PORT', '8000'],
      ['--host', '-h', 'MOCK_SERVER_HOST', '"0.0.0.0"'],
      ['--workers', '-w', 'MOCK_SERVER_WORKERS', '1'],
      ['--ttft', '-t', 'MOCK_SERVER_TTFT', '20'],
      ['--itl', '-i', 'MOCK_SERVER_ITL', '5'],
      ['--log-level', '-l', 'MOCK_SERVER_LOG_LEVEL', '"INFO"'],
      ['--access-logs', '-a', 'MOCK_SERVER_ACCESS_LOGS', 'false'],
      ['--tokenizer-models', '-m', 'MOCK_SERVER_TOKENIZER_MODELS', '[]'],
      ['--fallback-tokenizer', null, 'MOCK_SERVER_FALLBACK_TOKENIZER', '"Qwen/Qwen3-0.6B"'],
      ['--tokenizer-revision', null, 'MOCK_SERVER_TOKENIZER_REVISION', '"main"'],
    ];
    for (const [flag, short, env, def] of expected) {
      const line = stdout.split('\n').findIndex((l) => new RegExp(`${short ? `${short}, ` : ''}${flag}\\b`).test(l));
      assert.ok(line >= 0, `${flag} missing from --help`);
      const block = stdout.split('\n').slice(line, line + 3).join('\n');
      assert.ok(block.includes(env), `${flag}: ${env} missing`);
      assert.ok(block.includes(`default ${def}`), `${flag}: default ${def} missing in\n${block}`);
    }
  });

  it('starts with the seed defaults for latency, log level and tokenizers', async () => {
    const h = await healthOf([]);
    assert.equal(h.status, 'healthy');
    assert.equal(h.settings.ttft, 20);
    assert.equal(h.settings.itl, 5);
    assert.equal(h.settings.workers, 1);
    assert.equal(h.settings.log_level, 'INFO');
    assert.equal(h.settings.access_logs, false);
    assert.deepEqual(h.settings.tokenizer_models, []);
    assert.equal(h.settings.fallback_tokenizer, 'Qwen/Qwen3-0.6B');
    assert.deepEqual(h.tokenizers.loaded, ['Qwen/Qwen3-0.6B'], 'the default fallback loads offline from the shipped files');
  });

  it('reads MOCK_SERVER_* variables, and the command line wins over them', async () => {
    const env = {
      MOCK_SERVER_TTFT: '123.5',
      MOCK_SERVER_ITL: '7',
      MOCK_SERVER_LOG_LEVEL: 'debug',
      MOCK_SERVER_ACCESS_LOGS: 'true',
      MOCK_SERVER_WORKERS: '2',
      MOCK_SERVER_TOKENIZER_MODELS: JSON.stringify([LLAMA3]),
      MOCK_SERVER_TOKENIZER_DIR: LENML,
      MOCK_SERVER_FALLBACK_TOKENIZER: 'Qwen/Qwen3-0.6B',
    };
    const fromEnv = await healthOf([], env);
    assert.equal(fromEnv.settings.ttft, 123.5);
    assert.equal(fromEnv.settings.itl, 7);
    assert.equal(fromEnv.settings.log_level, 'DEBUG');
    assert.equal(fromEnv.settings.access_logs, true);
    assert.equal(fromEnv.settings.workers, 2);
    assert.deepEqual(fromEnv.settings.tokenizer_models, [LLAMA3]);
    assert.ok(fromEnv.tokenizers.loaded.includes(LLAMA3));

    const fromFlags = await healthOf(['-t', '45', '-i', '0.25', '-l', 'WARNING', '-w', '1', '-m', LLAMA3], env);
    assert.equal(fromFlags.settings.ttft, 45);
    assert.equal(fromFlags.settings.itl, 0.25);
    assert.equal(fromFlags.settings.log_level, 'WARNING');
    assert.equal(fromFlags.settings.workers, 1);
    assert.equal(fromFlags.settings.access_logs, true, 'not given on the command line: the environment holds');

    const long = await healthOf([
      '--ttft', '1', '--itl', '2', '--log-level', 'ERROR', '--tokenizer-models', LLAMA3,
      '--fallback-tokenizer', 'Qwen/Qwen3-0.6B', '--tokenizer-dir', LENML,
    ]);
    assert.equal(long.settings.ttft, 1);
    assert.equal(long.settings.itl, 2);
    assert.equal(long.settings.log_level, 'ERROR');
    assert.deepEqual(long.settings.tokenizer_models, [LLAMA3]);
  });

  it('refuses bad values with one line naming the setting, the value and what is allowed, exit code 2', async () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--port', '70000'], {}, /--port.*70000.*0 to 65535/],
      [['-p', 'eighty'], {}, /--port.*eighty.*integer/],
      [['--ttft', '-1'], {}, /--ttft.*-1.*number/],
      [['-i', 'fast'], {}, /--itl.*fast.*number/],
      [['--log-level', 'LOUD'], {}, /--log-level.*LOUD.*DEBUG, INFO, WARNING, ERROR, CRITICAL/],
      [[], { MOCK_SERVER_TOKENIZER_MODELS: 'not json' }, /MOCK_SERVER_TOKENIZER_MODELS.*not json.*JSON array/],
      [[], { MOCK_SERVER_TOKENIZER_MODELS: '{"a":1}' }, /MOCK_SERVER_TOKENIZER_MODELS.*JSON array/],
      [[], { MOCK_SERVER_PORT: '-5' }, /MOCK_SERVER_PORT.*-5/],
      [[], { MOCK_SERVER_ACCESS_LOGS: 'maybe' }, /MOCK_SERVER_ACCESS_LOGS.*maybe.*true or false/],
      [['-w', '0'], {}, /--workers.*0/],
    ];
    for (const [args, env, pattern] of cases) {
      const { code, stderr } = await runCli(args, env);
      assert.equal(code, 2, `${args.join(' ')} ${JSON.stringify(env)}: exit ${code}\n${stderr}`);
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line, got:\n${stderr}`);
      assert.match(lines[0]!, pattern);
    }
  });

  it('refuses every malformed command line with one line and exit code 2, never a stack trace', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--port', '8000', '--port', '70000'], /--port.*70000.*0 to 65535/],
      [['--port', '0', '--ttft', '5', '--ttft', 'soon'], /--ttft.*soon/],
      [['--bogus'], /--bogus/],
      [['-x'], /'-x'/],
      [['---port', '8'], /---port/],
      [['--port'], /--port.*missing/],
      [['-p'], /--port.*missing/],
      [['-m'], /--tokenizer-models.*missing/],
      [['--port='], /--port.*""/],
      [['--ttft', '-5'], /--ttft.*-5.*number/],
      [['-t', '-.5'], /--ttft.*-0?\.5/],
      [['--access-logs=maybe'], /--access-logs.*does not take/],
      [['--no-port'], /--no-port/],
      [['--help=yes'], /--help/],
      [['serve'], /'serve'/],
      [['--port', '1', '--', 'extra'], /'extra'/],
      [['--tokenizer-models', '[unclosed'], /--tokenizer-models.*\[unclosed.*JSON array/],
      [['--workers', '2', '--workers', '0'], /--workers.*0/],
      [['--error-types', '[999]'], /--error-types/],
      [['--log-level', 'LOUD', '--log-level', 'quiet'], /--log-level.*QUIET/],
    ];
    for (const [args, pattern] of cases) {
      const { code, stdout, stderr } = await runCli(args);
      const what = `mock-server ${args.join(' ')}`;
      assert.equal(code, 2, `${what}: exit ${code}\n${stderr}`);
      assert.equal(stdout, '', `${what}: nothing on stdout`);
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${what}: one line, got:\n${stderr}`);
      assert.match(lines[0]!, /^mock-server: /, what);
      assert.doesNotMatch(stderr, /\n\s+at |Error:/, `${what}: no stack trace`);
      assert.match(lines[0]!, pattern, what);
    }
  });

  it('takes the last of a flag given twice, adds up repeated -m, and --no-<flag> turns a boolean off', async () => {
    const h = await healthOf(['--ttft', '5', '--itl', '3', '--ttft', '7', '-a', '--no-access-logs', '--tokenizer-dir', LENML, '-m', LLAMA3, '-m', 'Qwen/Qwen3-0.6B', '--fallbackTokenizer', 'Qwen/Qwen3-0.6B']);
    assert.equal(h.settings.ttft, 7);
    assert.equal(h.settings.itl, 3);
    assert.equal(h.settings.access_logs, false);
    assert.deepEqual(h.settings.tokenizer_models, [LLAMA3, 'Qwen/Qwen3-0.6B']);
    const v = await runCli(['--version']);
    assert.equal(v.code, 0);
    assert.match(v.stdout.trim(), /^\d+\.\d+\.\d+/);
  });

  it("takes the later AIPerf mock's command line: --fast, -v, --random-seed, --tokenizer, --models-ready-delay-seconds", async () => {
    const fast = await healthOf(['--ttft', '7', '--fast', '--itl', '3', '-v']);
    const latencies = SETTINGS.filter((x) => settingSchema(x.name)['x-latency'] === true).map((x) => x.name);
    assert.ok(latencies.includes('ttft') && latencies.includes('itl') && latencies.includes('ttft_per_input_token'));
    for (const name of latencies) assert.equal(fast.settings[name], name === 'itl' ? 3 : 0, `--fast zeroes ${name}; the --itl after it wins`);
    assert.equal(fast.settings.log_level, 'DEBUG', '-v is --log-level DEBUG');

    const aliases = await healthOf(['--random-seed', '5', '--tokenizer', 'Qwen/Qwen3-0.6B', '--models-ready-delay-seconds', '0.25']);
    assert.equal(aliases.settings.seed, 5);
    assert.equal(aliases.settings.fallback_tokenizer, 'Qwen/Qwen3-0.6B');
    assert.equal(aliases.settings.startup_delay, 0.25);

    const env = await healthOf([], { MOCK_SERVER_FAST: 'true', MOCK_SERVER_ITL: '4', MOCK_SERVER_RANDOM_SEED: '6', MOCK_SERVER_VERBOSE: '1' });
    assert.equal(env.settings.ttft, 0);
    assert.equal(env.settings.itl, 4, "a setting's own variable beats the shortcut");
    assert.equal(env.settings.seed, 6);
    assert.equal(env.settings.log_level, 'DEBUG');

    const { stdout } = await runCli(['--help']);
    assert.match(stdout, /-f, --fast\n.*\n\s+env MOCK_SERVER_FAST=true/);
    assert.match(stdout, /-v, --verbose/);
    assert.match(stdout, /also --random-seed \(MOCK_SERVER_RANDOM_SEED\)/);
    const bad = await runCli([], { MOCK_SERVER_FAST: 'maybe' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr.trim(), /^mock-server: invalid MOCK_SERVER_FAST value "maybe"/);
  });

  it('marks every latency setting, so --fast reaches each one', () => {
    for (const s of SETTINGS) {
      const sch = settingSchema(s.name);
      const looksLikeLatency = /(^|_)(ttft|itl)(_|$)|latency/.test(s.name) && sch.type === 'number';
      assert.equal(sch['x-latency'] === true, looksLikeLatency, `${s.name}: x-latency in openapi.yaml`);
    }
  });

  it('writes one access line per request with -a, and none without', async () => {
    const quiet = await startServer(['-t', '0', '-i', '0']);
    const loud = await startServer(['-t', '0', '-i', '0', '-a']);
    try {
      for (const s of [quiet, loud]) {
        await (await postJson(`${s.url}/v1/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'hi' }] })).text();
        await (await fetch(`${s.url}/nope`)).text();
      }
      await new Promise((r) => setTimeout(r, 100));
      assert.match(loud.logs(), /POST \/v1\/chat\/completions 200 [\d.]+ms/);
      assert.match(loud.logs(), /GET \/nope 404 [\d.]+ms/);
      assert.doesNotMatch(quiet.logs(), /POST \/v1\/chat\/completions 200/);
    } finally {
      await quiet.stop();
      await loud.stop();
    }
  });

  it('logs at the chosen level', async () => {
    const debug = await startServer(['-l', 'DEBUG', '-m', 'not a model name']);
    const error = await startServer(['-l', 'ERROR']);
    try {
      assert.match(debug.logs(), /INFO\s+tokenizer Qwen\/Qwen3-0.6B loaded/);
      assert.match(debug.logs(), /ERROR\s+tokenizer not a model name cannot be loaded/);
      assert.doesNotMatch(error.logs(), /INFO/);
    } finally {
      await debug.stop();
      await error.stop();
    }
  });

  it('installs two bins for the same program', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    assert.equal(pkg.bin['mock-server'], 'dist/src/cli.js');
    assert.equal(pkg.bin['aiperf-mock-server'], 'dist/src/cli.js');
    assert.match(readFileSync(join(ROOT, 'dist/src/cli.js'), 'utf8'), /^#!\/usr\/bin\/env node/);
  });
});

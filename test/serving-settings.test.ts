// The settings of realistic serving (latency model, load, faults, start-up) through every door: the command
// line, MOCK_SERVER_* variables and /configure, each in openapi.yaml with its default and in the README table.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { postJson, ROOT, runCli, startServer, type RunningServer } from './support/server.js';
import { contract, resolveSchema, type SchemaNode } from '../src/contract.js';
import { SETTINGS } from '../src/settings.js';
import type { ErrorBody, HealthBody, SettingName, Settings } from '../src/types.js';

interface Knob {
  name: SettingName;
  flag: string;
  env: string;
  /** The default the issue and the README promise. */
  default: unknown;
  /** A value other than the default: as typed on the command line, as an environment variable, and parsed. */
  cli: string;
  envText: string;
  value: unknown;
  /** A value outside what is allowed. */
  bad: unknown;
}

const knob = (name: SettingName, def: unknown, cli: string, value: unknown, bad: unknown, envText = cli): Knob => ({
  name,
  flag: `--${name.replaceAll('_', '-')}`,
  env: `MOCK_SERVER_${name.toUpperCase()}`,
  default: def,
  cli,
  envText,
  value,
  bad,
});

const KNOBS: Knob[] = [
  knob('ttft_per_input_token', 0, '0.5', 0.5, -1),
  knob('ttft_stddev', 0, '3', 3, -1),
  knob('itl_stddev', 0, '1.5', 1.5, -0.5),
  knob('jitter_distribution', 'normal', 'lognormal', 'lognormal', 'uniform'),
  knob('max_concurrency', 0, '8', 8, 1.5),
  knob('max_queue', 1000, '16', 16, -1),
  knob('load_factor', 1, '2.5', 2.5, 0.5),
  knob('seed', null, '77', 77, -1),
  knob('error_rate', 0, '25', 25, 150),
  knob('error_types', [429, 500, 503, 400, 401], '429,503', [429, 503], [404], '[429,503]'),
  knob('stream_abort_rate', 0, '10', 10, 200),
  knob('stream_abort_mode', 'error', 'close', 'close', 'reset'),
  knob('startup_delay', 0, '10', 10, -5),
];

/** A default as the README's table writes it: `normal`, `0`, `null`, `[429, 503]`. */
const readmeDefault = (v: unknown): string => (Array.isArray(v) ? `[${v.join(', ')}]` : String(v));

async function settingsOf(server: RunningServer): Promise<Settings> {
  // /health answers 503 while starting, with the settings all the same.
  return ((await (await fetch(`${server.url}/health`)).json()) as HealthBody).settings;
}

describe('realistic-serving settings', () => {
  it('each is in the settings table with its flag and environment variable', () => {
    for (const k of KNOBS) {
      const s = SETTINGS.find((x) => x.name === k.name);
      assert.ok(s, `${k.name} is in the settings table`);
      assert.equal(`--${s.flag}`, k.flag);
      assert.equal(s.env, k.env);
    }
  });

  it('each is in openapi.yaml: in Settings with its default and a description, and in ConfigureRequest', () => {
    const schemas = contract().components.schemas;
    const settings = schemas['Settings'] as SchemaNode & { required?: string[] };
    for (const k of KNOBS) {
      const node = resolveSchema(settings.properties![k.name]!);
      assert.ok(settings.required?.includes(k.name), `${k.name} is required in Settings`);
      assert.deepEqual(node.default, k.default, `${k.name}: default`);
      assert.ok((node.description ?? '').length > 20, `${k.name}: described`);
      assert.ok(schemas['ConfigureRequest']!.properties![k.name], `${k.name} can be changed with /configure`);
    }
  });

  it('each is in the README settings table with its flag, variable and default, and the README has an example of it', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Realistic serving'));
    assert.ok(section.length > 1000, 'the README has a "Realistic serving" section');
    for (const k of KNOBS) {
      const row = readme.split('\n').find((l) => l.startsWith(`| ${k.name} |`));
      assert.ok(row, `README table row for ${k.name}`);
      assert.ok(row.includes(`\`${k.flag}\``), `${k.name}: flag in ${row}`);
      assert.ok(row.includes(`\`${k.env}\``), `${k.name}: variable in ${row}`);
      assert.ok(row.includes(`\`${readmeDefault(k.default)}\``), `${k.name}: default in ${row}`);
      assert.ok(section.includes(k.flag) || section.includes(`"${k.name}"`), `${k.name}: an example in "Realistic serving"`);
    }
    for (const header of ['X-Mock-Error', 'X-Mock-TTFT', 'X-Mock-ITL', 'X-Mock-Abort-After', '/metrics', 'vllm:num_requests_running']) {
      assert.ok(section.includes(header), `"Realistic serving" shows ${header}`);
    }
  });

  describe('with every new setting at its default', () => {
    let server: RunningServer;
    before(async () => {
      server = await startServer();
    });
    after(async () => {
      await server.stop();
    });

    it('starts with the documented defaults', async () => {
      const s = await settingsOf(server);
      for (const k of KNOBS) assert.deepEqual(s[k.name], k.default, k.name);
    });

    it('/configure changes each one alone, and refuses a bad value naming it, changing nothing', async () => {
      for (const k of KNOBS) {
        const before = await settingsOf(server);
        const bad = await postJson(`${server.url}/configure`, { [k.name]: k.bad });
        assert.equal(bad.status, 400, `${k.name}: ${JSON.stringify(k.bad)}`);
        // The field at fault, or the item of it (`error_types[0]`).
        assert.match(((await bad.json()) as ErrorBody).error.param ?? '', new RegExp(`^${k.name}(\\[\\d+\\])?$`));
        assert.deepEqual(await settingsOf(server), before, `${k.name}: nothing changed`);

        const res = await postJson(`${server.url}/configure`, { [k.name]: k.value });
        assert.equal(res.status, 200, k.name);
        const { settings } = (await res.json()) as { settings: Settings };
        assert.deepEqual(settings[k.name], k.value, k.name);
        assert.deepEqual(await settingsOf(server), { ...before, [k.name]: k.value });
        // Back to the default, so the next knob is tried alone.
        assert.equal((await postJson(`${server.url}/configure`, { [k.name]: k.default })).status, 200);
      }
      assert.equal((await postJson(`${server.url}/configure`, { seed: 5 })).status, 200);
      assert.equal((await postJson(`${server.url}/configure`, { seed: null })).status, 200, 'seed null: random again');
      assert.equal((await settingsOf(server)).seed, null);
    });
  });

  it('the command line sets every one of them', async () => {
    const server = await startServer(KNOBS.flatMap((k) => [k.flag, k.cli]));
    try {
      const s = await settingsOf(server);
      for (const k of KNOBS) assert.deepEqual(s[k.name], k.value, k.name);
    } finally {
      await server.stop();
    }
  });

  it('MOCK_SERVER_* variables set every one of them, and the command line wins over them', async () => {
    const env = Object.fromEntries(KNOBS.map((k) => [k.env, k.envText]));
    const server = await startServer(['--error-rate', '75', '--seed', 'null'], env);
    try {
      const s = await settingsOf(server);
      for (const k of KNOBS) {
        if (k.name === 'error_rate') assert.equal(s.error_rate, 75, 'the command line wins');
        else if (k.name === 'seed') assert.equal(s.seed, null, '--seed null: no seed');
        else assert.deepEqual(s[k.name], k.value, k.name);
      }
    } finally {
      await server.stop();
    }
  });

  it('refuses a bad value on the command line or in the environment with one line naming it, exit code 2', async () => {
    for (const [args, env, names] of [
      [['--error-rate', '101'], {}, '--error-rate'],
      [['--jitter-distribution', 'uniform'], {}, '--jitter-distribution'],
      [['--error-types', '404'], {}, '--error-types'],
      [['--max-concurrency', '-1'], {}, '--max-concurrency'],
      [['--load-factor', '0'], {}, '--load-factor'],
      [[], { MOCK_SERVER_ERROR_TYPES: '[429, 429]' }, 'MOCK_SERVER_ERROR_TYPES'],
      [[], { MOCK_SERVER_STREAM_ABORT_MODE: 'reset' }, 'MOCK_SERVER_STREAM_ABORT_MODE'],
      [[], { MOCK_SERVER_SEED: 'lucky' }, 'MOCK_SERVER_SEED'],
    ] as const) {
      const { code, stderr } = await runCli([...args], { ...env });
      assert.equal(code, 2, `${names}: ${stderr}`);
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 1, stderr);
      assert.ok(lines[0]!.includes(names), `${names} named in: ${lines[0]}`);
    }
  });
});

#!/usr/bin/env node
// mock-server / aiperf-mock-server: command line and environment → settings → a running server.
// Priority: command line > MOCK_SERVER_* environment > defaults (openapi.yaml).
import meow from 'meow';
import { allowedValues, defaultSettings, parseListItem, parseSettingText, SETTINGS, SettingError, validateSettings, settingSchema, type SettingSpec } from './settings.js';
import { serve, urlOf } from './index.js';
import { createLogger } from './log.js';
import { isWorker, runPrimary, workerSettings } from './cluster.js';

type FlagType = 'string' | 'boolean';

function flagName(s: SettingSpec): string {
  // meow takes camelCase names and accepts both --fallback-tokenizer and --fallbackTokenizer.
  return s.flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function helpText(): string {
  const defaults = defaultSettings();
  const rows = SETTINGS.map((s) => {
    const flags = `${s.short ? `-${s.short}, ` : '    '}--${s.flag}${s.kind === 'boolean' ? '' : s.kind === 'list' ? (s.name === 'tokenizer_models' ? ' <model>...' : ' <value>...') : ' <value>'}`;
    const desc = settingSchema(s.name).description ?? '';
    return `  ${flags}\n      ${desc}\n      env ${s.env}   default ${JSON.stringify(defaults[s.name])}   allowed: ${allowedValues(s.name)}`;
  });
  return `
  An OpenAI-compatible mock LLM server: echoes prompts token by token with the model's real tokenizer,
  after a configured time to first token and with a configured inter-token latency.

  Usage
    $ mock-server [options]

  Options (command line > environment > default)
${rows.join('\n')}
      --help        Show this help (-h is the host)
      --version     Show the version

  Examples
    $ mock-server -p 8000 -t 30 -i 10 -m Qwen/Qwen3-0.6B
    $ MOCK_SERVER_TOKENIZER_MODELS='["Qwen/Qwen3-0.6B"]' mock-server --log-level DEBUG
`;
}

function main(): void {
  const flags: Record<string, { type: FlagType; shortFlag?: string; isMultiple?: boolean }> = {};
  for (const s of SETTINGS) {
    flags[flagName(s)] = {
      type: s.kind === 'boolean' ? 'boolean' : 'string',
      ...(s.short ? { shortFlag: s.short } : {}),
      ...(s.kind === 'list' ? { isMultiple: true } : {}),
    };
  }
  const cli = meow(helpText(), {
    importMeta: import.meta,
    flags,
    allowUnknownFlags: false,
    booleanDefault: undefined,
    autoHelp: true,
    autoVersion: true,
    description: false,
  });
  const given = cli.flags as Record<string, string | string[] | boolean | undefined>;

  const settings: Record<string, unknown> = defaultSettings();
  const sourceOf = new Map<string, string>();
  try {
    for (const s of SETTINGS) {
      const env = process.env[s.env];
      if (env !== undefined && env !== '') {
        settings[s.name] = parseSettingText(s, env, s.env);
        sourceOf.set(s.name, s.env);
      }
      const flag = given[flagName(s)];
      const label = `--${s.flag}`;
      if (flag === undefined || (Array.isArray(flag) && flag.length === 0)) continue;
      if (typeof flag === 'boolean') settings[s.name] = flag;
      else if (Array.isArray(flag)) {
        // -m a -m b, or -m a,b, or -m '["a","b"]'
        settings[s.name] = flag.flatMap((v) => (v.trim().startsWith('[') ? (parseSettingText(s, v, label) as string[]) : v.split(',')))
          .map((v) => (typeof v === 'string' ? v.trim() : v))
          .filter((v) => v !== '')
          .map((v) => (typeof v === 'string' ? parseListItem(s, v) : v));
      } else settings[s.name] = parseSettingText(s, flag, label);
      sourceOf.set(s.name, label);
    }
    validateSettings(settings, (s) => sourceOf.get(s.name) ?? s.name);
  } catch (err) {
    if (err instanceof SettingError) {
      process.stderr.write(`mock-server: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }

  const valid = validateSettings(settings, (s) => s.name);
  const t0 = performance.now();
  const announce = (url: string, port: number): void => {
    // Always written, whatever the log level: scripts and tests wait for this line to learn the port.
    const workers = valid.workers > 1 ? `, ${valid.workers} workers` : '';
    process.stderr.write(
      `mock-server listening on ${url} (port ${port}${workers}) after ${(performance.now() - t0).toFixed(0)} ms; ttft ${valid.ttft} ms, itl ${valid.itl} ms\n`,
    );
  };
  const failed = (err: unknown): void => {
    process.stderr.write(`mock-server: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  };

  if (valid.workers > 1) {
    const log = createLogger(() => valid.log_level);
    const primary = runPrimary(valid, log);
    primary.ready.then((port) => announce(urlOf(valid.host, port), port), failed);
    onSignals((signal, now) => {
      log.info(`${signal}: stopping ${valid.workers} workers${now ? ' now' : ''}`);
      return primary.stop(now);
    });
    return;
  }

  serve(valid).then((server) => {
    announce(server.url, server.port);
    const log = createLogger(() => server.settings.log_level);
    onSignals((signal, now) => {
      log.info(`${signal}: ${now ? 'closing now' : 'shutting down'}`);
      return now ? server.close() : server.shutdown();
    });
  }, failed);
}

/**
 * SIGTERM or SIGINT: a graceful stop (streams in flight get shutdown_timeout to finish), then exit 0.
 * A second signal means now: streams are cut and the process exits at once.
 */
function onSignals(stop: (signal: string, now: boolean) => Promise<void>): void {
  let signals = 0;
  const handle = (signal: string): void => {
    signals++;
    void stop(signal, signals > 1).then(() => process.exit(0));
  };
  process.on('SIGINT', () => handle('SIGINT'));
  process.on('SIGTERM', () => handle('SIGTERM'));
}

/** A worker of --workers: settings come from the primary, which also decides when to stop. */
function workerMain(): void {
  // Ctrl-C reaches the whole process group; the primary coordinates the shutdown.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  serve(workerSettings(), { worker: true }).catch((err: unknown) => {
    process.stderr.write(`mock-server worker ${process.pid}: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

if (isWorker()) workerMain();
else main();

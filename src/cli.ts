#!/usr/bin/env node
// mock-server / aiperf-mock-server: command line and environment → settings → a running server.
// The command line is read by node:util's parseArgs: strict (unknown flags and stray words are refused with
// one line), every flag repeatable with the last one winning, and --no-<flag> for each boolean.
// Priority: command line > MOCK_SERVER_* environment > defaults (openapi.yaml).
// First: the modules imported after it may load from the compiled-code cache (Node 22.1+).
import './compileCache.js';
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { aliasEnv, ALIASES, allowedValues, defaultSettings, parseListItem, parseSettingText, SETTINGS, SHORTCUTS, SettingError, validateSettings, settingSchema, type SettingSpec } from './settings.js';
import { serve, urlOf } from './index.js';
import { createLogger } from './log.js';
import { isWorker, runPrimary, workerSettings } from './cluster.js';

function helpText(): string {
  const defaults = defaultSettings();
  const rows = SETTINGS.map((s) => {
    const flags = `${s.short ? `-${s.short}, ` : '    '}--${s.flag}${s.kind === 'boolean' ? '' : s.kind === 'list' ? (s.name === 'tokenizer_models' ? ' <model>...' : s.name === 'lora_modules' ? ' <name=path>...' : ' <value>...') : ' <value>'}`;
    const desc = settingSchema(s.name).description ?? '';
    const aliases = Object.keys(ALIASES).filter((a) => ALIASES[a] === s.name);
    const also = aliases.length ? `\n      also ${aliases.map((a) => `--${a} (${aliasEnv(a)})`).join(', ')}` : '';
    return `  ${flags}\n      ${desc}\n      env ${s.env}   default ${JSON.stringify(defaults[s.name])}   allowed: ${allowedValues(s.name)}${also}`;
  });
  const shortcuts = SHORTCUTS.map((x) => `  -${x.short}, --${x.flag}\n      ${x.description}\n      env ${x.env}=true`);
  return `
  An OpenAI-compatible mock LLM server: echoes prompts token by token with the model's real tokenizer,
  after a configured time to first token and with a configured inter-token latency.

  Usage
    $ mock-server [options]

  Options (command line > environment > default)
${rows.join('\n')}

  Shortcuts (settings given after them win)
${shortcuts.join('\n')}

      --help        Show this help (-h is the host)
      --version     Show the version

  Examples
    $ mock-server -p 8000 -t 30 -i 10 -m Qwen/Qwen3-0.6B
    $ MOCK_SERVER_TOKENIZER_MODELS='["Qwen/Qwen3-0.6B"]' mock-server --log-level DEBUG
`;
}

/** The flags of the command line: one per setting, `--no-<flag>` for each boolean, --help and --version. */
function flagOptions(): ParseArgsConfig['options'] {
  const options: NonNullable<ParseArgsConfig['options']> = {
    help: { type: 'boolean', multiple: true },
    version: { type: 'boolean', multiple: true },
  };
  for (const s of SETTINGS) {
    // Every flag may be given again: scripts append overrides, and the last one wins (as with argparse).
    options[s.flag] = { type: s.kind === 'boolean' ? 'boolean' : 'string', multiple: true, ...(s.short ? { short: s.short } : {}) };
    if (s.kind === 'boolean') options[`no-${s.flag}`] = { type: 'boolean', multiple: true };
  }
  for (const [alias, name] of Object.entries(ALIASES)) options[alias] = { type: settingOf(name).kind === 'boolean' ? 'boolean' : 'string', multiple: true };
  for (const x of SHORTCUTS) options[x.flag] = { type: 'boolean', multiple: true, short: x.short };
  return options;
}

/** Flags that take several values, as argparse's nargs='+' does in vLLM. */
const SEVERAL_VALUES = new Set(['--lora-modules']);

/**
 * The arguments as parseArgs reads them: --fallbackTokenizer as --fallback-tokenizer (both spellings have
 * always been accepted), and a negative number after a flag that takes a value as that flag's value, so that
 * `--ttft -1` is refused for its value, not taken for a flag.
 */
function normalizeArgs(argv: readonly string[]): string[] {
  const takesValue = new Map<string, string>();
  for (const s of SETTINGS) {
    if (s.kind === 'boolean') continue;
    takesValue.set(`--${s.flag}`, s.flag);
    if (s.short) takesValue.set(`-${s.short}`, s.flag);
  }
  for (const [alias, name] of Object.entries(ALIASES)) if (settingOf(name).kind !== 'boolean') takesValue.set(`--${alias}`, alias);
  const out: string[] = [];
  // vLLM's --lora-modules takes several values after one flag (`--lora-modules a=/p b=/q`): each becomes its own.
  let several: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (several !== undefined && !argv[i]!.startsWith('-')) {
      out.push(`--${several}=${argv[i]!}`);
      continue;
    }
    several = undefined;
    const m = /^--([A-Za-z][\w-]*)(=.*)?$/s.exec(argv[i]!);
    const arg = m ? `--${m[1]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}${m[2] ?? ''}` : argv[i]!;
    if (SEVERAL_VALUES.has(arg.replace(/=.*$/s, ''))) {
      several = arg.replace(/^--|=.*$/gs, '');
      // The flag's first value is the next argument, which parseArgs takes itself.
      if (!arg.includes('=') && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) {
        out.push(arg, argv[++i]!);
        continue;
      }
    }
    const flag = takesValue.get(arg);
    const next = argv[i + 1];
    if (flag !== undefined && next !== undefined && /^-(?:\d|\.\d)/.test(next)) {
      out.push(`--${flag}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

type ArgToken = { kind: 'option'; name: string; value: string | undefined } | { kind: 'positional' | 'option-terminator' };

/** The settings named on the command line, in the order given; the last value of a flag wins, lists add up. */
function flagSettings(argv: string[], settings: Record<string, unknown>, sourceOf: Map<string, string>): 'help' | 'version' | undefined {
  const { tokens } = parseArgs({ args: normalizeArgs(argv), options: flagOptions(), strict: true, allowPositionals: false, tokens: true }) as { tokens: ArgToken[] };
  let asked: 'help' | 'version' | undefined;
  const lists = new Map<SettingSpec, unknown[]>();
  for (const t of tokens ?? []) {
    if (t.kind !== 'option') continue;
    if (t.name === 'help' || t.name === 'version') {
      asked ??= t.name;
      continue;
    }
    const shortcut = SHORTCUTS.find((x) => x.flag === t.name);
    if (shortcut) {
      for (const [name, value] of Object.entries(shortcut.settings())) {
        settings[name] = value;
        sourceOf.set(name, `--${shortcut.flag}`);
      }
      continue;
    }
    const negated = t.name.startsWith('no-') ? SETTINGS.find((x) => x.kind === 'boolean' && `no-${x.flag}` === t.name) : undefined;
    const alias = ALIASES[t.name];
    const s = negated ?? (alias ? settingOf(alias) : SETTINGS.find((x) => x.flag === t.name));
    if (!s) continue;
    const label = `--${alias ? t.name : s.flag}`;
    sourceOf.set(s.name, label);
    if (s.kind === 'boolean') {
      settings[s.name] = negated === undefined;
    } else if (s.kind === 'list') {
      // -m a -m b, or -m a,b, or -m '["a","b"]'
      const v = t.value ?? '';
      const items = v.trim().startsWith('[')
        ? (parseSettingText(s, v, label) as unknown[])
        : v.trim().startsWith('{')
          ? [parseListItem(s, v)]
          : v.split(',').map((x: string) => x.trim()).filter((x: string) => x !== '').map((x: string) => parseListItem(s, x));
      const list = lists.get(s) ?? [];
      list.push(...items);
      lists.set(s, list);
      settings[s.name] = list;
    } else {
      settings[s.name] = parseSettingText(s, t.value ?? '', label);
    }
  }
  return asked;
}

function settingOf(name: string): SettingSpec {
  const s = SETTINGS.find((x) => x.name === name);
  if (!s) throw new Error(`no setting ${name}`);
  return s;
}

/** The environment's settings: shortcuts first, then the later mock's names, then each setting's own variable. */
function envSettings(settings: Record<string, unknown>, sourceOf: Map<string, string>): void {
  for (const x of SHORTCUTS) {
    const v = process.env[x.env];
    if (v === undefined || v === '') continue;
    if (!/^(1|true|yes|on|0|false|no|off)$/i.test(v.trim())) usageError(`invalid ${x.env} value ${JSON.stringify(v)}: must be true or false`);
    if (!/^(1|true|yes|on)$/i.test(v.trim())) continue;
    for (const [name, value] of Object.entries(x.settings())) {
      settings[name] = value;
      sourceOf.set(name, x.env);
    }
  }
  const given = (env: string, s: SettingSpec): void => {
    const v = process.env[env];
    if (v === undefined || v === '') return;
    settings[s.name] = parseSettingText(s, v, env);
    sourceOf.set(s.name, env);
  };
  for (const [alias, name] of Object.entries(ALIASES)) given(aliasEnv(alias), settingOf(name));
  for (const s of SETTINGS) given(s.env, s);
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** A mistake on the command line: one line naming it, exit 2, never a stack trace. */
function usageError(message: string): never {
  process.stderr.write(`mock-server: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(2);
}

function main(): void {
  const settings: Record<string, unknown> = defaultSettings();
  const sourceOf = new Map<string, string>();
  try {
    envSettings(settings, sourceOf);
    const asked = flagSettings(process.argv.slice(2), settings, sourceOf);
    if (asked === 'help') {
      process.stdout.write(helpText());
      process.exit(0);
    }
    if (asked === 'version') {
      process.stdout.write(`${version()}\n`);
      process.exit(0);
    }
    validateSettings(settings, (s) => sourceOf.get(s.name) ?? s.name);
  } catch (err) {
    if (err instanceof SettingError) usageError(err.message);
    // node:util parseArgs: unknown flags, missing values, stray arguments; its messages are one line.
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) usageError(`${(err as Error).message} (mock-server --help lists every flag)`);
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

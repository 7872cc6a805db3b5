// The one table of settings. Names, types, ranges and defaults live in openapi.yaml (schema Settings);
// this table adds where each setting comes from: its flag, short flag and environment variable.
import { componentValidator, contract, describeAjvError, resolveSchema, type SchemaNode } from './contract.js';
import type { ConfigureRequest, SettingName, Settings } from './types.js';

type Kind = 'integer' | 'number' | 'boolean' | 'string' | 'list';

export interface SettingSpec {
  readonly name: SettingName;
  /** Long flag without dashes, as typed on the command line. */
  readonly flag: string;
  readonly short?: string;
  readonly env: string;
  readonly kind: Kind;
  /** Never shown by /health, / or /configure, nor logged. */
  readonly secret?: boolean;
}

function spec(name: SettingName, kind: Kind, short?: string, secret = false): SettingSpec {
  return { name, kind, short, secret, flag: name.replaceAll('_', '-'), env: `MOCK_SERVER_${name.toUpperCase()}` };
}

export const SETTINGS: readonly SettingSpec[] = [
  spec('port', 'integer', 'p'),
  spec('host', 'string', 'h'),
  spec('workers', 'integer', 'w'),
  spec('ttft', 'number', 't'),
  spec('itl', 'number', 'i'),
  spec('log_level', 'string', 'l'),
  spec('access_logs', 'boolean', 'a'),
  spec('tokenizer_models', 'list', 'm'),
  spec('fallback_tokenizer', 'string'),
  spec('reasoning_tokens', 'integer'),
  spec('reasoning_tokens_low', 'integer'),
  spec('reasoning_tokens_medium', 'integer'),
  spec('reasoning_tokens_high', 'integer'),
  spec('reasoning_field', 'string'),
  spec('ttft_per_input_token', 'number'),
  spec('ttft_stddev', 'number'),
  spec('itl_stddev', 'number'),
  spec('jitter_distribution', 'string'),
  spec('max_concurrency', 'integer'),
  spec('max_queue', 'integer'),
  spec('load_factor', 'number'),
  spec('seed', 'integer'),
  spec('error_rate', 'number'),
  spec('error_types', 'list'),
  spec('stream_abort_rate', 'number'),
  spec('stream_abort_mode', 'string'),
  spec('startup_delay', 'number'),
  spec('max_body_bytes', 'integer'),
  spec('tokenizer_dir', 'string'),
  spec('tokenizer_revision', 'string'),
  spec('api_key', 'string', undefined, true),
  spec('admin_key', 'string', undefined, true),
  spec('configure', 'boolean'),
  spec('shutdown_timeout', 'number'),
  spec('disable_models_endpoint', 'boolean'),
  spec('max_model_len', 'integer'),
  spec('auth_header_name', 'string'),
  spec('record_requests', 'string'),
  spec('reasoning_by_model', 'boolean'),
  spec('no_tokenizer', 'boolean'),
  spec('tool_call', 'string'),
  // Rankings (NIM, TEI, Cohere): the later AIPerf mock's names.
  spec('ranking_base_latency', 'number'),
  spec('ranking_per_passage_latency', 'number'),
  // Embeddings: the vector length, and the later AIPerf mock's latency names.
  spec('embedding_dimensions', 'integer'),
  spec('embedding_base_latency', 'number'),
  spec('embedding_per_input_latency', 'number'),
  // Telemetry: the engines' KV cache, and the DCGM stand-in (the later AIPerf mock's --dcgm-* names).
  spec('kv_cache_tokens', 'integer'),
  spec('dcgm_num_endpoints', 'integer'),
  spec('dcgm_num_gpus', 'integer'),
  spec('dcgm_gpu_name', 'string'),
  spec('dcgm_window_sec', 'number'),
  spec('dcgm_min_throughput', 'number'),
  spec('dcgm_hostname', 'string'),
  spec('dcgm_seed', 'integer'),
  spec('dcgm_auto_load', 'boolean'),
  // Images: the time of one generated image; NIM image retrieval: the later AIPerf mock's latency names.
  spec('image_generation_latency', 'number'),
  spec('image_retrieval_base_latency', 'number'),
  spec('image_retrieval_per_image_latency', 'number'),
  // LoRA adapters: vLLM's --lora-modules and --max-loras.
  spec('lora_modules', 'list'),
  spec('max_loras', 'integer'),
  // The engine model: a KV cache of kv_cache_tokens in blocks (vLLM's --block-size), and its preemption.
  spec('enable_kv_cache', 'boolean'),
  spec('block_size', 'integer'),
  spec('enable_preemption', 'boolean'),
  spec('enable_prefix_caching', 'boolean'),
  spec('enable_continuous_batching', 'boolean'),
  spec('itl_per_running', 'number'),
];

/**
 * The later AIPerf mock's names for settings that exist here under another name: accepted on the command line
 * (`--random-seed`) and in the environment (`MOCK_SERVER_RANDOM_SEED`), so its command lines work unchanged.
 * The setting keeps its one name everywhere else (/configure, /health, the docs).
 */
export const ALIASES: Readonly<Record<string, SettingName>> = {
  'random-seed': 'seed',
  tokenizer: 'fallback_tokenizer',
  'models-ready-delay-seconds': 'startup_delay',
};

export const aliasEnv = (flag: string): string => `MOCK_SERVER_${flag.replaceAll('-', '_').toUpperCase()}`;

/** Flags that stand for several settings at once; the settings given after them on the command line win. */
export interface Shortcut {
  readonly flag: string;
  readonly short: string;
  readonly env: string;
  readonly description: string;
  settings(): Partial<Settings>;
}

export const SHORTCUTS: readonly Shortcut[] = [
  {
    flag: 'fast',
    short: 'f',
    env: 'MOCK_SERVER_FAST',
    description: 'Every latency zero: each setting marked x-latency in openapi.yaml (ttft, itl, their jitter, ...).',
    settings: () => Object.fromEntries(SETTINGS.filter((s) => settingSchema(s.name)['x-latency'] === true).map((s) => [s.name, 0])),
  },
  {
    flag: 'verbose',
    short: 'v',
    env: 'MOCK_SERVER_VERBOSE',
    description: 'Log at DEBUG: the same as --log-level DEBUG.',
    settings: () => ({ log_level: 'DEBUG' }),
  },
];

/** The settings as answers show them: secrets replaced by a marker, so they never leave the process. */
export function publicSettings(s: Readonly<Settings>): Settings {
  const out: Record<string, unknown> = { ...s };
  for (const x of SETTINGS) if (x.secret && out[x.name] !== null) out[x.name] = '<redacted>';
  return out as Settings;
}

export function settingSchema(name: SettingName): SchemaNode {
  const node = contract().components.schemas['Settings']?.properties?.[name];
  if (!node) throw new Error(`openapi.yaml: Settings has no property ${name}`);
  return resolveSchema(node);
}

export function defaultSettings(): Settings {
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) out[s.name] = structuredClone(settingSchema(s.name).default);
  return out as Settings;
}

/** What values a setting allows, in words, from its schema. */
export function allowedValues(name: SettingName): string {
  const sch = settingSchema(name);
  if (sch.enum) return `one of ${sch.enum.join(', ')}`;
  const type = Array.isArray(sch.type) ? sch.type[0] : sch.type;
  if (name === 'lora_modules') return 'name=path items, or a JSON array of {"name": ..., "path": ...} objects, each name once';
  if (type === 'array') {
    const items = sch.items ? resolveSchema(sch.items) : {};
    return items.enum ? `a JSON array of ${items.enum.join(', ')}` : 'a JSON array of model names, e.g. ["Qwen/Qwen3-0.6B"]';
  }
  if (type === 'boolean') return 'true or false';
  const range =
    sch.minimum !== undefined && sch.maximum !== undefined
      ? ` from ${sch.minimum} to ${sch.maximum}`
      : sch.minimum !== undefined
        ? ` >= ${sch.minimum}`
        : '';
  const nullable = Array.isArray(sch.type) && sch.type.includes('null') ? ', or null' : '';
  if (type === 'integer') return `an integer${range}${nullable}`;
  if (type === 'number') return `a number${range}`;
  return 'a non-empty string';
}

export class SettingError extends Error {
  constructor(
    readonly setting: SettingName,
    readonly value: unknown,
    readonly source: string,
  ) {
    super(`invalid ${source} value ${JSON.stringify(value)}: must be ${allowedValues(setting)}`);
  }
}

/** Turns the text of a flag or environment variable into the setting's type; throws SettingError. */
export function parseSettingText(s: SettingSpec, text: string, source: string): unknown {
  const t = text.trim();
  const fail = (): never => {
    throw new SettingError(s.name, text, source);
  };
  switch (s.kind) {
    case 'integer':
      if (/^(null|none)$/i.test(t) && settingSchema(s.name).default === null) return null;
      return /^[+-]?\d+$/.test(t) ? Number(t) : fail();
    case 'number':
      return t !== '' && Number.isFinite(Number(t)) ? Number(t) : fail();
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(t)) return true;
      if (/^(0|false|no|off)$/i.test(t)) return false;
      return fail();
    case 'list': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(t);
      } catch {
        return fail();
      }
      if (!Array.isArray(parsed)) return fail();
      return s.name === 'lora_modules' ? parsed.map(loraModuleItem) : parsed;
    }
    case 'string':
      // Log levels are written in any case by people and in upper case by the contract.
      return s.name === 'log_level' ? t.toUpperCase() : t;
  }
}

/** One item of a list written on the command line (`-m a,b`), typed as the list's items are. */
export function parseListItem(s: SettingSpec, text: string): unknown {
  if (s.name === 'lora_modules') return loraModuleItem(text);
  const items = settingSchema(s.name).items;
  const type = items ? resolveSchema(items).type : 'string';
  return type === 'integer' || type === 'number' ? Number(text) : text;
}

/**
 * One adapter of lora_modules as vLLM's --lora-modules takes it: `name=path`, or the JSON object (as text or
 * already parsed). Anything else is left as it is, for the contract's check to refuse.
 */
export function loraModuleItem(item: unknown): unknown {
  if (typeof item !== 'string') return item;
  const t = item.trim();
  if (t.startsWith('{')) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return item;
    }
  }
  const eq = t.indexOf('=');
  return eq > 0 ? { name: t.slice(0, eq), path: t.slice(eq + 1) } : item;
}

/** Checks a whole settings object against the contract; the first problem becomes a SettingError. */
export function validateSettings(candidate: Record<string, unknown>, sourceOf: (s: SettingSpec) => string): Settings {
  const validate = componentValidator('Settings');
  if (validate(candidate)) {
    // vLLM refuses to start with two adapters of one name; the contract cannot say "unique by name".
    const names = (candidate as Settings).lora_modules.map((m) => m.name);
    if (new Set(names).size !== names.length) throw new SettingError('lora_modules', candidate['lora_modules'], sourceOf(SETTINGS.find((x) => x.name === 'lora_modules')!));
    return candidate as Settings;
  }
  const err = validate.errors?.[0];
  const name = (err?.instancePath.split('/')[1] ?? '') as SettingName;
  const s = SETTINGS.find((x) => x.name === name);
  if (!s) throw new Error(`invalid settings: ${err ? describeAjvError(err) : 'unknown error'}`);
  throw new SettingError(s.name, candidate[s.name], sourceOf(s));
}

/**
 * The settings store: the one piece of shared state. Each request takes `current` when it starts,
 * so a change never reaches a stream in flight; `apply` swaps in a new, whole, validated object.
 */
export class SettingsStore {
  #current: Readonly<Settings>;
  readonly #listeners: Array<(next: Readonly<Settings>, prev: Readonly<Settings>) => void> = [];

  constructor(initial: Settings) {
    this.#current = Object.freeze({ ...initial });
  }

  get current(): Readonly<Settings> {
    return this.#current;
  }

  /** Returns the merged settings without applying them (the caller may still refuse them). */
  merge(patch: ConfigureRequest): Settings {
    return validateSettings({ ...this.#current, ...patch }, (s) => s.name);
  }

  apply(next: Settings): Readonly<Settings> {
    const prev = this.#current;
    this.#current = Object.freeze({ ...next });
    for (const l of this.#listeners) l(this.#current, prev);
    return this.#current;
  }

  onChange(listener: (next: Readonly<Settings>, prev: Readonly<Settings>) => void): void {
    this.#listeners.push(listener);
  }
}

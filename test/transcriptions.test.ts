// Audio transcription (POST /v1/audio/transcriptions, a multipart upload) against a real server with the real Qwen3
// tokenizer: openai-node's client.audio.transcriptions.create, whole and streamed; the transcript's length from a
// WAV header or the file's size, the same text for the same bytes, usage from the real tokenizer, every
// response_format, OpenAI's rules per model, multipart errors, faults and the latency model.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import OpenAI, { toFile } from 'openai';
import { postJson, readSse, startServer, type RunningServer } from './support/server.js';
import { declaredResponse } from './support/spec.js';
import { count } from './support/qwen.js';
import { MISSING, OPENAI_SPEC, refused } from './support/openai.js';
import { createMockClient } from '../src/client.js';
import type { TranscriptionJson, TranscriptionVerboseJson, TranscriptTextDeltaEvent, TranscriptTextDoneEvent } from '../src/types.js';

const PATH = '/v1/audio/transcriptions';
const MODEL = 'Qwen/Qwen3-0.6B';


/** A PCM WAV of `seconds` (16 kHz, 16-bit, mono) whose samples follow `tone`, so different tones are different files. */
function wav(seconds: number, tone = 440): Buffer {
  const rate = 16_000;
  const samples = Math.round(seconds * rate);
  const b = Buffer.alloc(44 + samples * 2);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(36 + samples * 2, 4);
  b.write('WAVEfmt ', 8, 'latin1');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28); // byte rate
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'latin1');
  b.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * tone * i) / rate)), 44 + i * 2);
  return b;
}

const words = (text: string): number => text.trim().split(/\s+/).length;

function form(fields: Record<string, string | Buffer | string[]>): FormData {
  const f = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (Buffer.isBuffer(value)) f.append(name, new Blob([value], { type: 'audio/wav' }), 'audio.wav');
    else for (const v of Array.isArray(value) ? value : [value]) f.append(name, v);
  }
  return f;
}


/** OpenAI's own schema `name`, with its 3.0-style `nullable` left as it is (these schemas do not use it). */
function openAi(name: string): (v: unknown) => string | undefined {
  const doc = parse(readFileSync(OPENAI_SPEC, 'utf8')) as { components: { schemas: Record<string, unknown> } };
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  ajv.addFormat('unixtime', true);
  ajv.addSchema({ components: { schemas: doc.components.schemas } }, 'openai');
  const validate = ajv.compile({ $ref: `openai#/components/schemas/${name}` });
  return (v) => (validate(v) ? undefined : ajv.errorsText(validate.errors));
}

describe('audio transcription', { timeout: 240_000 }, () => {
  let server: RunningServer;
  let url: string;
  let openai: OpenAI;
  const post = (fields: Record<string, string | Buffer | string[]>, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(url + PATH, { method: 'POST', body: form(fields), headers });

  before(async () => {
    server = await startServer(['--ttft', '0', '--itl', '0']);
    url = server.url;
    openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await server?.stop();
  });

  test("openai-node: a 2 s WAV is 5 words, with token usage from the real tokenizer, in OpenAI's shape", async () => {
    const t = await openai.audio.transcriptions.create({ file: await toFile(wav(2), 'audio.wav', { type: 'audio/wav' }), model: MODEL });
    assert.equal(words(t.text), 5, t.text);
    assert.match(t.text, /^[A-Z].*\.$/);
    const out = count(t.text);
    assert.deepEqual(t.usage, { type: 'tokens', input_tokens: 20, input_token_details: { text_tokens: 0, audio_tokens: 20 }, output_tokens: out, total_tokens: 20 + out });
    assert.equal(declaredResponse('POST', PATH, 200, 'application/json').check(t), undefined);
  });

  test("the JSON answer matches OpenAI's own CreateTranscriptionResponseJson", { skip: MISSING }, async () => {
    const res = await post({ file: wav(1), model: 'gpt-4o-transcribe', prompt: 'A harbour town.' });
    const body = (await res.json()) as TranscriptionJson;
    assert.equal(openAi('CreateTranscriptionResponseJson')(body), undefined);
    assert.equal(body.usage?.type === 'tokens' && body.usage.input_token_details?.text_tokens, count('A harbour town.'));
  });

  test('the same bytes give the same text; other bytes another text; the length follows the duration', async () => {
    const a = (await (await post({ file: wav(4), model: MODEL })).json()) as TranscriptionJson;
    const again = (await (await post({ file: wav(4), model: MODEL })).json()) as TranscriptionJson;
    const other = (await (await post({ file: wav(4, 330), model: MODEL })).json()) as TranscriptionJson;
    assert.equal(a.text, again.text);
    assert.notEqual(a.text, other.text);
    assert.equal(words(a.text), 10);
    assert.equal(words(other.text), 10);
    // Not a WAV: 48,000 bytes at 16,000 bytes a second is 3 s, 7.5 words, rounded to 8.
    const mp3 = (await (await post({ file: Buffer.concat([Buffer.from('ID3'), Buffer.alloc(48_000 - 3, 7)]), model: MODEL })).json()) as TranscriptionJson;
    assert.equal(words(mp3.text), 8);
  });

  test('whisper-1, verbose_json: the duration, sentences as segments, every word timed, usage in seconds', async () => {
    const res = await post({ file: wav(6), model: 'whisper-1', response_format: 'verbose_json', timestamp_granularities: ['word', 'segment'], language: 'en' });
    const body = (await res.json()) as TranscriptionVerboseJson;
    assert.equal(declaredResponse('POST', PATH, 200, res.headers.get('content-type')).check(body), undefined);
    if (!MISSING) assert.equal(openAi('CreateTranscriptionResponseVerboseJson')(body), undefined);
    assert.deepEqual([body.task, body.language, body.duration, body.usage], ['transcribe', 'english', 6, { type: 'duration', seconds: 6 }]);
    assert.equal(words(body.text), 15);
    assert.equal(body.words?.length, 15);
    assert.equal(body.words?.at(-1)?.end, 6);
    assert.equal(body.segments.map((s) => s.text).join(''), ` ${body.text.replaceAll(/\. /g, '. ')}`.replace(/\. (?=\S)/g, '. '));
    assert.equal(body.segments.at(-1)?.end, 6);
    for (const s of body.segments) assert.equal(s.tokens.length, count(s.text));
  });

  test('text, srt and vtt come as text/plain', async () => {
    const text = await post({ file: wav(2), model: 'whisper-1', response_format: 'text' });
    assert.match(text.headers.get('content-type') ?? '', /^text\/plain/);
    const plain = await text.text();
    assert.equal(words(plain), 5);
    const srt = await (await post({ file: wav(2), model: 'whisper-1', response_format: 'srt' })).text();
    assert.match(srt, /^1\n00:00:00,000 --> 00:00:02,000\n[A-Z].*\.\n\n$/);
    assert.equal(srt.split('\n')[2], plain.trim());
    const vtt = await (await post({ file: wav(2), model: 'whisper-1', response_format: 'vtt' })).text();
    assert.match(vtt, /^WEBVTT\n\n00:00:00\.000 --> 00:00:02\.000\n/);
  });

  test('openai-node, streamed: one delta per token, then the done event with the whole text and the usage', async () => {
    const stream = await openai.audio.transcriptions.create({ file: await toFile(wav(3), 'audio.wav'), model: MODEL, stream: true });
    const deltas: string[] = [];
    let done: TranscriptTextDoneEvent | undefined;
    for await (const e of stream) {
      if (e.type === 'transcript.text.delta') deltas.push(e.delta);
      else if (e.type === 'transcript.text.done') done = e as TranscriptTextDoneEvent;
    }
    assert.ok(done, 'no transcript.text.done');
    assert.equal(deltas.join(''), done.text);
    assert.equal(deltas.length, count(done.text));
    assert.equal(done.usage.output_tokens, deltas.length);
    assert.equal(done.usage.input_token_details?.audio_tokens, 30);
  });

  test('the stream follows the latency model: first delta at ttft, then one per itl; no [DONE]', async () => {
    const res = await post({ file: wav(2), model: MODEL, stream: 'true' }, { 'x-mock-ttft': '150', 'x-mock-itl': '40' });
    const start = performance.now();
    assert.equal(res.status, 200);
    const events = await readSse(res);
    const declared = declaredResponse('POST', PATH, 200, res.headers.get('content-type'));
    for (const e of events) assert.equal(declared.check(JSON.parse(e.data)), undefined);
    assert.ok(events.every((e) => e.data !== '[DONE]'));
    const deltas = events.map((e) => JSON.parse(e.data) as TranscriptTextDeltaEvent).filter((e) => e.type === 'transcript.text.delta');
    assert.ok(deltas.length >= 5);
    // The last token is due ttft + (n - 1) × itl after arrival, never sooner.
    assert.ok(events.at(-1)!.at - start >= 150 + (deltas.length - 1) * 40 - 150, 'the stream ended before its schedule');
  });

  test('a whole answer comes when its last token is due: never before ttft + (n - 1) × itl', async () => {
    const t0 = performance.now();
    const res = await post({ file: wav(2), model: MODEL }, { 'x-mock-ttft': '100', 'x-mock-itl': '30' });
    const body = (await res.json()) as TranscriptionJson;
    const n = count(body.text);
    assert.ok(performance.now() - t0 >= 100 + (n - 1) * 30, `answered after ${(performance.now() - t0).toFixed(0)} ms`);
  });

  test('whisper-1 ignores stream, as OpenAI does; gpt-4o-transcribe answers json and text only', async () => {
    const res = await post({ file: wav(1), model: 'whisper-1', stream: 'true' });
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(((await res.json()) as TranscriptionJson).usage, { type: 'duration', seconds: 1 });
    const e = await refused(await post({ file: wav(1), model: 'gpt-4o-transcribe', response_format: 'srt' }), 400);
    assert.equal(e.param, 'response_format');
  });

  test('bad uploads are 400s in OpenAI\'s shape; JSON is 415; a body over max_body_bytes is 413', async () => {
    assert.equal((await refused(await post({ model: MODEL }), 400)).param, 'file');
    assert.equal((await refused(await post({ file: wav(1) }), 400)).param, 'model');
    assert.equal((await refused(await post({ file: wav(1), model: MODEL, temperature: 'hot' }), 400)).param, 'temperature');
    assert.equal((await refused(await post({ file: wav(1), model: MODEL, response_format: 'diarized_json' }), 400)).param, 'response_format');
    assert.equal((await refused(await post({ file: Buffer.alloc(0), model: MODEL }), 400)).param, 'file');
    await refused(await postJson(url + PATH, { file: 'x', model: MODEL }), 415);
    await refused(await fetch(url + PATH, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: 'not a form' }), 400);
    // A form sent to a JSON operation is refused too.
    await refused(await fetch(`${url}/v1/completions`, { method: 'POST', body: form({ model: MODEL, prompt: 'hi' }) }), 415);
    // max_body_bytes (16 MiB by default) bounds a form as it bounds JSON.
    await refused(await post({ file: Buffer.alloc(17 * 2 ** 20, 1), model: MODEL }), 413);
  });

  test('faults: X-Mock-Error answers that status; the typed client uploads too', async () => {
    await refused(await post({ file: wav(1), model: MODEL }, { 'x-mock-error': '503' }), 503);
    const client = createMockClient(url);
    const t = await client.createTranscription({ file: new Blob([wav(2)]), model: 'whisper-1', response_format: 'verbose_json' });
    assert.equal('duration' in t && t.duration, 2);
  });
});

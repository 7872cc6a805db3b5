// LoRA adapters as vLLM serves them: adapters named at start and listed by /v1/models, vLLM's load and unload
// routes with their texts and errors, an adapter's requests counted with its base model's tokenizer and
// reported under its name, max_loras making a request for another adapter wait (skip-ahead, as vLLM's
// scheduler), and vllm:lora_requests_info. Orderings are checked, never absolute latencies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { get } from 'node:http';
import { LoraSlots } from '../src/model/loraAdapters.js';
import { QueueFull, type Release } from '../src/model/admission.js';
import { postJson, readSse, ROOT, runCli, startServer, type RunningServer, type SseEvent } from './support/server.js';
import { metric, samples } from './support/prometheus.js';
import type { ChatResponse, ErrorBody, HealthBody, Model, ModelList } from '../src/types.js';

const QWEN = 'Qwen/Qwen3-0.6B';
const LENML = join(ROOT, 'node_modules', '@lenml');
const LLAMA3 = join(LENML, 'tokenizer-llama3', 'models');
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('max_loras slots', () => {
  it('admits requests of running adapters at once, and the waiting in arrival order as each fits (skipping the rest)', async () => {
    let max = 1;
    const slots = new LoraSlots(() => max);
    const order: string[] = [];
    const releases = new Map<string, Release>();
    const queued: string[] = [];
    const enter = (id: string, adapter: string): Promise<void> =>
      slots.acquire(adapter, () => (queued.push(id), new AbortController().signal)).then((release) => {
        order.push(id);
        releases.set(id, release);
      });
    const all = [enter('a1', 'a'), enter('b1', 'b'), enter('a2', 'a'), enter('c1', 'c'), enter('b2', 'b')];
    await tick();
    assert.deepEqual(order, ['a1', 'a2'], "a's second request passes b's, which waits for a slot");
    assert.deepEqual(queued, ['b1', 'c1', 'b2']);
    assert.deepEqual(slots.running, ['a']);
    assert.deepEqual(slots.waiting, ['b', 'c']);
    releases.get('a1')!();
    await tick();
    assert.deepEqual(order, ['a1', 'a2'], 'a still has a request running');
    releases.get('a2')!();
    await tick();
    assert.deepEqual(order, ['a1', 'a2', 'b1', 'b2'], "b (first in line) takes the slot, and its every waiting request with it");
    assert.deepEqual(slots.waiting, ['c']);
    max = 2;
    slots.recheck();
    await tick();
    assert.deepEqual(order, ['a1', 'a2', 'b1', 'b2', 'c1'], 'raising max_loras admits the next adapter');
    for (const id of ['b1', 'b2', 'c1']) releases.get(id)!();
    await Promise.all(all);
    assert.deepEqual(slots.running, []);
  });

  it('counts its waiting against the room it is given (max_queue), and never refuses one that fits', async () => {
    const slots = new LoraSlots(() => 1);
    const first = await slots.acquire('a', () => assert.fail('not queued'), 0);
    const signal = new AbortController().signal;
    const waiting = slots.acquire('b', () => signal, 1);
    await assert.rejects(slots.acquire('c', () => assert.fail('refused, not queued'), 1), QueueFull);
    (await slots.acquire('a', () => assert.fail('a runs: not queued'), 0))();
    first();
    (await waiting)();
    assert.deepEqual(slots.running, []);
  });

  it('a waiter whose client leaves gives up its place', async () => {
    const slots = new LoraSlots(() => 1);
    const first = await slots.acquire('a', () => assert.fail('not queued'));
    const leaving = new AbortController();
    const gone = slots.acquire('b', () => leaving.signal);
    assert.deepEqual(slots.waiting, ['b']);
    leaving.abort(new Error('client left'));
    await assert.rejects(gone, /client left/);
    assert.deepEqual(slots.waiting, []);
    first();
    assert.deepEqual(slots.running, []);
  });
});

const chat = (url: string, model: string, content: string): Promise<Response> =>
  postJson(`${url}/v1/chat/completions`, { model, messages: [{ role: 'user', content }] });

describe('adapters on a server', { timeout: 120_000 }, () => {
  let server: RunningServer;
  before(async () => {
    // Qwen3 is the base (the first served model); the fallback is Llama 3, so a model that is neither served
    // nor an adapter is counted differently from an adapter.
    server = await startServer(
      ['-t', '0', '-i', '0', '--tokenizer-dir', LENML, '-m', QWEN, '--fallback-tokenizer', LLAMA3,
        '--lora-modules', 'sql-lora=/adapters/sql', JSON.stringify({ name: 'chat-lora', path: '/adapters/chat', base_model_name: QWEN })],
      { HF_HUB_OFFLINE: '1' },
    );
  });
  after(async () => {
    await server?.stop();
  });

  const models = async (): Promise<Model[]> => ((await (await fetch(`${server.url}/v1/models`)).json()) as ModelList).data;
  const load = (body: object): Promise<Response> => postJson(`${server.url}/v1/load_lora_adapter`, body);
  const unload = (body: object): Promise<Response> => postJson(`${server.url}/v1/unload_lora_adapter`, body);

  it('lists the start-time adapters after the base models, as vLLM does', async () => {
    const list = await models();
    assert.deepEqual(list.map((m) => m.id), [QWEN, LLAMA3, 'sql-lora', 'chat-lora']);
    const sql = list.find((m) => m.id === 'sql-lora')!;
    assert.equal(sql.root, '/adapters/sql');
    assert.equal(sql.parent, QWEN);
    assert.equal(sql.max_model_len, null);
    assert.equal(sql.owned_by, 'vllm');
    assert.equal(list[0]!.parent, null);
    const one = (await (await fetch(`${server.url}/v1/models/chat-lora`)).json()) as Model;
    assert.deepEqual(one, list.find((m) => m.id === 'chat-lora'));
    const health = (await (await fetch(`${server.url}/health`)).json()) as HealthBody;
    assert.deepEqual(health.settings.lora_modules, [
      { name: 'sql-lora', path: '/adapters/sql' },
      { name: 'chat-lora', path: '/adapters/chat', base_model_name: QWEN },
    ]);
    assert.equal(health.settings.max_loras, 1);
  });

  it("serves an adapter with its base model's tokenizer, under the adapter's name", async () => {
    const text = 'Schöne Grüße aus Köln, naïve café façade — 数据库查询';
    const base = (await (await chat(server.url, QWEN, text)).json()) as ChatResponse;
    const adapter = (await (await chat(server.url, 'sql-lora', text)).json()) as ChatResponse;
    const other = (await (await chat(server.url, 'no-such-model', text)).json()) as ChatResponse;
    assert.equal(adapter.model, 'sql-lora');
    assert.deepEqual(adapter.usage, base.usage, "the base model's counts");
    assert.equal(adapter.choices[0]!.message.content, base.choices[0]!.message.content);
    assert.notDeepEqual(other.usage, base.usage, 'the fallback tokenizer counts this text differently');
    const page = await (await fetch(`${server.url}/vllm/metrics`)).text();
    assert.equal(metric(page, 'vllm:request_success_total', { model_name: 'sql-lora', finished_reason: 'stop' }), 1);
  });

  it("loads and unloads at run time, with vLLM's texts and errors", async () => {
    let res = await load({ lora_name: 'new-lora', lora_path: '/adapters/new' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(await res.text(), "Success: LoRA adapter 'new-lora' added successfully.");
    assert.equal((await models()).find((m) => m.id === 'new-lora')?.root, '/adapters/new');
    const served = (await (await chat(server.url, 'new-lora', 'hello')).json()) as ChatResponse;
    assert.equal(served.model, 'new-lora');

    res = await load({ lora_name: 'new-lora', lora_path: '/adapters/other' });
    assert.equal(res.status, 400);
    assert.deepEqual(((await res.json()) as ErrorBody).error, { message: "The lora adapter 'new-lora' has already been loaded.", type: 'InvalidUserInput', param: null, code: 400 });
    res = await load({ lora_name: 'new-lora', lora_path: '/adapters/other', load_inplace: true });
    assert.equal(res.status, 200);
    assert.equal((await models()).find((m) => m.id === 'new-lora')?.root, '/adapters/other', 'replaced in place');
    res = await load({ lora_name: '', lora_path: '/x' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as ErrorBody).error.message, "Both 'lora_name' and 'lora_path' must be provided.");

    res = await unload({ lora_name: 'new-lora' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "Success: LoRA adapter 'new-lora' removed successfully.");
    assert.equal((await models()).some((m) => m.id === 'new-lora'), false);
    res = await unload({ lora_name: 'new-lora' });
    assert.equal(res.status, 404);
    assert.deepEqual(((await res.json()) as ErrorBody).error, { message: "The lora adapter 'new-lora' cannot be found.", type: 'NotFoundError', param: null, code: 404 });
    res = await unload({ lora_name: '' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as ErrorBody).error.type, 'InvalidUserInput');
  });

  it('a model that is neither served nor an adapter is served as before: the fallback tokenizer, its own name', async () => {
    const text = 'Schöne Grüße aus Köln';
    const unloaded = (await (await chat(server.url, 'new-lora', text)).json()) as ChatResponse;
    const fallback = (await (await chat(server.url, LLAMA3, text)).json()) as ChatResponse;
    assert.equal(unloaded.model, 'new-lora');
    assert.deepEqual(unloaded.usage, fallback.usage);
  });

  it('shows vllm:lora_requests_info with max_lora and the running and waiting adapters, its value the time', async () => {
    const before = Date.now() / 1000;
    const page = await (await fetch(`${server.url}/vllm/metrics`)).text();
    const info = samples(page).filter((s) => s.name === 'vllm:lora_requests_info');
    assert.equal(info.length, 1);
    assert.deepEqual(info[0]!.labels, { max_lora: '1', waiting_lora_adapters: '', running_lora_adapters: '' });
    assert.ok(info[0]!.value >= before - 1 && info[0]!.value <= Date.now() / 1000 + 1, 'a Unix time in seconds');
    assert.match(page, /# TYPE vllm:lora_requests_info gauge\nvllm:lora_requests_info\{max_lora="1",waiting_lora_adapters="",running_lora_adapters=""\} /);
  });
});

describe('max_loras on a server', { timeout: 120_000 }, () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['-t', '0', '-i', '40', '--lora-modules', 'a=/a', 'b=/b', '--max-loras', '1']);
  });
  after(async () => {
    await server?.stop();
  });

  const stream = (model: string, words: number): Promise<Response> =>
    postJson(`${server.url}/v1/chat/completions`, { model, stream: true, messages: [{ role: 'user', content: Array.from({ length: words }, (_, i) => `w${i}`).join(' ') }] });
  const loraInfo = async (): Promise<Record<string, string> | undefined> =>
    samples(await (await fetch(`${server.url}/vllm/metrics`)).text()).find((s) => s.name === 'vllm:lora_requests_info')?.labels;

  it("a request for a second adapter waits until the first adapter's requests are over; one for the running adapter does not", async () => {
    const a1 = await stream('a', 60);
    assert.equal(a1.status, 200);
    const a1Events = readSse(a1);
    // b waits for a's slot: the gauge says so, and its answer has not begun.
    const b1 = stream('b', 4).then(readSse);
    let info: Record<string, string> | undefined;
    for (let i = 0; i < 200 && info?.['waiting_lora_adapters'] !== 'b'; i++) {
      info = await loraInfo();
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(info, { max_lora: '1', waiting_lora_adapters: 'b', running_lora_adapters: 'a' });
    // A second request for a, sent after b's, runs at once beside the first.
    const a2 = await stream('a', 4);
    const a2Events = await readSse(a2);
    const [first, second, third] = [await a1Events, a2Events, await b1];
    const content = (e: SseEvent[]): SseEvent[] => e.filter((x) => x.data !== '[DONE]');
    const b = content(third);
    assert.ok(b[0]!.at > content(second).at(-2)!.at, "a's second request was over before b began");
    // The last two tokens of a's first request (40 ms apart) were both sent before b's first.
    assert.ok(b[0]!.at > content(first).at(-2)!.at, "b began only when a's first request was over");
    assert.equal((JSON.parse(b[0]!.data) as { model: string }).model, 'b');
    assert.deepEqual(await loraInfo(), { max_lora: '1', waiting_lora_adapters: '', running_lora_adapters: '' });
  });

  it('raising max_loras with /configure admits a waiting adapter at once', async () => {
    const a1 = await stream('a', 60);
    const a1Events = readSse(a1);
    const b1 = stream('b', 4).then(readSse);
    let info: Record<string, string> | undefined;
    for (let i = 0; i < 200 && info?.['waiting_lora_adapters'] !== 'b'; i++) {
      info = await loraInfo();
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(info?.['waiting_lora_adapters'], 'b');
    const res = await postJson(`${server.url}/configure`, { max_loras: 2 });
    assert.equal(res.status, 200);
    const [b, a] = [await b1, await a1Events];
    assert.ok(b.at(-1)!.at < a.at(-2)!.at, "b ran to its end while a's long request was still running");
    await postJson(`${server.url}/configure`, { max_loras: 1 });
  });
});

describe('--no-configure', { timeout: 120_000 }, () => {
  it('the adapter routes answer 404, as vLLM without VLLM_ALLOW_RUNTIME_LORA_UPDATING; start-time adapters are served', async () => {
    const server = await startServer(['-t', '0', '-i', '0', '--no-configure', '--lora-modules', 'a=/a']);
    try {
      const res = await postJson(`${server.url}/v1/load_lora_adapter`, { lora_name: 'x', lora_path: '/x' });
      assert.equal(res.status, 404);
      assert.equal((await postJson(`${server.url}/v1/unload_lora_adapter`, { lora_name: 'a' })).status, 404);
      const list = ((await (await fetch(`${server.url}/v1/models`)).json()) as ModelList).data;
      assert.deepEqual(list.map((m) => m.id), [QWEN, 'a']);
    } finally {
      await server.stop();
    }
  });
});

describe('--lora-modules on the command line', () => {
  it("takes vLLM's forms and refuses anything else with one line", async () => {
    const bad = await runCli(['--lora-modules', 'no-path-here']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid --lora-modules value .*name=path/);
    const twice = await runCli(['--lora-modules', 'x=/one', 'x=/two']);
    assert.equal(twice.code, 2, 'vLLM refuses two adapters of one name');
    assert.match(twice.stderr, /invalid --lora-modules value .*each name once/);
    const env = await runCli(['--port', '0'], { MOCK_SERVER_LORA_MODULES: '[{"name":"x"}]' });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /MOCK_SERVER_LORA_MODULES/);
  });
});

/** The adapters in force in whichever worker answers GET /health on a fresh connection, and its pid. */
function freshAdapters(url: string): Promise<{ ids: string[]; pid: number }> {
  return new Promise((resolve, reject) => {
    const req = get(`${url}/health`, { agent: false, headers: { connection: 'close' }, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        const h = JSON.parse(body) as HealthBody;
        resolve({ ids: h.settings.lora_modules.map((m) => m.name), pid: h.pid });
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 3 s')));
    req.on('error', reject);
  });
}

describe('adapters with --workers', { timeout: 120_000 }, () => {
  it('a load or an unload taken by one worker is in force in every worker when it is answered', async () => {
    const server = await startServer(['-t', '0', '-i', '0', '--workers', '2', '--lora-modules', 'a=/a']);
    try {
      const ask = async (): Promise<Array<{ ids: string[]; pid: number }>> => Promise.all(Array.from({ length: 12 }, () => freshAdapters(server.url)));
      let res = await postJson(`${server.url}/v1/load_lora_adapter`, { lora_name: 'x', lora_path: '/x' });
      assert.equal(res.status, 200, await res.text());
      let seen = await ask();
      assert.equal(new Set(seen.map((s) => s.pid)).size, 2, 'both workers were asked');
      for (const s of seen) assert.deepEqual(s.ids, ['a', 'x'], `worker ${s.pid}`);
      res = await postJson(`${server.url}/v1/unload_lora_adapter`, { lora_name: 'x' });
      assert.equal(res.status, 200, await res.text());
      seen = await ask();
      for (const s of seen) assert.deepEqual(s.ids, ['a'], `worker ${s.pid}`);
    } finally {
      await server.stop();
    }
  });
});

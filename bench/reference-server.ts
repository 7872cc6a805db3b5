// The floor: the least a server can do for the mock's job. A bare node:http server, no framework, a
// whitespace tokenizer, and the mock's echo, SSE chunk shape and absolute-deadline schedule (token k due at
// arrival + ttft + k·itl; every due token in one write per wake-up; woken early → re-arm, never send early).
//
//   node dist/bench/reference-server.js --port 0 --ttft 20 --itl 5
//
// Prints "listening on http://127.0.0.1:PORT" on stderr when ready. POST /configure {"ttft":..,"itl":..}
// changes the latencies live. Loopback only.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { referencePromptTokens, WORD, type ReferenceMessage } from './reference-prompt.js';

interface ChatBody {
  model?: unknown;
  messages?: unknown;
  stream?: unknown;
  max_tokens?: unknown;
  max_completion_tokens?: unknown;
  ignore_eos?: unknown;
  stream_options?: { include_usage?: unknown } | null;
}

type Finish = 'stop' | 'length';

const settings = { ttft: 20, itl: 5 };

const PASSAGE_TOKENS =
  'The quick brown fox jumps over the lazy dog. Benchmarks measure what they are given; a steady mock gives them a steady answer, one token after another, on time.'.match(
    WORD,
  )!;
const DONE = 'data: [DONE]\n\n';
const MIDDLE_SUFFIX = '},"logprobs":null,"finish_reason":null}]}\n\n';

function optionalCount(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: { message, type: 'invalid_request_error', param: null, code: null } });
}

function readBody(req: IncomingMessage, done: (text: string) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => done(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
}

/** Runs `fn` at `deadline` (performance.now() time) or later, never earlier; returns a canceller. */
function at(deadline: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    const left = deadline - performance.now();
    if (left > 0) timer = setTimeout(check, Math.ceil(left));
    else {
      timer = undefined;
      fn();
    }
  };
  check();
  return () => clearTimeout(timer);
}

function chat(res: ServerResponse, arrival: number, body: ChatBody): void {
  const { ttft, itl } = settings;
  const model = typeof body.model === 'string' ? body.model : 'reference';
  const messages = Array.isArray(body.messages) ? (body.messages as ReferenceMessage[]) : [];
  const promptTokens = referencePromptTokens(messages);
  const cap = optionalCount(body.max_completion_tokens) ?? optionalCount(body.max_tokens);
  const ignoreEos = body.ignore_eos === true;
  let total = promptTokens.length;
  let finish: Finish = 'stop';
  if (cap !== undefined) {
    if (ignoreEos) total = cap;
    if (total >= cap) {
      if (ignoreEos || total > cap) finish = 'length';
      total = cap;
    }
  }
  const source = promptTokens.length > 0 ? promptTokens : PASSAGE_TOKENS;
  const count = Math.max(1, total);
  const due = (k: number): number => arrival + ttft + k * itl;
  const usage = { prompt_tokens: promptTokens.length, completion_tokens: total, total_tokens: promptTokens.length + total };
  const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  const created = Math.floor(Date.now() / 1000);

  if (body.stream !== true) {
    let cancel: (() => void) | undefined;
    const onClose = (): void => cancel?.();
    res.once('close', onClose);
    cancel = at(due(count - 1), () => {
      res.off('close', onClose);
      let content = '';
      for (let k = 0; k < total; k++) content += source[k % source.length];
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        system_fingerprint: 'fp_aiperf_mock',
        choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: finish }],
        usage,
      });
    });
    return;
  }

  // Pre-serialized: every frame is prefix + JSON text + suffix.
  const head = `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"system_fingerprint":"fp_aiperf_mock","choices":[{"index":0,"delta":{`;
  const prefix = `${head}"content":`;
  const firstPrefix = `${head}"role":"assistant","content":`;
  const lastSuffix = `},"logprobs":null,"finish_reason":"${finish}"}]}\n\n`;
  const texts = source.map((t) => JSON.stringify(t));
  const includeUsage = body.stream_options?.include_usage === true;
  const tail = includeUsage
    ? `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"system_fingerprint":"fp_aiperf_mock","choices":[],"usage":${JSON.stringify(usage)}}\n\n${DONE}`
    : DONE;

  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  res.flushHeaders();

  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = (): void => {
    timer = undefined;
    if (stopped) return;
    const now = performance.now();
    const wait = due(sent) - now;
    if (wait > 0) {
      timer = setTimeout(tick, Math.ceil(wait));
      return;
    }
    let to = sent + 1;
    while (to < count && due(to) <= now) to++;
    let out = '';
    for (let k = sent; k < to; k++) {
      out += (k === 0 ? firstPrefix : prefix) + (k < total ? texts[k % texts.length] : '""') + (k === count - 1 ? lastSuffix : MIDDLE_SUFFIX);
    }
    sent = to;
    if (to >= count) {
      stopped = true;
      res.end(out + tail);
      return;
    }
    if (res.write(out)) tick();
    else res.once('drain', tick);
  };
  res.once('close', () => {
    stopped = true;
    clearTimeout(timer);
  });
  tick();
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const arrival = performance.now();
  const url = req.url ?? '/';
  if (req.method === 'GET' && url === '/health') {
    sendJson(res, 200, { status: 'ok' });
    return;
  }
  if (req.method !== 'POST' || (url !== '/v1/chat/completions' && url !== '/configure')) {
    sendError(res, 404, `No route for ${req.method} ${url}.`);
    return;
  }
  readBody(req, (text) => {
    let body: unknown;
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      sendError(res, 400, 'The request body is not valid JSON.');
      return;
    }
    if (typeof body !== 'object' || body === null) {
      sendError(res, 400, 'The request body must be an object.');
      return;
    }
    if (url === '/configure') {
      const patch = body as { ttft?: unknown; itl?: unknown };
      for (const key of ['ttft', 'itl'] as const) {
        const v = patch[key];
        if (v !== undefined && (typeof v !== 'number' || !(v >= 0))) {
          sendError(res, 400, `${key} must be a number ≥ 0`);
          return;
        }
      }
      if (typeof patch.ttft === 'number') settings.ttft = patch.ttft;
      if (typeof patch.itl === 'number') settings.itl = patch.itl;
      sendJson(res, 200, { status: 'ok', settings });
      return;
    }
    chat(res, arrival, body as ChatBody);
  });
}

function main(): void {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', short: 'p', default: '0' },
      ttft: { type: 'string', short: 't', default: '20' },
      itl: { type: 'string', short: 'i', default: '5' },
    },
    strict: true,
  });
  const port = Number(values.port);
  settings.ttft = Number(values.ttft);
  settings.itl = Number(values.itl);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || !(settings.ttft >= 0) || !(settings.itl >= 0)) {
    process.stderr.write('reference-server: --port must be 0..65535, --ttft and --itl numbers ≥ 0\n');
    process.exit(2);
  }
  const server = createServer(handle);
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1', () => {
    const { port: actual } = server.address() as AddressInfo;
    process.stderr.write(`listening on http://127.0.0.1:${actual}\n`);
  });
  const stop = (): void => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main();

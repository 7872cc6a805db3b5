// The load generator: a separate process that drives one server with `concurrency` keep-alive connections
// (one undici Client each) and measures every stream from the client's side. Prints one JSON LoadResult.
//
//   node dist/bench/load.js '{"url":"http://127.0.0.1:8000","concurrency":64,"durationMs":5000,
//                             "stream":true,"max_tokens":100,"ignore_eos":true,"ttft":20,"itl":5}'
//
// Lean on purpose (it shares the cores with the server): SSE is parsed by scanning the bytes for "\n\n"
// and looking at a few bytes of each frame; only each stream's first and last token frames are parsed as
// JSON, to check the role and the finish_reason. A "network read" is one turn of the event loop: every
// body chunk delivered before the next microtask checkpoint carries the same read number and timestamp.
import { pathToFileURL } from 'node:url';
import { Client, type Dispatcher } from 'undici';
import {
  DEFAULT_MODEL,
  processCpuMs,
  processRssKb,
  Samples,
  sleep,
  median,
  type LoadResult,
  type Scenario,
} from './common.js';
import { promptSource, type Conversation, type Message } from './prompts.js';

const NN = Buffer.from('\n\n');
const CH_d = 0x64; // 'd'
const CH_brace = 0x7b; // '{'
const CH_bracket = 0x5b; // '['
const CH_i = 0x69; // 'i'
const DONE_LENGTH = 'data: [DONE]'.length;
const MAX_FAILURES_KEPT = 8;

// ---- the read clock: one number and one timestamp per event-loop turn -------------------------------
let turn = 0;
let turnOpen = false;
let turnTime = 0;
const closeTurn = (): void => {
  turnOpen = false;
};
function stamp(): void {
  if (!turnOpen) {
    turnOpen = true;
    turn++;
    turnTime = performance.now();
    queueMicrotask(closeTurn);
  }
}

// ---- what the measured phase accumulates ----------------------------------------------------------------
class Stats {
  started = 0;
  completed = 0;
  failed = 0;
  aborted = 0;
  failures: string[] = [];
  tokens = 0;
  gaps = 0;
  sameRead = 0;
  early = 0;
  ttft = new Samples();
  latency = new Samples();
  itl = new Samples();
  drift = new Samples();
  streamTps = new Samples();

  fail(reason: string): void {
    this.failed++;
    if (this.failures.length < MAX_FAILURES_KEPT) this.failures.push(reason);
  }
}

type Outcome = 'ok' | 'failed' | 'aborted';

interface Plan {
  ttft: number;
  itl: number;
  /** Tokens each stream must carry (max_tokens with ignore_eos), else undefined: at least one. */
  expected: number | undefined;
  timing: boolean;
}

function parseJson(buf: Buffer, start: number, end: number): unknown {
  return JSON.parse(buf.toString('utf8', start, end));
}

interface ChunkChoice {
  delta?: { role?: unknown; content?: unknown };
  finish_reason?: unknown;
}

function choiceOf(frame: unknown): ChunkChoice | undefined {
  const choices = (frame as { choices?: unknown }).choices;
  return Array.isArray(choices) ? (choices[0] as ChunkChoice | undefined) : undefined;
}

/** What both kinds of request share: the send time, the status, and aborting (held open, or timed out). */
abstract class LoadRequest {
  readonly send = performance.now();
  protected controller: Dispatcher.DispatchController | undefined;
  protected status = 0;
  protected abortReason: 'hold' | 'timeout' | null = null;
  protected finished = false;

  abort(reason: 'hold' | 'timeout'): void {
    if (this.finished) return;
    this.abortReason = reason;
    if (this.controller) this.controller.abort(new Error(reason));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason) controller.abort(new Error(this.abortReason));
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }
}

/** One streaming request: parses its SSE body as it arrives and records its timing into `stats`. */
class StreamRequest extends LoadRequest implements Dispatcher.DispatchHandler {
  #errorBody = '';
  #pending: Buffer | null = null;
  #k = 0;
  #firstT = 0;
  #lastT = 0;
  #prevTurn = -1;
  #done = false;
  #bad: string | null = null;
  #lastBuf: Buffer | null = null;
  #lastStart = 0;
  #lastEnd = 0;

  constructor(
    private readonly plan: Plan,
    private readonly stats: Stats | null,
    private readonly onFirstToken: (() => void) | null,
    private readonly onFinish: (r: StreamRequest, outcome: Outcome) => void,
  ) {
    super();
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    stamp();
    if (this.status !== 200) {
      if (this.#errorBody.length < 300) this.#errorBody += chunk.toString('utf8', 0, Math.min(chunk.length, 300));
      return;
    }
    let pos = 0;
    const pending = this.#pending;
    if (pending !== null) {
      // Finish the frame that straddles the reads, copying only that frame.
      let end: number;
      if (pending[pending.length - 1] === 0x0a && chunk[0] === 0x0a) end = 1;
      else {
        const i = chunk.indexOf(NN);
        if (i < 0) {
          this.#pending = Buffer.concat([pending, chunk]);
          return;
        }
        end = i + 2;
      }
      const f = Buffer.concat([pending, chunk.subarray(0, end)]);
      this.#pending = null;
      this.#frame(f, 0, f.length - 2);
      pos = end;
    }
    for (;;) {
      const i = chunk.indexOf(NN, pos);
      if (i < 0) break;
      this.#frame(chunk, pos, i);
      pos = i + 2;
    }
    if (pos < chunk.length) this.#pending = Buffer.from(chunk.subarray(pos));
  }

  /** One frame: bytes [start, end) without its "\n\n". */
  #frame(buf: Buffer, start: number, end: number): void {
    if (this.#bad !== null) return;
    if (this.#done) {
      this.#bad = 'data after [DONE]';
      return;
    }
    if (buf[start] !== CH_d || buf[start + 5] !== 0x20) {
      this.#bad = `not an SSE data frame: ${buf.toString('utf8', start, Math.min(end, start + 80))}`;
      return;
    }
    const kind = buf[start + 6];
    if (kind === CH_bracket && end - start === DONE_LENGTH) {
      this.#done = true;
      return;
    }
    if (kind !== CH_brace || buf[start + 8] !== CH_i) {
      // An error frame ({"error":...}) or anything else.
      this.#bad = `unexpected frame: ${buf.toString('utf8', start, Math.min(end, start + 200))}`;
      return;
    }
    const k = this.#k++;
    const t = turnTime;
    const plan = this.plan;
    if (k === 0) {
      this.#firstT = t;
      const choice = choiceOf(parseJson(buf, start + 6, end));
      if (choice?.delta?.role !== 'assistant' || typeof choice.delta.content !== 'string') {
        this.#bad = `first frame without role assistant and content: ${buf.toString('utf8', start, Math.min(end, start + 300))}`;
      }
      this.onFirstToken?.();
    } else if (this.stats !== null) {
      this.stats.gaps++;
      if (turn === this.#prevTurn) this.stats.sameRead++;
      if (plan.timing) this.stats.itl.push(t - this.#lastT);
    }
    if (this.stats !== null && t < this.send + plan.ttft + k * plan.itl) this.stats.early++;
    this.#prevTurn = turn;
    this.#lastT = t;
    this.#lastBuf = buf;
    this.#lastStart = start;
    this.#lastEnd = end;
  }

  onResponseEnd(): void {
    if (this.finished) return;
    this.finished = true;
    const stats = this.stats;
    const n = this.#k;
    if (stats !== null) stats.tokens += n;
    let problem = this.#bad;
    if (problem === null) {
      if (this.status !== 200) problem = `HTTP ${this.status}: ${this.#errorBody}`;
      else if (this.#pending !== null) problem = 'body ends mid-frame';
      else if (!this.#done) problem = 'no [DONE]';
      else if (n === 0) problem = 'no token';
      else if (this.plan.expected !== undefined && n !== this.plan.expected) problem = `${n} tokens, expected ${this.plan.expected}`;
      else {
        const last = choiceOf(parseJson(this.#lastBuf!, this.#lastStart + 6, this.#lastEnd));
        if (last?.finish_reason == null) problem = 'last token frame without finish_reason';
      }
    }
    if (stats !== null) {
      if (n > 0) stats.ttft.push(this.#firstT - this.send);
      if (problem === null) {
        const duration = this.#lastT - this.send;
        stats.drift.push(duration - (this.plan.ttft + (n - 1) * this.plan.itl));
        if (duration > 0) stats.streamTps.push((n * 1000) / duration);
      }
    }
    this.onFinish(this, problem === null ? 'ok' : 'failed');
    if (problem !== null) stats?.fail(problem);
  }

  onResponseError(_c: Dispatcher.DispatchController | undefined, err: Error): void {
    if (this.finished) return;
    this.finished = true;
    if (this.stats !== null) {
      this.stats.tokens += this.#k;
      if (this.#k > 0) this.stats.ttft.push(this.#firstT - this.send);
    }
    if (this.abortReason === 'hold') {
      this.onFinish(this, 'aborted');
      return;
    }
    this.onFinish(this, 'failed');
    this.stats?.fail(this.abortReason === 'timeout' ? `timed out after ${this.#k} tokens` : `${err.name}: ${err.message}`);
  }
}

/** One non-streaming request: reads the whole body, parses it once, checks it. */
class WholeRequest extends LoadRequest implements Dispatcher.DispatchHandler {
  #chunks: Buffer[] = [];

  constructor(
    private readonly plan: Plan,
    private readonly stats: Stats | null,
    private readonly onFinish: (r: WholeRequest, outcome: Outcome) => void,
  ) {
    super();
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.finished) return;
    this.finished = true;
    const t = performance.now();
    const text = Buffer.concat(this.#chunks).toString('utf8');
    let problem: string | null = null;
    let tokens = 0;
    if (this.status !== 200) problem = `HTTP ${this.status}: ${text.slice(0, 300)}`;
    else {
      try {
        const body = JSON.parse(text) as {
          choices?: Array<{ message?: { content?: unknown }; finish_reason?: unknown }>;
          usage?: { completion_tokens?: unknown };
        };
        const choice = body.choices?.[0];
        const used = body.usage?.completion_tokens;
        tokens = typeof used === 'number' ? used : 0;
        if (typeof choice?.message?.content !== 'string' || choice.finish_reason == null) problem = `bad body: ${text.slice(0, 300)}`;
        else if (this.plan.expected !== undefined && tokens !== this.plan.expected) problem = `${tokens} tokens, expected ${this.plan.expected}`;
      } catch {
        problem = `body is not JSON: ${text.slice(0, 300)}`;
      }
    }
    if (this.stats !== null) {
      this.stats.tokens += tokens;
      this.stats.latency.push(t - this.send);
      if (t < this.send + this.plan.ttft + (Math.max(1, tokens) - 1) * this.plan.itl) this.stats.early++;
    }
    this.onFinish(this, problem === null ? 'ok' : 'failed');
    if (problem !== null) this.stats?.fail(problem);
  }

  onResponseError(_c: Dispatcher.DispatchController | undefined, err: Error): void {
    if (this.finished) return;
    this.finished = true;
    if (this.abortReason === 'hold') {
      this.onFinish(this, 'aborted');
      return;
    }
    this.onFinish(this, 'failed');
    this.stats?.fail(this.abortReason === 'timeout' ? 'timed out' : `${err.name}: ${err.message}`);
  }
}

type AnyRequest = StreamRequest | WholeRequest;

function validate(s: Scenario): void {
  const u = new URL(s.url);
  if (u.hostname !== '127.0.0.1') throw new Error(`loopback (127.0.0.1) only: ${s.url}`);
  if (!Number.isInteger(s.concurrency) || s.concurrency < 1 || s.concurrency > 4096) throw new Error('concurrency must be 1..4096');
  if (s.rss === undefined && s.requests === undefined && s.durationMs === undefined) throw new Error('give requests or durationMs');
  if (s.durationMs !== undefined && !(s.durationMs > 0 && s.durationMs <= 600_000)) throw new Error('durationMs must be in (0, 600000]');
  if (s.requests !== undefined && !(Number.isInteger(s.requests) && s.requests > 0 && s.requests <= 10_000_000)) throw new Error('bad requests');
}

export async function runScenario(s: Scenario): Promise<LoadResult> {
  validate(s);
  const origin = new URL(s.url).origin;
  const timeoutMs = s.timeoutMs ?? 120_000;
  const warmup = s.rss ? 0 : (s.warmup ?? 1);
  const plan: Plan = {
    ttft: s.ttft,
    itl: s.itl,
    expected: s.ignore_eos ? s.max_tokens : undefined,
    timing: s.timing ?? true,
  };
  const source = promptSource(s.prompts, s.prompt);
  const bodyOf = (messages: Message[], maxTokens = s.max_tokens): Buffer =>
    Buffer.from(
      JSON.stringify({ model: s.model ?? DEFAULT_MODEL, messages, stream: s.stream, max_tokens: maxTokens, ignore_eos: s.ignore_eos }),
    );
  // The fixed prompt's body is built once; corpus prompts are built per request (about 10 µs each here).
  const fixedBody = source.kind === 'fixed' ? bodyOf(source.conversation().next()!) : undefined;
  /** The request bodies of one connection: a conversation after another, each turn a request. */
  const bodies = (): (() => Buffer) => {
    if (fixedBody !== undefined) return () => fixedBody;
    let conversation: Conversation | undefined;
    return () => {
      let messages = conversation?.next();
      if (messages === undefined) {
        conversation = source.conversation();
        messages = conversation.next()!;
      }
      return bodyOf(messages);
    };
  };
  const clientOptions: Client.Options = {
    pipelining: 1,
    connect: { timeout: 30_000 },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 60_000,
  };
  const dispatchOptions = {
    path: '/v1/chat/completions',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
  } as const;

  const stats = new Stats();
  /** Warm-up requests are checked as strictly but kept out of the figures (except failures and early tokens). */
  const warmStats = new Stats();
  const active = new Set<AnyRequest>();
  let stopping = false;
  const hardDeadline = performance.now() + timeoutMs;
  const hardTimer = setTimeout(() => {
    stopping = true;
    for (const r of active) r.abort('timeout');
  }, timeoutMs);

  let openStreams = 0;
  let onAllOpen: (() => void) | null = null;
  const firstToken = (): void => {
    openStreams++;
    if (openStreams === s.concurrency) onAllOpen?.();
  };

  function one(client: Client, measured: boolean, watchOpen: boolean, p: Plan, reqBody: Buffer): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const st = measured ? stats : warmStats;
      const finish = (r: AnyRequest, outcome: Outcome): void => {
        active.delete(r);
        if (outcome === 'ok') st.completed++;
        else if (outcome === 'aborted') st.aborted++;
        resolve(outcome);
      };
      const r: AnyRequest = s.stream ? new StreamRequest(p, st, watchOpen ? firstToken : null, finish) : new WholeRequest(p, st, finish);
      st.started++;
      active.add(r);
      client.dispatch({ ...dispatchOptions, body: reqBody }, r);
    });
  }

  const clients = Array.from({ length: s.concurrency }, () => new Client(origin, clientOptions));
  let t0 = 0;
  let cpu0 = process.cpuUsage();
  let serverCpu0 = 0;
  const beginMeasure = (): void => {
    t0 = performance.now();
    cpu0 = process.cpuUsage();
    if (s.serverPid !== undefined) serverCpu0 = processCpuMs(s.serverPid);
  };

  let rss: LoadResult['rss'] = null;
  try {
    if (s.rss) {
      rss = await memoryProbe(s, s.rss.holdMs);
    } else {
      // Warm-up opens every connection and warms both sides' code; then all workers start together.
      let warmed = 0;
      let release!: () => void;
      const started = new Promise<void>((r) => (release = r));
      let issued = 0;
      const canStart = (): boolean => {
        if (stopping || performance.now() >= hardDeadline) return false;
        if (s.durationMs !== undefined && performance.now() >= t0 + s.durationMs) return false;
        if (s.requests !== undefined && issued >= s.requests) return false;
        issued++;
        return true;
      };
      const worker = async (client: Client): Promise<void> => {
        const next = bodies();
        for (let w = 0; w < warmup && !stopping; w++) {
          await one(client, false, false, plan, next());
        }
        if (++warmed === s.concurrency) {
          beginMeasure();
          release();
        }
        await started;
        for (let i = 0; i < 10_000_000 && canStart(); i++) await one(client, true, false, plan, next());
      };
      await Promise.all(clients.map(worker));
    }
  } finally {
    clearTimeout(hardTimer);
  }
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const serverCpuMs = s.serverPid !== undefined ? processCpuMs(s.serverPid) - serverCpu0 : 0;
  await Promise.all(clients.map((c) => c.destroy().catch(() => undefined)));

  const measuredRequests = stats.completed + stats.failed;
  stats.failed += warmStats.failed;
  stats.early += warmStats.early;
  for (const f of warmStats.failures) if (stats.failures.length < MAX_FAILURES_KEPT) stats.failures.push(`warm-up: ${f}`);
  const wallMs = t1 - t0;
  const clientCpuMs = (cpu.user + cpu.system) / 1000;
  return {
    scenario: s,
    wallMs,
    requests: { started: stats.started, completed: stats.completed, failed: stats.failed, aborted: stats.aborted },
    failures: stats.failures,
    tokens: stats.tokens,
    tokensPerSec: wallMs > 0 ? (stats.tokens * 1000) / wallMs : 0,
    requestsPerSec: wallMs > 0 ? (measuredRequests * 1000) / wallMs : 0,
    ttftMs: s.stream ? stats.ttft.summary() : null,
    latencyMs: s.stream ? null : stats.latency.summary(),
    itlMs: s.stream && plan.timing ? stats.itl.summary() : null,
    sameReadShare: s.stream && stats.gaps > 0 ? stats.sameRead / stats.gaps : null,
    driftMs: s.stream ? stats.drift.summary() : null,
    streamTokensPerSec: s.stream ? stats.streamTps.summary() : null,
    earlyTokens: stats.early,
    client: { cpuMs: clientCpuMs, cpuPercent: wallMs > 0 ? (clientCpuMs * 100) / wallMs : 0 },
    server:
      s.serverPid !== undefined
        ? {
            cpuMs: serverCpuMs,
            cpuUsPerToken: stats.tokens > 0 ? (serverCpuMs * 1000) / stats.tokens : null,
            cpuUsPerRequest: measuredRequests > 0 ? (serverCpuMs * 1000) / measuredRequests : null,
            cpuPercent: wallMs > 0 ? (serverCpuMs * 100) / wallMs : 0,
          }
        : null,
    prompts: { kind: source.kind, requests: stats.started + warmStats.started, passages: source.passages },
    rss,
  };

  /** Idle RSS after a short warm-up, then RSS while `concurrency` streams are all open, then abort them. */
  async function memoryProbe(sc: Scenario, holdMs: number): Promise<NonNullable<LoadResult['rss']>> {
    const pid = sc.serverPid;
    if (pid === undefined) throw new Error('rss needs serverPid');
    // Warm the server's code paths with a few short requests on connections that are then closed.
    const warmPlan: Plan = { ...plan, expected: 2 };
    const warmBody = bodyOf(source.conversation().next()!, 2);
    const warmClients = Array.from({ length: 4 }, () => new Client(origin, clientOptions));
    await Promise.all(
      warmClients.map(async (c) => {
        for (let i = 0; i < 5 && !stopping; i++) {
          await one(c, false, false, warmPlan, warmBody);
        }
      }),
    );
    await Promise.all(warmClients.map((c) => c.close().catch(() => undefined)));
    await sleep(500);
    const idle: number[] = [];
    for (let i = 0; i < 5; i++) {
      idle.push(processRssKb(pid));
      await sleep(100);
    }
    const idleKb = median(idle);

    beginMeasure();
    const allOpen = new Promise<void>((resolve) => {
      onAllOpen = resolve;
      if (openStreams === sc.concurrency) resolve();
    });
    const streams = clients.map((c) => one(c, true, true, plan, bodies()()));
    const openWait = setTimeout(() => onAllOpen?.(), Math.max(1000, timeoutMs - holdMs - 5000));
    await allOpen;
    clearTimeout(openWait);
    const samples: number[] = [];
    const open = openStreams;
    const until = performance.now() + holdMs;
    for (let i = 0; i < 1000 && performance.now() < until; i++) {
      samples.push(processRssKb(pid));
      await sleep(100);
    }
    for (const r of active) r.abort('hold');
    await Promise.all(streams);
    const openKb = Math.max(...samples);
    return { idleKb, openKb, openStreams: open, perStreamKb: open > 0 ? (openKb - idleKb) / open : 0, samples };
  }
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (!arg) {
    process.stderr.write("usage: node dist/bench/load.js '<scenario JSON>'\n");
    process.exit(2);
  }
  const result = await runScenario(JSON.parse(arg) as Scenario);
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`load: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

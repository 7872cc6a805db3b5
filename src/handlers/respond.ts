// Shared by the two completion handlers: faults, admission, the latency model, then the output plans on
// their deadlines, written as one JSON body or as an SSE stream. The wire shape of each frame comes from a
// Format (chat or text completion); what was actually sent is recorded in the metrics.
import { IncrementalDecoder, type TokenPieces } from '../model/detokenizer.js';
import { tokenAt, totalTokens, type OutputPlan } from '../model/generation.js';
import { pace, sleepUntil, TokenClock, type Pace, type TokenSink, type WorkSlices } from '../model/timing.js';
import { requestRandom, type Random } from '../model/random.js';
import { drawAbort, drawFault, faultError, type ErrorCode } from '../model/faults.js';
import { QueueFull, type Gate, type Release } from '../model/admission.js';
import { adapterFor } from '../model/loraAdapters.js';
import { TooLargeForCache, type Claim, type Hold } from '../model/kvCache.js';
import { batchedPace } from '../model/batching.js';
import { usage } from '../model/usage.js';
import { MAX_STREAM_TOKENS, MAX_TEXT_BYTES, MAX_WHOLE_TOKENS, outputTokens, textBytesBound } from '../model/limits.js';
import { SseWriter } from '../http/sse.js';
import { ApiError, badRequest, shuttingDown, toApiError } from '../http/errors.js';
import type { AppContext } from '../http/request.js';
import type { RequestMetrics } from '../metrics.js';
import type { Deps } from './deps.js';
import type { FinishReason, Usage } from '../types.js';
import { answerJson } from '../http/answer.js';

export type TokenKind = 'reasoning' | 'content';

export interface ChoiceOutput {
  reasoning: string;
  content: string;
  /** The output's token ids in order, reasoning then content (for per-token detail such as logprobs). */
  ids: number[];
  finishReason: FinishReason;
}

/** How one API shapes its frames and bodies. */
export interface Format {
  /**
   * The frame of token `index` (from 0) of one choice: `id` is the token (null in the lone finishing frame of
   * an empty output) and `text` its decoded text. `finish` is set on the choice's last frame; `usage` only when
   * the client asked for running usage.
   */
  token(choice: number, index: number, kind: TokenKind, id: number | null, text: string, finish: FinishReason | null, usage?: Usage): string;
  /**
   * The frame of a token that is neither first nor last, without usage; `json` is its text as a JSON literal.
   * This is the per-token path: it should only join pre-serialized parts.
   */
  middle(choice: number, index: number, kind: TokenKind, id: number, json: string): string;
  /** The frame with the usage after the last token (`stream_options.include_usage`); absent where the API has none. */
  usage?(u: Usage): string;
  /** An error told inside a stream, after the 200 went out. */
  error(e: ApiError): string;
  /** What closes a stream after its last frame: OpenAI's `data: [DONE]`, or nothing where the close alone ends it. */
  readonly done: string;
  /**
   * The events that open a stream before its first token, sent with the 200 (Responses' `response.created`,
   * Anthropic's `message_start`); absent where the first token's frame opens the stream. `prompt` is the usage
   * before any output (its cached tokens known).
   */
  head?(prompt: Usage): string;
  /**
   * The events after a stream's last token, always sent (Responses' `*.done` events and `response.completed`,
   * Anthropic's `message_delta` and `message_stop`); `u` is the whole answer's usage.
   */
  end?(u: Usage): string;
  /** The stream's last frame carries the whole text (TGI's `generated_text`): bound it as a whole answer is. */
  readonly wholeTextAtEnd?: boolean;
  /**
   * Whether an error found after the request was accepted (a fault, a full queue, a refusal of its parameters)
   * is told as the one event of a 200 stream, as TGI tells it, rather than by the status.
   */
  inStream?(e: ApiError): boolean;
  /** The non-streaming body: JSON, or text (a transcript's text, SRT or WebVTT) sent as text/plain. */
  whole(choices: ChoiceOutput[], u: Usage): object | string;
}

export interface Generation {
  /** The requested model: the metrics' model_name. */
  readonly model: string;
  readonly plans: readonly OutputPlan[];
  readonly pieces: TokenPieces;
  readonly promptTokens: number;
  /** Prompt tokens the model computes before its first token, where fewer than all (a prompt cache's read skips its prefix). */
  readonly prefillTokens?: number;
  /** Characters of prompt text that the answer repeats before its output, over all choices (completions' echo). */
  readonly echoed?: number;
  /** Each prompt's token ids as the model sees them: asked for only while prefix caching is on. */
  readonly promptIds?: () => Promise<ReadonlyArray<readonly number[]>>;
  /** Prompt tokens found in the prefix cache (set at admission while prefix caching is on): told in the usage. */
  readonly cachedTokens?: number;
}

export interface StreamOptions {
  includeUsage: boolean;
  continuousUsage: boolean;
}

/** Frames per choice: one per token, and a lone finishing frame for an empty output. */
const framesOf = (p: OutputPlan): number => Math.max(1, totalTokens(p));

function frameCount(g: Generation): number {
  let count = 0;
  for (const p of g.plans) count = Math.max(count, framesOf(p));
  return count;
}

function finalUsage(g: Generation): Usage {
  let completion = 0;
  let reasoning = 0;
  for (const p of g.plans) {
    completion += totalTokens(p);
    reasoning += p.reasoning;
  }
  return usage(g.promptTokens, completion, reasoning, g.cachedTokens);
}

/** Per choice: one decoder for reasoning and one for content, so a character never spans the two. */
function decodersOf(g: Generation): Array<Record<TokenKind, IncrementalDecoder>> {
  return g.plans.map(() => ({ reasoning: new IncrementalDecoder(g.pieces), content: new IncrementalDecoder(g.pieces) }));
}

/** Per-request behaviour forced by headers, for deterministic tests of clients. */
interface Forced {
  error?: ErrorCode;
  ttft?: number;
  itl?: number;
  abortAfter?: number;
}

function forcedBy(ctx: AppContext): Forced {
  // openapi-backend has checked these headers against the contract, and its type coercion turns them into
  // numbers in place: read the raw value, because ctx.get() would map a coerced 0 to '' (absent).
  const num = (name: string): number | undefined => {
    const v = ctx.headers[name] as string | number | undefined;
    return v === undefined || v === '' ? undefined : Number(v);
  };
  return {
    error: num('x-mock-error') as ErrorCode | undefined,
    ttft: num('x-mock-ttft'),
    itl: num('x-mock-itl'),
    abortAfter: num('x-mock-abort-after'),
  };
}

/** Refuses at once an answer too large to make (see model/limits.ts), before any of it is scheduled. */
function checkSize(g: Generation, format: Format, stream: boolean): void {
  const tokens = outputTokens(g.plans);
  const maxTokens = stream ? MAX_STREAM_TOKENS : MAX_WHOLE_TOKENS;
  const how = stream ? 'a streamed' : 'a non-streaming';
  if (tokens > maxTokens) {
    throw badRequest(`The answer would hold ${tokens} tokens over all choices, more than the ${maxTokens} that ${how} answer may hold: lower max_tokens, min_tokens or n.`, null, 'output_too_large');
  }
  // A stream builds only its first frames (with the echo) at once, unless its last frame repeats all the text;
  // a whole answer builds all its text.
  const whole = !stream || format.wholeTextAtEnd === true;
  const bytes = (g.echoed ?? 0) + (whole ? textBytesBound(g.plans, (id) => g.pieces.bytes(id).length) : 0);
  if (bytes > MAX_TEXT_BYTES) {
    throw badRequest(`The answer would hold up to ${bytes} bytes of text, more than the ${MAX_TEXT_BYTES} that ${how} answer may hold: lower max_tokens, min_tokens or n${stream ? '' : ', or stream it'}.`, null, 'output_too_large');
  }
}

/** Runs one inference request to its end: faults, queue, schedule, and the answer. */
export async function respond(ctx: AppContext, deps: Deps, g: Generation, format: Format, stream: StreamOptions | undefined): Promise<void> {
  try {
    checkSize(g, format, stream !== undefined);
    await underFaults(ctx, deps, g.model, g.promptTokens, stream !== undefined, (random, forced, metrics, onEnd) =>
      generate(ctx, deps, g, format, stream, random, forced, metrics, onEnd),
    );
  } catch (err) {
    if (stream === undefined || !errorInStream(ctx, format, err)) throw err;
  }
}

/**
 * Answers `err` as the one event of a 200 stream when the format tells such errors that way (see
 * Format.inStream) and nothing was sent yet; false when the error is left to the status.
 */
export function errorInStream(ctx: AppContext, format: Pick<Format, 'done' | 'error' | 'inStream'>, err: unknown): boolean {
  const e = toApiError(err);
  if (!format.inStream?.(e) || ctx.respond === false || ctx.res.headersSent) return false;
  ctx.respond = false;
  new SseWriter(ctx.res, { 'x-request-id': ctx.state.requestId }, () => undefined, format.done).end(format.error(e));
  return true;
}

/** An answer that is one body, not a token stream (embeddings, rankings, images): built after a latency. */
export interface OnceJob {
  /** The requested model: the metrics' model_name. */
  readonly model: string;
  /** Input tokens, for the metrics and for the wording of an injected context-length error. */
  readonly promptTokens: number;
  /** Milliseconds from admission to the answer (X-Mock-TTFT replaces it). */
  readonly latency: number;
  /** The answer's body, built when the latency has passed. */
  body(): object;
}

/** Runs a one-body request to its end: the same faults, queue, headers, metrics and shutdown as a generation. */
export async function respondOnce(ctx: AppContext, deps: Deps, job: OnceJob): Promise<void> {
  await underFaults(ctx, deps, job.model, job.promptTokens, false, async (_random, forced, metrics, onEnd) => {
    const admitted = await admit(ctx, deps, metrics, job.model, job.promptTokens, onEnd);
    if (!admitted) return;
    try {
      if (!(await waitFor(ctx, admitted.start + (forced.ttft ?? job.latency), metrics, onEnd))) return;
      answerJson(ctx, job.body());
      metrics.finished('stop', performance.now());
    } finally {
      admitted.release();
    }
  });
}

/** One event of a timed stream that is not a token stream (image generation's partial and final images). */
export interface TimedEvent {
  /** When it is due, as a share of the job's latency after admission: from 0 to 1 (the last event's). */
  readonly at: number;
  /** The SSE text of the event, built when it is due. */
  frame(): string;
}

/** A stream of a few timed events: a one-body answer told in parts. */
export interface EventsJob extends Omit<OnceJob, 'body'> {
  /** At least one; the last ends the stream. */
  readonly events: readonly TimedEvent[];
  /** What closes the stream after its last event: '' where the close alone ends it. */
  readonly done: string;
  /** An error told inside the stream after the 200 went out (a shutdown). */
  error(e: ApiError): string;
}

/**
 * Runs a stream of timed events to its end, under the same faults, queue, headers, metrics and shutdown as a
 * generation. Each event leaves at admission + `at` × latency (X-Mock-TTFT replaces the latency), never before.
 */
export async function respondEvents(ctx: AppContext, deps: Deps, job: EventsJob): Promise<void> {
  await underFaults(ctx, deps, job.model, job.promptTokens, true, async (_random, forced, metrics, onEnd) => {
    const admitted = await admit(ctx, deps, metrics, job.model, job.promptTokens, onEnd);
    if (!admitted) return;
    const latency = forced.ttft ?? job.latency;
    let ended = false;
    let sleep: ReturnType<typeof sleepUntil> | undefined;
    const end = (reason: 'stop' | 'abort'): void => {
      if (ended) return;
      ended = true;
      sleep?.cancel();
      admitted.release();
      metrics.finished(reason, performance.now());
    };
    ctx.respond = false;
    const writer = new SseWriter(ctx.res, { 'x-request-id': ctx.state.requestId }, () => end('abort'), job.done);
    onEnd(() => {
      writer.end(job.error(shuttingDown()));
      end('abort');
    });
    writer.flushHeaders();
    // The stream goes on after this function returns (underFaults keeps it in flight until its close).
    void (async () => {
      try {
        for (const [i, event] of job.events.entries()) {
          sleep = sleepUntil(admitted.start + event.at * latency);
          if (!(await sleep.done) || ended) return;
          const frame = event.frame();
          if (i === job.events.length - 1) {
            writer.end(frame);
            end('stop');
          } else {
            writer.write(frame);
          }
        }
      } catch (err) {
        writer.end(job.error(toApiError(err)));
        end('abort');
      }
    })();
  });
}

type Run = (random: Random, forced: Forced, metrics: RequestMetrics, onEnd: (end: () => void) => void) => Promise<void>;

/**
 * The part every inference request shares: the drawn or forced fault, the metrics, and membership of the
 * requests in flight until the answer is over (a streamed answer goes on after `run` returns).
 */
async function underFaults(ctx: AppContext, deps: Deps, model: string, promptTokens: number, stream: boolean, run: Run): Promise<void> {
  const s = ctx.state.settings;
  const forced = forcedBy(ctx);
  const random = requestRandom(s.seed, ctx.state.sequence);
  // Always draw, so a forced error does not shift the draws of what follows.
  const drawn = drawFault(random, s);
  const fault = forced.error ?? drawn;
  // The metrics count every request by endpoint (the path) and kind; an error answer counts by its status.
  const metrics = deps.metrics.request(model, ctx.state.start, ctx.path, stream);
  if (fault !== undefined) throw metrics.failed(faultError(fault, promptTokens));

  // Until the answer is over, a shutdown may end this request early; `ending` is set to how, once known.
  let ending: () => void = () => undefined;
  const done = deps.inflight.add(() => ending());
  try {
    await run(random, forced, metrics, (end) => (ending = end));
  } catch (err) {
    throw metrics.failed(err);
  } finally {
    // A stream's answer goes on after this function returns: it removes itself when it ends.
    // (A client already gone has had its 'close': the stream ended at once.)
    if (!stream || ctx.respond !== false || ctx.res.destroyed) done();
    else ctx.res.once('close', done);
  }
}

/** A request let through the admission queue: its slot, and the origin of its schedule. */
interface Admitted {
  release: Release;
  /** Arrival, or the end of the wait in the queue: the wait adds to the latency. */
  start: number;
}

/**
 * Waits for a slot (max_concurrency, FIFO), and first, for a request to a LoRA adapter, for the adapter to be
 * among the max_loras running ones. Undefined when the client left while waiting; throws the 429 of a full
 * queue, or the 503 of a shutdown that ended the wait.
 */
async function admit(ctx: AppContext, deps: Deps, metrics: RequestMetrics, model: string, promptTokens: number, onEnd: (end: () => void) => void, gate?: Gate): Promise<Admitted | undefined> {
  const s = ctx.state.settings;
  let release: Release;
  let loraRelease: Release | undefined;
  let waiting: AbortSignal | undefined;
  let stopped = false;
  // Only a request that has to wait needs to learn that its client left, or that the server is stopping; a
  // request that waits twice (for its adapter, then for a slot) learns it once.
  const onQueued = (): AbortSignal => {
    if (waiting) return waiting;
    metrics.queued();
    const left = new AbortController();
    const gone = (): void => left.abort(new Error('client closed the connection'));
    if (ctx.req.socket.destroyed) gone();
    else ctx.res.once('close', gone);
    onEnd(() => {
      stopped = true;
      left.abort(new Error('shutting down'));
    });
    return (waiting = left.signal);
  };
  try {
    const adapter = adapterFor(s, model);
    // Those waiting for an adapter count against max_queue with those waiting for a slot.
    if (adapter) loraRelease = await deps.loras.acquire(adapter.name, onQueued, s.max_queue - deps.admission.waiting);
    release = await deps.admission.acquire(onQueued, gate);
  } catch (err) {
    const full = loraRelease === undefined && adapterFor(s, model) !== undefined ? `max_loras ${s.max_loras}` : `max_concurrency ${s.max_concurrency}`;
    loraRelease?.();
    if (err instanceof QueueFull) {
      throw new ApiError(429, `The server is at ${full} with ${s.max_queue} requests waiting.`, null, 'queue_full', 'requests')
        .withHeaders({ 'retry-after': '1' });
    }
    metrics.finished('abort', performance.now());
    if (stopped) throw shuttingDown();
    return undefined;
  }
  const admitted = performance.now();
  metrics.admitted(admitted, promptTokens);
  const slot = release;
  const both: Release = loraRelease
    ? () => {
        slot();
        loraRelease();
      }
    : slot;
  return { release: both, start: waiting ? admitted : ctx.state.start };
}

async function generate(
  ctx: AppContext,
  deps: Deps,
  asked: Generation,
  format: Format,
  stream: StreamOptions | undefined,
  random: Random,
  forced: Forced,
  metrics: RequestMetrics,
  onEnd: (end: () => void) => void,
): Promise<void> {
  const s = ctx.state.settings;
  let g = asked;
  // Prefix caching: the prompt's ids are built (chat: the template's text encoded) only while it is on.
  const ids = s.enable_prefix_caching && g.promptIds ? await g.promptIds() : undefined;
  // The KV cache (enable_kv_cache): the prompt's blocks are a condition of admission; a stream may be
  // preempted later (`preempt` is set once it runs), a whole answer never is.
  let preempt: () => void = () => undefined;
  const claim = s.enable_kv_cache ? claimBlocks(deps, metrics, g.promptTokens, stream ? () => preempt() : undefined) : undefined;
  const admitted = await admit(ctx, deps, metrics, g.model, g.promptTokens, onEnd, claim);
  if (!admitted) return;
  const hold = claim?.hold;
  let release: Release = hold
    ? () => {
        hold.release();
        admitted.release();
      }
    : admitted.release;
  if (ids) {
    // Looked up when the request is scheduled, as vLLM's scheduler does; the hit is prefill not paid.
    let cached = 0;
    for (const one of ids) cached += deps.prefix.lookup(g.model, one);
    cached = Math.min(cached, g.promptTokens);
    metrics.prefixHits(cached);
    g = { ...g, cachedTokens: cached };
  }
  const count = frameCount(g);
  // The prompt tokens computed before the first token: a cached prefix (Anthropic's prompt cache, or the prefix
  // cache) is not computed again.
  const prefill = Math.min(g.prefillTokens ?? g.promptTokens, g.promptTokens - (g.cachedTokens ?? 0));
  let p = pace(s, {
    start: admitted.start,
    promptTokens: prefill,
    count,
    random,
    running: () => deps.admission.running,
    ttft: forced.ttft,
    itl: forced.itl,
  });
  if (stream && s.enable_continuous_batching && forced.ttft === undefined && forced.itl === undefined) {
    // Continuous batching: the stream's tokens come at the ends of the steps of the one step clock, its
    // first after the step that carries its prefill; jitter and load_factor do not apply.
    const sequences = g.plans.length;
    const first = deps.steps.join(admitted.start + s.ttft, sequences, s.ttft_per_input_token * prefill);
    p = batchedPace(deps.steps, first, count);
    const leaveBatch = release;
    let left = false;
    release = () => {
      if (!left) deps.steps.leave(sequences);
      left = true;
      leaveBatch();
    };
  }
  if (!stream) {
    // A whole answer cannot pause: it holds the blocks of its whole output from its admission on.
    hold?.grow(g.promptTokens + outputTokens(g.plans));
    try {
      await respondWhole(ctx, g, format, p, metrics, onEnd);
    } finally {
      release();
    }
    return;
  }
  const abortAt = forced.abortAfter ?? drawAbort(random, s, count);
  const kv = hold ? { hold, resume: resumer(deps, metrics), setPreempt: (f: () => void) => (preempt = f) } : undefined;
  respondStream(ctx, g, format, p, stream, metrics, release, abortAt !== undefined && abortAt < count ? abortAt : undefined, onEnd, deps.slices, kv);
}

/** The claim of the prompt's KV-cache blocks; a prompt larger than the whole cache is refused at once. */
function claimBlocks(deps: Deps, metrics: RequestMetrics, promptTokens: number, preempt: (() => void) | undefined): Claim {
  try {
    return deps.kv.claim(promptTokens, { changed: (d) => metrics.holdBlocks(d), preempt });
  } catch (err) {
    if (!(err instanceof TooLargeForCache)) throw err;
    // vLLM refuses such an engine at start ("The model's max seq len (…) is larger than the maximum number of
    // tokens that can be stored in KV cache (…)"); here kv_cache_tokens may be set below max_model_len, so the
    // one request is refused, in the shape of vLLM's context-length 400.
    throw new ApiError(
      400,
      `This model's KV cache holds ${err.capacityTokens} tokens (kv_cache_tokens in blocks of block_size). However, your request has ${err.promptTokens} input tokens. Please reduce the length of the input messages. (parameter=input_tokens, value=${err.promptTokens})`,
      'input_tokens',
      400,
      'BadRequestError',
    );
  }
}

/** What a stream needs of the KV cache: its hold, and how it waits to be admitted again after a preemption. */
interface StreamKv {
  hold: Hold;
  /**
   * Waits at the head of the queue for the blocks of `tokens` tokens; `preempt` is what a later preemption
   * does. Undefined when the wait was given up (the client left, a shutdown) or can never end.
   */
  resume: (tokens: number, signal: AbortSignal, preempt: () => void) => Promise<{ hold: Hold; release: Release } | undefined>;
  /** Sets what a preemption of the first hold does. */
  setPreempt: (preempt: () => void) => void;
}

function resumer(deps: Deps, metrics: RequestMetrics): StreamKv['resume'] {
  return async (tokens, signal, preempt) => {
    try {
      const claim = claimBlocks(deps, metrics, tokens, preempt);
      const release = await deps.admission.acquire(() => signal, claim, true);
      const hold = claim.hold!;
      return {
        hold,
        release: () => {
          hold.release();
          release();
        },
      };
    } catch {
      return undefined;
    }
  };
}

/**
 * Sleeps until `deadline`; false when the client left first (the request is over) and throws the 503 when
 * a shutdown ended the wait.
 */
async function waitFor(ctx: AppContext, deadline: number, metrics: RequestMetrics, onEnd: (end: () => void) => void): Promise<boolean> {
  const sleep = sleepUntil(deadline);
  // 'close' also comes after a normal answer, when cancelling is a no-op.
  ctx.res.once('close', sleep.cancel);
  let stopped = false;
  onEnd(() => {
    stopped = true;
    sleep.cancel();
  });
  if (await sleep.done) return true;
  metrics.finished('abort', performance.now());
  if (stopped) throw shuttingDown();
  return false;
}

/** Waits out the whole schedule, then answers with the full body (same decoding as the stream). */
async function respondWhole(
  ctx: AppContext,
  g: Generation,
  format: Format,
  p: Pace,
  metrics: RequestMetrics,
  onEnd: (end: () => void) => void,
): Promise<void> {
  // The tokens' deadlines stand for the times they were generated.
  const due = Array.from({ length: p.count }, (_, k) => p.due(k));
  if (!(await waitFor(ctx, due[p.count - 1]!, metrics, onEnd))) return;
  const decoders = decodersOf(g);
  const outputs = g.plans.map((plan, c): ChoiceOutput => {
    const out: ChoiceOutput = { reasoning: '', content: '', ids: [], finishReason: plan.finishReason };
    const total = totalTokens(plan);
    for (let k = 0; k < total; k++) {
      const kind: TokenKind = k < plan.reasoning ? 'reasoning' : 'content';
      const id = tokenAt(plan, k);
      out.ids.push(id);
      out[kind] += decoders[c]![kind].push(id);
    }
    return out;
  });
  const whole = format.whole(outputs, finalUsage(g));
  if (typeof whole === 'string') ctx.body = whole;
  else answerJson(ctx, whole);
  for (let k = 0; k < p.count; k++) metrics.sent(tokensInFrame(g, k), due[k]!);
  metrics.finished(g.plans[0]?.finishReason ?? 'stop', performance.now());
}

/** Tokens carried by frames [from, to) over all choices. */
function tokensInFrames(g: Generation, from: number, to: number): number {
  let n = 0;
  for (const plan of g.plans) {
    const total = totalTokens(plan);
    n += Math.max(0, Math.min(to, total) - Math.min(from, total));
  }
  return n;
}

/**
 * A pace that remembers the deadlines it gave from frame `forget`'s argument on: the clock looks one frame
 * past what it sends, and a drawn pace can only be asked in order.
 */
function rememberingPace(p: Pace): Pace & { forget(below: number): void } {
  const known: number[] = [];
  let first = 0;
  return {
    count: p.count,
    due(k) {
      while (first + known.length <= k) known.push(p.due(first + known.length));
      return known[k - first]!;
    },
    forget(below) {
      if (below <= first) return;
      known.splice(0, Math.min(known.length, below - first));
      first = below;
    },
  };
}

/** Tokens carried by frame k over all choices. */
function tokensInFrame(g: Generation, k: number): number {
  let n = 0;
  for (const plan of g.plans) if (k < totalTokens(plan)) n++;
  return n;
}

const abortError = new ApiError(500, 'The stream was cut on purpose (stream_abort_rate or X-Mock-Abort-After).', null, 'stream_aborted', 'server_error');

/** Frames per write at most when tokens are overdue: bounds what a slow reader leaves buffered (~50 KB). */
const BATCH_FRAMES = 256;

/** Streams the plans: the frames due at one timer tick go out together, in writes of at most BATCH_FRAMES. */
function respondStream(
  ctx: AppContext,
  g: Generation,
  format: Format,
  p: Pace,
  opts: StreamOptions,
  metrics: RequestMetrics,
  release: Release,
  abortAt: number | undefined,
  onEnd: (end: () => void) => void,
  slices: WorkSlices,
  kv?: StreamKv,
): void {
  const decoders = decodersOf(g);
  const s = ctx.state.settings;
  let completion = 0;
  let reasoning = 0;
  let ended = false;
  // With the KV cache: the blocks held now, and the wait of a preempted stream to be admitted again.
  let hold = kv?.hold;
  let releaseNow = release;
  let waiting: AbortController | undefined;
  const end = (reason: 'stop' | 'length' | 'abort'): void => {
    if (ended) return;
    ended = true;
    waiting?.abort(new Error('the stream ended'));
    releaseNow();
    metrics.finished(reason, performance.now());
  };

  ctx.respond = false;
  // A backlog goes out in writes of about BATCH_FRAMES frames, however many choices share a step.
  const maxBatch = Math.max(1, Math.floor(BATCH_FRAMES / g.plans.length));
  // A preempted stream asks again for the deadline of a frame it had looked past: only then remember them.
  const remembered = kv ? rememberingPace(p) : undefined;
  let pace: Pace = remembered ?? p;
  /** The first frame not yet sent. */
  let next = 0;
  const sink: TokenSink = {
    send(from, to) {
      // The per-token path pays for the KV cache only when it is on: one check per write.
      if (hold !== undefined && !hold.grow(g.promptTokens + completion + tokensInFrames(g, from, to))) return false;
      next = to;
      remembered?.forget(to);
      let out = '';
      const cut = abortAt !== undefined && to > abortAt;
      const stop = cut ? abortAt : to;
      const before = completion;
      try {
        for (let k = from; k < stop; k++) {
          for (let c = 0; c < g.plans.length; c++) {
            const plan = g.plans[c]!;
            const frames = framesOf(plan);
            if (k >= frames) continue;
            const total = totalTokens(plan);
            const finish = k === frames - 1 ? plan.finishReason : null;
            let kind: TokenKind = 'content';
            let id: number | null = null;
            if (k < total) {
              kind = k < plan.reasoning ? 'reasoning' : 'content';
              id = tokenAt(plan, k);
              completion++;
              if (kind === 'reasoning') reasoning++;
              // The per-token path: a table lookup for the text and a pre-serialized frame around it.
              if (k !== 0 && finish === null && !opts.continuousUsage) {
                out += format.middle(c, k, kind, id, decoders[c]![kind].pushJson(id));
                continue;
              }
            }
            const text = id !== null ? decoders[c]![kind].push(id) : '';
            const running = opts.continuousUsage ? usage(g.promptTokens, completion, reasoning, g.cachedTokens) : undefined;
            out += format.token(c, k, kind, id, text, finish, running);
          }
        }
      } catch (err) {
        // A failure after the headers can only be told in the stream itself.
        clock.stop();
        writer.end(out + format.error(toApiError(err)));
        end('abort');
        return false;
      }
      const now = performance.now();
      if (stop > from || out !== '') metrics.sent(completion - before, now);
      if (cut) {
        clock.stop();
        if (s.stream_abort_mode === 'close') {
          writer.destroy(out);
        } else {
          writer.end(out + format.error(abortError));
        }
        end('abort');
        return false;
      }
      if (to >= p.count) {
        if (format.end) out += format.end(finalUsage(g));
        writer.end(opts.includeUsage && format.usage ? out + format.usage(finalUsage(g)) : out);
        end(g.plans[0]?.finishReason ?? 'stop');
        return true;
      }
      return writer.write(out);
    },
    pause(resume) {
      writer.onDrain(resume);
    },
  };
  let clock = new TokenClock(pace, sink, slices, maxBatch);
  // Recompute preemption (enable_preemption): the stream pauses, gives back its slot and blocks, and waits
  // at the head of the queue for the blocks of its prompt and of what it sent; once admitted again, its next
  // frame comes after a prefill of all of them: ttft + ttft_per_input_token × (prompt + sent tokens).
  const preempt = (): void => {
    if (ended || kv === undefined) return;
    clock.stop();
    releaseNow();
    hold = undefined;
    metrics.preempted();
    const at = next;
    const tokens = g.promptTokens + completion;
    waiting = new AbortController();
    void kv.resume(tokens, waiting.signal, preempt).then((again) => {
      if (ended) {
        again?.release();
        return;
      }
      if (!again) {
        writer.end(format.error(new ApiError(500, 'The request was preempted and its sequence no longer fits the KV cache.', null, 'kv_cache_exhausted', 'server_error')));
        end('abort');
        return;
      }
      waiting = undefined;
      hold = again.hold;
      releaseNow = again.release;
      metrics.resumed();
      const delay = performance.now() + s.ttft + s.ttft_per_input_token * tokens - pace.due(at);
      if (delay > 0) {
        const before = pace;
        pace = { count: before.count, due: (k) => before.due(k) + delay };
      }
      clock = new TokenClock(pace, sink, slices, maxBatch, at);
      clock.start();
    });
  };
  kv?.setPreempt(preempt);
  const writer = new SseWriter(
    ctx.res,
    { 'x-request-id': ctx.state.requestId },
    () => {
      clock.stop();
      end('abort');
    },
    format.done,
  );
  onEnd(() => {
    clock.stop();
    writer.end(format.error(shuttingDown()));
    end('abort');
  });
  // A first token due now goes out with the headers in one write; otherwise the 200 goes out at once, with the
  // events that open the stream where the API has them.
  if (format.head) writer.write(format.head(usage(g.promptTokens, 0, 0, g.cachedTokens)));
  else if (p.due(0) > performance.now() + 1) writer.flushHeaders();
  clock.start();
}

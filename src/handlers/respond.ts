// Shared by the two completion handlers: runs output plans on their deadlines and writes them, as one JSON
// body or as an SSE stream. The wire shape of each frame comes from a Format (chat or text completion).
import type { Context } from 'koa';
import { IncrementalDecoder, type TokenPieces } from '../model/detokenizer.js';
import { tokenAt, totalTokens, type OutputPlan } from '../model/generation.js';
import { sleepUntil, TokenClock, dueAt, type Schedule } from '../model/timing.js';
import { usage } from '../model/usage.js';
import { SseWriter } from '../http/sse.js';
import { frame } from '../http/frame.js';
import { toApiError } from '../http/errors.js';
import type { FinishReason, Usage } from '../types.js';

export type TokenKind = 'reasoning' | 'content';

export interface ChoiceOutput {
  reasoning: string;
  content: string;
  finishReason: FinishReason;
}

/** How one API shapes its frames and bodies. */
export interface Format {
  /**
   * The frame of one token of one choice. `first` is the choice's first frame, `finish` is set on its last;
   * `usage` only when the client asked for running usage.
   */
  token(choice: number, kind: TokenKind, text: string, first: boolean, finish: FinishReason | null, usage?: Usage): string;
  /** The frame with `choices: []` and the usage, before `[DONE]`. */
  usage(u: Usage): string;
  /** The non-streaming body. */
  whole(choices: ChoiceOutput[], u: Usage): object;
}

export interface Generation {
  readonly plans: readonly OutputPlan[];
  readonly pieces: TokenPieces;
  readonly promptTokens: number;
  /** performance.now() at the request's arrival, and the latencies in force then. */
  readonly start: number;
  readonly ttft: number;
  readonly itl: number;
}

export interface StreamOptions {
  includeUsage: boolean;
  continuousUsage: boolean;
}

/** Frames per choice: one per token, and a lone finishing frame for an empty output. */
const framesOf = (p: OutputPlan): number => Math.max(1, totalTokens(p));

function scheduleOf(g: Generation): Schedule {
  let count = 0;
  for (const p of g.plans) count = Math.max(count, framesOf(p));
  return { start: g.start, ttft: g.ttft, itl: g.itl, count };
}

function finalUsage(g: Generation): Usage {
  let completion = 0;
  let reasoning = 0;
  for (const p of g.plans) {
    completion += totalTokens(p);
    reasoning += p.reasoning;
  }
  return usage(g.promptTokens, completion, reasoning);
}

/** Per choice: one decoder for reasoning and one for content, so a character never spans the two. */
function decodersOf(g: Generation): Array<Record<TokenKind, IncrementalDecoder>> {
  return g.plans.map(() => ({ reasoning: new IncrementalDecoder(g.pieces), content: new IncrementalDecoder(g.pieces) }));
}

/** Waits out the whole schedule, then answers with the full body (same decoding as the stream). */
export async function respondWhole(ctx: Context, g: Generation, format: Format): Promise<void> {
  const schedule = scheduleOf(g);
  const closed = new AbortController();
  ctx.res.once('close', () => closed.abort());
  await sleepUntil(dueAt(schedule, schedule.count - 1), closed.signal);
  if (closed.signal.aborted) return;
  const decoders = decodersOf(g);
  const outputs = g.plans.map((p, c): ChoiceOutput => {
    const out = { reasoning: '', content: '', finishReason: p.finishReason };
    const total = totalTokens(p);
    for (let k = 0; k < total; k++) {
      const kind: TokenKind = k < p.reasoning ? 'reasoning' : 'content';
      out[kind] += decoders[c]![kind].push(tokenAt(p, k));
    }
    return out;
  });
  ctx.body = format.whole(outputs, finalUsage(g));
}

/** Streams the plans: every frame due in one timer tick goes out in one write. */
export function respondStream(ctx: Context, g: Generation, format: Format, opts: StreamOptions): void {
  const schedule = scheduleOf(g);
  const decoders = decodersOf(g);
  let completion = 0;
  let reasoning = 0;
  const headers: Record<string, string> = {};
  const requestId = ctx.response.get('x-request-id');
  if (requestId) headers['x-request-id'] = requestId;

  ctx.respond = false;
  const clock: TokenClock = new TokenClock(schedule, {
    send(from, to) {
      let out = '';
      try {
        for (let k = from; k < to; k++) {
          for (let c = 0; c < g.plans.length; c++) {
            const p = g.plans[c]!;
            const total = totalTokens(p);
            if (k >= framesOf(p)) continue;
            let kind: TokenKind = 'content';
            let text = '';
            if (k < total) {
              kind = k < p.reasoning ? 'reasoning' : 'content';
              text = decoders[c]![kind].push(tokenAt(p, k));
              completion++;
              if (kind === 'reasoning') reasoning++;
            }
            const finish = k === framesOf(p) - 1 ? p.finishReason : null;
            const running = opts.continuousUsage ? usage(g.promptTokens, completion, reasoning) : undefined;
            out += format.token(c, kind, text, k === 0, finish, running);
          }
        }
      } catch (err) {
        // A failure after the headers can only be told in the stream itself.
        clock.stop();
        writer.end(out + frame(toApiError(err).body));
        return false;
      }
      if (to >= schedule.count) {
        writer.end(opts.includeUsage ? out + format.usage(finalUsage(g)) : out);
        return true;
      }
      return writer.write(out);
    },
    pause(resume) {
      writer.onDrain(resume);
    },
  });
  const writer = new SseWriter(ctx.res, headers, () => clock.stop());
  clock.start();
}

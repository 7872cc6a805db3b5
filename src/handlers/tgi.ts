// Hugging Face TGI's generation routes (/generate, /generate_stream, POST /) on the token engine: TGI serves one
// model, named by nothing in the request, so the fallback tokenizer stands for it (as for TEI); the echo of
// `inputs` is capped by `max_new_tokens`, cut by a stop text, and answered in TGI's shapes (wire/tgi.ts).
import { plan, type OutputPlan } from '../model/generation.js';
import { requestRandom } from '../model/random.js';
import {
  checkParameters,
  maxNewTokens,
  promptTokens,
  samples,
  stopAt,
  tgiFormat,
  TGI_STREAM_ERRORS,
} from '../wire/tgi.js';
import { errorInStream, respond, type Format } from './respond.js';
import { tokenizerFor, type Deps } from './deps.js';
import type { AppContext } from '../http/request.js';
import type { TgiCompatGenerateRequest, TgiFinishReason } from '../types.js';

export interface TgiRoute {
  /** Answer as a stream of token events. */
  readonly stream: boolean;
  /** `return_full_text` when the request leaves it out (true on POST /, as TGI sets it for text-generation). */
  readonly fullTextByDefault: boolean;
  /** Answer a whole generation as a one-element array (POST /). */
  readonly wrap: boolean;
}

export async function serveTgi(ctx: AppContext, deps: Deps, route: TgiRoute): Promise<void> {
  try {
    await generate(ctx, deps, route);
  } catch (err) {
    // TGI refuses a streamed request's parameters, and fails it, inside the stream: a 200 with one error event.
    if (route.stream && errorInStream(ctx, TGI_STREAM_ERRORS, err)) return;
    throw err;
  }
}

async function generate(ctx: AppContext, deps: Deps, route: TgiRoute): Promise<void> {
  // Under overload, tokenizing waits its turn so that /health and the streams in flight are served meanwhile.
  await deps.slices.turn();
  const { settings } = ctx.state;
  const body = ctx.state.body as TgiCompatGenerateRequest;
  const p = body.parameters ?? {};
  const sampling = samples(body.parameters);
  checkParameters(p, route.stream, sampling);

  const model = settings.fallback_tokenizer;
  const tokenizer = tokenizerFor(deps, model, settings);
  const prompt = promptTokens(await tokenizer.encodeAsync(body.inputs), body.inputs, p.truncate);
  const cap = maxNewTokens(p.max_new_tokens, prompt.length);
  const minTokens = p.min_tokens ?? body.min_tokens ?? 0;
  let output: OutputPlan = plan(
    { echo: prompt, cap, ignoreEos: (p.ignore_eos ?? body.ignore_eos) === true, minTokens, reasoningTokens: 0 },
    tokenizer,
  );
  let finishReason: TgiFinishReason = output.finishReason === 'length' ? 'length' : 'eos_token';
  const stop = stopAt(output, tokenizer.pieces, p.stop ?? [], minTokens);
  if (stop !== undefined) {
    // The same tokens up to the one that completes the stop text: a shorter plan over the same source.
    output = { ...output, content: stop + 1, finishReason: 'stop' };
    finishReason = 'stop_sequence';
  }

  const details = p.details === true || p.decoder_input_details === true;
  const format: Format = tgiFormat({
    plan: output,
    pieces: tokenizer.pieces,
    finishReason,
    seeds: seedsOf(ctx, sampling ? (p.seed ?? undefined) : null, p.best_of ?? 1),
    prompt,
    details: route.stream ? p.details === true : details,
    decoderInputDetails: p.decoder_input_details === true,
    fullTextPrefix: (p.return_full_text ?? route.fullTextByDefault) ? body.inputs : '',
    wrap: route.wrap,
  });
  const generation = { model, plans: [output], pieces: tokenizer.pieces, promptTokens: prompt.length };
  await respond(ctx, deps, generation, format, route.stream ? { includeUsage: false, continuousUsage: false } : undefined);
}

/**
 * The sampling seed of each of the `count` sequences: the request's, or drawn as TGI draws one (reproducible
 * with the server's seed); null without sampling.
 */
function seedsOf(ctx: AppContext, given: number | null | undefined, count: number): Array<number | null> {
  if (given === null) return Array.from({ length: count }, () => null);
  if (given !== undefined) return [given];
  const s = ctx.state.settings.seed;
  // Its own stream of draws, apart from the request's latency and fault draws.
  const r = requestRandom(s === null ? null : (s ^ 0x54474953) >>> 0, ctx.state.sequence);
  return Array.from({ length: count }, () => Math.floor(r.next() * 2 ** 21) * 2 ** 32 + Math.floor(r.next() * 2 ** 32));
}

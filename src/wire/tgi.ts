// Hugging Face Text Generation Inference on the wire: its stream events and answers (field names and order as
// TGI's router writes them), the checks TGI makes of a request's parameters (with TGI's words), its /info, and
// the Format that puts a generation of the token engine into those shapes.
import { frame } from '../http/frame.js';
import { ApiError } from '../http/errors.js';
import { ERROR_SHAPES } from '../http/errorShapes.js';
import { IncrementalDecoder, type TokenPieces } from '../model/detokenizer.js';
import { tokenAt, totalTokens, type OutputPlan } from '../model/generation.js';
import { MAX_WHOLE_TOKENS } from '../model/limits.js';
import type { Format } from '../handlers/respond.js';
import type {
  TgiDetails,
  TgiFinishReason,
  TgiGenerateParameters,
  TgiGenerateResponse,
  TgiInfo,
  TgiPrefillToken,
  TgiStreamResponse,
  TgiToken,
} from '../types.js';

/** The TGI release whose API this follows (its /info `version`). */
export const TGI_VERSION = '3.3.6';
/** Tokens of prompt and output together: what /info reports and /generate enforces (a whole answer's limit). */
export const MAX_TOTAL_TOKENS = MAX_WHOLE_TOKENS;
/** TGI's default relation of the two limits. */
export const MAX_INPUT_TOKENS = MAX_TOTAL_TOKENS - 1;
/** TGI's defaults for the limits it reports in /info. */
const MAX_BEST_OF = 2;
const MAX_STOP_SEQUENCES = 4;
const MAX_TOP_N_TOKENS = 5;
const MAX_CLIENT_BATCH_SIZE = 4;
const VALIDATION_WORKERS = 2;
/** /info's max_concurrent_requests when nothing limits them (max_concurrency 0): the largest u32. */
const UNLIMITED = 4294967295;
/** TGI's default `max_new_tokens`. */
export const DEFAULT_MAX_NEW_TOKENS = 100;

// ---------------------------------------------------------------------------------------------- logprobs
/**
 * A token's logprob: a fixed negative number per token id, from a table of 64 (most near 0, a few low), so
 * the same token always has the same one and the per-token path only looks one up.
 */
const LOGPROBS: readonly number[] = Array.from({ length: 64 }, (_, i) => -Number((0.002 + 3 * (i / 63) ** 3).toFixed(4)));
const LOGPROB_JSON: readonly string[] = LOGPROBS.map((v) => JSON.stringify(v));
const bucket = (id: number): number => Math.imul(id, 0x9e3779b1) >>> 26;
export const logprobOf = (id: number): number => LOGPROBS[bucket(id)]!;

// ---------------------------------------------------------------------------------------------- checks
/** TGI's refusal of a parameter: "Input validation error: ..." with error_type `validation` (ERROR_SHAPES.tgi). */
const invalid = (message: string, param: string): ApiError => new ApiError(422, message, param, 'validation');

/** What TGI checks of `parameters` before it tokenizes, in TGI's order and words. */
export function checkParameters(p: TgiGenerateParameters, stream: boolean, sampling: boolean): void {
  const bestOf = p.best_of ?? 1;
  if (bestOf > MAX_BEST_OF || bestOf === 0) throw invalid(`\`best_of\` must be > 0 and <= ${MAX_BEST_OF}. Given: ${bestOf}`, 'parameters.best_of');
  if (bestOf > 1) {
    if (stream) throw invalid('`best_of` != 1 is not supported when streaming tokens', 'parameters.best_of');
    if (!sampling) throw invalid('you must use sampling when `best_of` is > 1', 'parameters.best_of');
    if (p.seed != null) throw invalid('`seed` must not be set when `best_of` > 1', 'parameters.seed');
  }
  if (stream && p.decoder_input_details === true) {
    throw invalid('`decoder_input_details` == true is not supported when streaming tokens', 'parameters.decoder_input_details');
  }
  if (p.temperature != null && p.temperature <= 0) throw invalid('`temperature` must be strictly positive', 'parameters.temperature');
  if (p.repetition_penalty != null && p.repetition_penalty <= 0) throw invalid('`repetition_penalty` must be strictly positive', 'parameters.repetition_penalty');
  if (p.frequency_penalty != null && !(p.frequency_penalty >= -2 && p.frequency_penalty <= 2)) {
    throw invalid('`frequency_penalty` must be >= -2.0 and <= 2.0', 'parameters.frequency_penalty');
  }
  if (p.top_p != null && !(p.top_p > 0 && p.top_p < 1)) throw invalid('`top_p` must be > 0.0 and < 1.0', 'parameters.top_p');
  if (p.typical_p != null && !(p.typical_p > 0 && p.typical_p < 1)) throw invalid('`typical_p` must be > 0.0 and < 1.0', 'parameters.typical_p');
  if (p.top_k != null && p.top_k <= 0) throw invalid('`top_k` must be strictly positive', 'parameters.top_k');
  if (p.max_new_tokens === 0) throw invalid('`max_new_tokens` must be strictly positive', 'parameters.max_new_tokens');
  const stops = p.stop?.length ?? 0;
  if (stops > MAX_STOP_SEQUENCES) throw invalid(`\`stop\` supports up to ${MAX_STOP_SEQUENCES} stop sequences. Given: ${stops}`, 'parameters.stop');
  const topN = p.top_n_tokens ?? 0;
  if (topN > MAX_TOP_N_TOKENS) throw invalid(`\`top_n_tokens\` must be >= 0 and <= ${MAX_TOP_N_TOKENS}. Given: ${topN}`, 'parameters.top_n_tokens');
}

/**
 * Whether TGI samples: `do_sample`, or any parameter that reshapes the distribution (a request without
 * `parameters` samples: TGI's defaults for a missing `parameters` set `do_sample`).
 */
export function samples(p: TgiGenerateParameters | undefined): boolean {
  if (p === undefined) return true;
  return (
    p.do_sample === true ||
    (p.temperature != null && p.temperature !== 1) ||
    (p.top_k != null && p.top_k !== 0) ||
    (p.top_p != null && p.top_p < 1) ||
    (p.typical_p != null && p.typical_p < 1)
  );
}

/** The prompt's tokens after `truncate` (TGI keeps the last ones), and the length checks TGI makes of them. */
export function promptTokens(ids: readonly number[], inputs: string, truncate: number | null | undefined): readonly number[] {
  if (inputs === '') throw invalid('`inputs` cannot be empty', 'inputs');
  let kept = ids;
  if (truncate != null) {
    if (truncate === 0 || truncate > MAX_INPUT_TOKENS) {
      throw invalid(`\`truncate\` must be strictly positive and less than ${MAX_INPUT_TOKENS}. Given: ${truncate}`, 'parameters.truncate');
    }
    if (truncate < ids.length) kept = ids.slice(ids.length - truncate);
  }
  if (kept.length > MAX_INPUT_TOKENS) throw invalid(`\`inputs\` must have less than ${MAX_INPUT_TOKENS} tokens. Given: ${kept.length}`, 'inputs');
  return kept;
}

/** `max_new_tokens` as TGI settles it: the default, or (for null) what the total limit leaves; checked against that limit. */
export function maxNewTokens(requested: number | null | undefined, inputLength: number): number {
  const n = requested === undefined ? DEFAULT_MAX_NEW_TOKENS : (requested ?? MAX_TOTAL_TOKENS - inputLength);
  if (inputLength + n > MAX_TOTAL_TOKENS) {
    throw invalid(
      `\`inputs\` tokens + \`max_new_tokens\` must be <= ${MAX_TOTAL_TOKENS}. Given: ${inputLength} \`inputs\` tokens and ${n} \`max_new_tokens\``,
      'parameters.max_new_tokens',
    );
  }
  return n;
}

/**
 * The token after which the text ends with one of `stop` (TGI checks the text so far after each token), if
 * one does from token `from` on (`min_tokens`).
 */
export function stopAt(plan: OutputPlan, pieces: TokenPieces, stop: readonly string[], from: number): number | undefined {
  if (stop.length === 0) return undefined;
  const longest = Math.max(...stop.map((s) => s.length));
  const decoder = new IncrementalDecoder(pieces);
  let tail = '';
  const total = totalTokens(plan);
  for (let k = 0; k < total; k++) {
    tail += decoder.push(tokenAt(plan, k));
    // Only the end of the text can match: keep a window of it.
    if (tail.length > 4 * longest + 64) tail = tail.slice(tail.length - 2 * longest);
    if (k + 1 >= from && stop.some((s) => tail.endsWith(s))) return k;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------- /info
export function tgiInfo(modelId: string, limits: { max_concurrency: number; max_queue: number }): TgiInfo {
  return {
    model_id: modelId,
    model_sha: null,
    model_pipeline_tag: 'text-generation',
    max_concurrent_requests: limits.max_concurrency === 0 ? UNLIMITED : limits.max_concurrency + limits.max_queue,
    max_best_of: MAX_BEST_OF,
    max_stop_sequences: MAX_STOP_SEQUENCES,
    max_input_tokens: MAX_INPUT_TOKENS,
    max_total_tokens: MAX_TOTAL_TOKENS,
    validation_workers: VALIDATION_WORKERS,
    max_client_batch_size: MAX_CLIENT_BATCH_SIZE,
    router: 'text-generation-router',
    version: TGI_VERSION,
    sha: null,
    docker_label: null,
  };
}

// ---------------------------------------------------------------------------------------------- the format
/** One generation as TGI answers it. */
export interface TgiGeneration {
  readonly plan: OutputPlan;
  readonly pieces: TokenPieces;
  readonly finishReason: TgiFinishReason;
  /** The seed of each sequence (best_of of them; the answer's first), null without sampling. */
  readonly seeds: readonly (number | null)[];
  /** The prompt's tokens (after truncate): `input_length`, and `prefill` when asked for. */
  readonly prompt: readonly number[];
  /** `details` (or `decoder_input_details`, which implies it). */
  readonly details: boolean;
  readonly decoderInputDetails: boolean;
  /** `inputs` as sent, put before the text with return_full_text. */
  readonly fullTextPrefix: string;
  /** POST / answers a whole generation as a one-element array. */
  readonly wrap: boolean;
}

/** A stream event's parts around its four varying fields (index, id, text, logprob), serialized once. */
const EVENT_PARTS = slots(
  frame({
    index: 9007199254740991,
    token: { id: 9007199254740990, text: '\u0000slot\u0000', logprob: 9007199254740989, special: false },
    generated_text: null,
    details: null,
  } satisfies TgiStreamResponse),
  ['9007199254740991', '9007199254740990', JSON.stringify('\u0000slot\u0000'), '9007199254740989'],
);

function slots(text: string, markers: readonly string[]): readonly string[] {
  const parts: string[] = [];
  let rest = text;
  for (const m of markers) {
    const at = rest.indexOf(m);
    if (at < 0 || rest.indexOf(m, at + 1) >= 0) throw new Error(`tgi: marker ${m} not found once`);
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + m.length);
  }
  parts.push(rest);
  return parts;
}

const [E0, E1, E2, E3, E4] = EVENT_PARTS as [string, string, string, string, string];

/** Every token of the generation with its text, as TGI's details list them. */
function tokensOf(g: TgiGeneration): TgiToken[] {
  const decoder = new IncrementalDecoder(g.pieces);
  const total = totalTokens(g.plan);
  const out: TgiToken[] = new Array<TgiToken>(total);
  for (let k = 0; k < total; k++) {
    const id = tokenAt(g.plan, k);
    out[k] = { id, text: decoder.push(id), logprob: logprobOf(id), special: false };
  }
  return out;
}

/** The generated text: the tokens' texts laid end to end (what the stream's events carry). */
function textOf(g: TgiGeneration): string {
  const decoder = new IncrementalDecoder(g.pieces);
  const total = totalTokens(g.plan);
  let text = '';
  for (let k = 0; k < total; k++) text += decoder.push(tokenAt(g.plan, k));
  return text;
}

/** The prompt's tokens as TGI's prefill lists them: each decoded alone, the first without a logprob. */
function prefillOf(g: TgiGeneration): TgiPrefillToken[] {
  return g.prompt.map((id, i) => ({
    id,
    text: Buffer.from(g.pieces.bytes(id)).toString('utf8'),
    logprob: i === 0 ? null : logprobOf(id),
  }));
}

/**
 * How a TGI stream tells an error: one event `{error, error_type}` and the close. What TGI refuses or fails
 * once the request is in (its 422, 424 and 429) goes in the stream; what its web framework answers (401, 413,
 * 415, 503) keeps the status.
 */
export const TGI_STREAM_ERRORS: Pick<Format, 'done' | 'error' | 'inStream'> = {
  done: '',
  error: (e) => frame(ERROR_SHAPES.tgi.body(e)),
  inStream: (e) => [422, 424, 429].includes(ERROR_SHAPES.tgi.status?.(e) ?? e.status),
};

export function tgiFormat(g: TgiGeneration): Format {
  const total = totalTokens(g.plan);
  const event = (index: number, id: number, json: string): string => E0 + (index + 1) + E1 + id + E2 + json + E3 + LOGPROB_JSON[bucket(id)] + E4;
  return {
    ...TGI_STREAM_ERRORS,
    wholeTextAtEnd: true,
    middle(_choice, index, _kind, id, json) {
      return event(index, id, json);
    },
    token(_choice, index, _kind, id, text, finish) {
      const tokenId = id ?? 0;
      if (finish === null) return event(index, tokenId, JSON.stringify(text));
      const last: TgiStreamResponse = {
        index: index + 1,
        token: { id: tokenId, text, logprob: logprobOf(tokenId), special: false },
        generated_text: g.fullTextPrefix + textOf(g),
        details: g.details ? { finish_reason: g.finishReason, generated_tokens: total, seed: g.seeds[0] ?? null, input_length: g.prompt.length } : null,
      };
      return frame(last);
    },
    whole(choices): TgiGenerateResponse | TgiGenerateResponse[] {
      const generated_text = g.fullTextPrefix + (choices[0]?.content ?? '');
      const body: TgiGenerateResponse = { generated_text };
      if (g.details) {
        const prefill = g.decoderInputDetails ? prefillOf(g) : [];
        const tokens = tokensOf(g);
        const details: TgiDetails = { finish_reason: g.finishReason, generated_tokens: total, seed: g.seeds[0] ?? null, prefill, tokens };
        // best_of: the other sequences, the same echo with their own seeds.
        if (g.seeds.length > 1) {
          details.best_of_sequences = g.seeds
            .slice(1)
            .map((seed) => ({ generated_text, finish_reason: g.finishReason, generated_tokens: total, seed, prefill, tokens }));
        }
        body.details = details;
      }
      return g.wrap ? [body] : body;
    },
  };
}

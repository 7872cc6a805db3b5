// What OpenAI's image models accept and how they bill, as this server applies it to a request: the model family
// decides the sizes, qualities, `n` and `response_format` allowed, whether the answer streams and carries usage.
// A model that is none of OpenAI's (an open server's diffusion model, AIPerf's default model name) is served
// as a GPT image model that also takes `response_format` and any size, as open OpenAI-compatible servers do.
import { badRequest, type ApiError } from '../http/errors.js';
import type { Background } from './image.js';

export type Family = 'dall-e-2' | 'dall-e-3' | 'gpt-image' | 'other';

export type Quality = 'low' | 'medium' | 'high' | 'standard' | 'hd' | 'auto';

export interface ImageAsk {
  model?: string | null;
  n?: number | null;
  size?: string | null;
  quality?: Quality | null;
  response_format?: 'url' | 'b64_json' | null;
  output_format?: 'png' | 'jpeg' | 'webp' | null;
  output_compression?: number | null;
  background?: 'transparent' | 'opaque' | 'auto' | null;
  moderation?: 'low' | 'auto' | null;
  stream?: boolean | null;
  partial_images?: number | null;
}

/** A request checked against its model's rules, with every default resolved. */
export interface ImagePlan {
  readonly model: string;
  readonly family: Family;
  readonly n: number;
  readonly width: number;
  readonly height: number;
  readonly format: 'url' | 'b64_json';
  readonly background: Background;
  /** The quality the answer reports and bills (GPT image and other models): low, medium or high. */
  readonly quality: 'low' | 'medium' | 'high';
  readonly stream: boolean;
  readonly partialImages: number;
  /** GPT image models (and other models) report usage and the resolved size, quality, background and format. */
  readonly reports: boolean;
}

const DALL_E_2_SIZES = ['256x256', '512x512', '1024x1024'];
const DALL_E_3_SIZES = ['1024x1024', '1792x1024', '1024x1792'];
const GPT_IMAGE_SIZES = ['1024x1024', '1536x1024', '1024x1536', 'auto'];

/** Pixels one request may ask for over all its images: 10 images of 1792x1024 fit, 2^25. */
export const MAX_PIXELS = 2 ** 25;
/** The longest edge an open server's model is drawn at here. */
const MAX_EDGE = 4096;

/** The parameters only the GPT image models take: their presence makes a request without `model` one for gpt-image-1. */
const GPT_ONLY = ['output_format', 'output_compression', 'background', 'moderation', 'stream', 'partial_images'] as const;

export function familyOf(model: string): Family {
  if (model === 'dall-e-2') return 'dall-e-2';
  if (model === 'dall-e-3') return 'dall-e-3';
  if (model.startsWith('gpt-image-') || model === 'chatgpt-image-latest') return 'gpt-image';
  return 'other';
}

/** OpenAI's words for a value outside a list: "Supported values are: 'a', 'b', and 'c'." */
function invalidValue(param: string, value: string, allowed: readonly string[]): ApiError {
  const quoted = allowed.map((v) => `'${v}'`);
  const list = quoted.length > 2 ? `${quoted.slice(0, -1).join(', ')}, and ${quoted.at(-1)!}` : quoted.join(' and ');
  return badRequest(`Invalid value: '${value}'. Supported values are: ${list}.`, param, 'invalid_value');
}

function parseSize(size: string): [number, number] | undefined {
  const m = /^([1-9]\d{0,4})x([1-9]\d{0,4})$/.exec(size);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** gpt-image-2's free sizes: edges multiples of 16, at most 3:1, up to 3840x2160's pixels and a 3840 px edge. */
function gptImage2Size(w: number, h: number): boolean {
  return w % 16 === 0 && h % 16 === 0 && Math.max(w, h) <= 3 * Math.min(w, h) && w * h <= 3840 * 2160 && Math.max(w, h) <= 3840;
}

/** Whether a size (not `auto`) can be drawn for some model: what an image URL may name. */
export const drawableSize = (w: number, h: number): boolean => w >= 1 && h >= 1 && w <= MAX_EDGE && h <= MAX_EDGE;

function resolveSize(family: Family, model: string, asked: string | null | undefined): [number, number] {
  const fallback = family === 'dall-e-2' || family === 'dall-e-3' ? '1024x1024' : 'auto';
  const size = asked ?? fallback;
  const parsed = size === 'auto' ? undefined : parseSize(size);
  switch (family) {
    case 'dall-e-2':
      if (!DALL_E_2_SIZES.includes(size)) throw invalidValue('size', size, DALL_E_2_SIZES);
      break;
    case 'dall-e-3':
      if (!DALL_E_3_SIZES.includes(size)) throw invalidValue('size', size, DALL_E_3_SIZES);
      break;
    case 'gpt-image':
      if (!GPT_IMAGE_SIZES.includes(size) && !(model.startsWith('gpt-image-2') && parsed && gptImage2Size(...parsed))) {
        throw invalidValue('size', size, GPT_IMAGE_SIZES);
      }
      break;
    case 'other':
      if (size !== 'auto' && !(parsed && drawableSize(...parsed))) {
        throw badRequest(`Invalid value: '${size}'. Give 'auto' or WIDTHxHEIGHT, each side from 1 to ${MAX_EDGE} pixels.`, 'size', 'invalid_value');
      }
  }
  // `auto` is square: what the GPT image models choose for a prompt that asks for no shape.
  return parsed ?? [1024, 1024];
}

/** Checks a request against its model's rules (OpenAI's errors and words) and resolves every default. */
export function planImages(ask: ImageAsk): ImagePlan {
  // `stream: false` is every model's default: only a stream asked for counts.
  const gptOnly = GPT_ONLY.some((p) => (p === 'stream' ? ask.stream === true : ask[p] != null));
  // OpenAI: dall-e-2 unless a parameter only the GPT image models take is given.
  const model = ask.model ?? (gptOnly ? 'gpt-image-1' : 'dall-e-2');
  const family = familyOf(model);
  const dallE = family === 'dall-e-2' || family === 'dall-e-3';
  const n = ask.n ?? 1;
  if (family === 'dall-e-3' && n !== 1) throw badRequest('Invalid value for n: dall-e-3 only supports n=1.', 'n', 'invalid_value');
  if (family === 'gpt-image' && ask.response_format != null) {
    throw badRequest("Unknown parameter: 'response_format'.", 'response_format', 'unknown_parameter');
  }
  if (dallE && ask.stream === true) throw badRequest(`Streaming is not supported for ${model}: only the GPT image models stream.`, 'stream', 'invalid_value');
  const quality = ask.quality ?? 'auto';
  if (family === 'dall-e-2' && quality !== 'standard' && quality !== 'auto') throw invalidValue('quality', quality, ['standard', 'auto']);
  if (family === 'dall-e-3' && !['standard', 'hd', 'auto'].includes(quality)) throw invalidValue('quality', quality, ['standard', 'hd', 'auto']);
  if (family === 'gpt-image' && !['low', 'medium', 'high', 'auto'].includes(quality)) throw invalidValue('quality', quality, ['low', 'medium', 'high', 'auto']);
  const outputFormat = ask.output_format ?? 'png';
  if (outputFormat !== 'png') {
    throw badRequest(`output_format '${outputFormat}' is not made by this mock server: its images are PNG only. Ask for 'png' (the default).`, 'output_format', 'unsupported_value');
  }
  const [width, height] = resolveSize(family, model, ask.size);
  if (n * width * height > MAX_PIXELS) {
    throw badRequest(`The answer would hold ${n * width * height} pixels (n × width × height), more than the ${MAX_PIXELS} one answer may hold: ask for fewer or smaller images.`, null, 'output_too_large');
  }
  return {
    model,
    family,
    n,
    width,
    height,
    // dall-e answers URLs by default; the GPT image models always base64; open servers (sglang) base64 by default.
    format: ask.response_format ?? (dallE ? 'url' : 'b64_json'),
    background: ask.background === 'transparent' ? 'transparent' : 'opaque',
    quality: billedQuality(quality),
    stream: ask.stream === true,
    partialImages: ask.stream === true ? (ask.partial_images ?? 0) : 0,
    reports: !dallE,
  };
}

/** `auto` is billed and reported as medium; dall-e-3's names map onto the GPT image models' tiers. */
function billedQuality(q: Quality): 'low' | 'medium' | 'high' {
  if (q === 'low' || q === 'medium' || q === 'high') return q;
  return q === 'hd' ? 'high' : 'medium';
}

/**
 * gpt-image-1's output tokens per image (OpenAI's image generation guide, "cost and latency"): square
 * 1024x1024, portrait 1024x1536, landscape 1536x1024, per quality. Another size is billed as the square's count
 * scaled by its area.
 */
export const OUTPUT_TOKENS: Readonly<Record<'low' | 'medium' | 'high', { square: number; portrait: number; landscape: number }>> = {
  low: { square: 272, portrait: 408, landscape: 400 },
  medium: { square: 1056, portrait: 1584, landscape: 1568 },
  high: { square: 4160, portrait: 6240, landscape: 6208 },
};

/** Each streamed partial image adds this many output tokens (OpenAI's image generation guide). */
export const PARTIAL_IMAGE_TOKENS = 100;

export function imageOutputTokens(quality: 'low' | 'medium' | 'high', width: number, height: number): number {
  const t = OUTPUT_TOKENS[quality];
  if (width === 1024 && height === 1024) return t.square;
  if (width === 1024 && height === 1536) return t.portrait;
  if (width === 1536 && height === 1024) return t.landscape;
  return Math.max(1, Math.round((t.square * width * height) / (1024 * 1024)));
}

// POST /v1/embeddings: OpenAI's embeddings API (with NVIDIA NIM's images and fields), and vLLM's chat-shaped
// request (`messages`) on the same path.
import { badRequest } from '../http/errors.js';
import { MAX_FLOATS, embed, modelSalt } from '../model/embedding.js';
import { chatText, rawInputs, tokenizeInputs } from '../model/embeddingInputs.js';
import { IMAGE_TOKENS, embeddingParts, hasImages, imageIds } from '../model/embeddingImages.js';
import { embeddingList } from '../wire/embeddings.js';
import { respondOnce } from './respond.js';
import { tokenizerFor, type Deps, type OperationHandler } from './deps.js';
import type { AppContext } from '../http/request.js';
import type { LoadedTokenizer } from '../model/tokenizers.js';
import type { EmbeddingRequest, EmbeddingTruncate, EncodingFormat } from '../types.js';

export default function createEmbedding(deps: Deps): OperationHandler {
  return async (ctx) => {
    // Under overload, tokenizing waits its turn so that /health and the streams in flight are served meanwhile.
    await deps.slices.turn();
    const body = ctx.state.body as EmbeddingRequest;
    // The contract lets a body with both through its chat shape, without checking `input`.
    if ('input' in body && 'messages' in body) throw badRequest('Give either input or messages, not both.', 'messages');
    const tokenizer = tokenizerFor(deps, body.model, ctx.state.settings);
    const job = { model: body.model, format: body.encoding_format, dimensions: body.dimensions };
    if (!('input' in body)) {
      await serveEmbeddings(ctx, deps, tokenizer, { ...job, inputs: [chatText(tokenizer, body.messages)] });
      return;
    }
    // NIM's request: images among the inputs, and its fields.
    const parts = embeddingParts(rawInputs(body.input), body.modality);
    if (body.input_type === 'query' && hasImages(parts)) {
      throw badRequest('input_type: images are passages; embed them with input_type passage, or without input_type.', 'input_type');
    }
    await serveEmbeddings(ctx, deps, tokenizer, {
      ...job,
      inputs: parts.map((p) => p.text),
      images: parts.map((p) => p.image),
      truncate: body.truncate,
    });
  };
}

export interface EmbeddingJob {
  model: string;
  /** Texts, or token ids. */
  inputs: ReadonlyArray<string | readonly number[]>;
  format: EncodingFormat | undefined;
  dimensions: number | null | undefined;
  /** Each input's image data URL, or null (NIM's text_image and image inputs); none when absent. */
  images?: ReadonlyArray<string | null>;
  truncate?: EmbeddingTruncate | undefined;
}

/** Tokenizes and embeds every input, then answers after the embeddings latency, as a one-body answer. */
export async function serveEmbeddings(ctx: AppContext, deps: Deps, tokenizer: LoadedTokenizer, job: EmbeddingJob): Promise<void> {
  const s = ctx.state.settings;
  const dims = job.dimensions ?? s.embedding_dimensions;
  if (dims > s.embedding_dimensions) {
    throw badRequest(`dimensions: must be at most ${s.embedding_dimensions}, the length of this server's embeddings (embedding_dimensions).`, 'dimensions');
  }
  // Refused before any work: the answer's size follows from the request alone.
  const floats = job.inputs.length * dims;
  if (floats > MAX_FLOATS) {
    throw badRequest(`The answer would hold ${floats} numbers (inputs × dimensions), more than the ${MAX_FLOATS} one answer may hold: send fewer inputs or ask for fewer dimensions.`, null, 'output_too_large');
  }
  const turn = (): Promise<void> => deps.slices.turn();
  const reserved = job.images?.map((image) => (image === null ? 0 : IMAGE_TOKENS));
  const ids = await tokenizeInputs(tokenizer, job.inputs, turn, { truncate: job.truncate, ...(reserved ? { reserved } : {}) });
  const salt = modelSalt(job.model);
  const vectors: Float32Array[] = [];
  let promptTokens = 0;
  for (let i = 0; i < ids.length; i++) {
    await turn();
    const image = job.images?.[i] ?? null;
    // An image's stand-in ids join the text's, so a text with an image is near both the text and the image.
    const one = image === null ? ids[i]! : [...ids[i]!, ...imageIds(image)];
    vectors.push(embed(one, dims, salt));
    promptTokens += one.length;
  }
  await respondOnce(ctx, deps, {
    model: job.model,
    promptTokens,
    latency: s.embedding_base_latency + s.embedding_per_input_latency * job.inputs.length,
    body: () => embeddingList(job.model, vectors, job.format ?? 'float', promptTokens),
  });
}

// The embeddings answer as OpenAI writes it (`object`, `data`, `model`, `usage`, in that order), from vectors
// already made by model/embedding.ts.
import { toBase64 } from '../model/embedding.js';
import type { EmbeddingResponse, EncodingFormat } from '../types.js';

/**
 * One entry per vector, in input order. `float` writes each float32 value as the number it is (as vLLM does),
 * so the numbers equal what a client decodes from `base64`.
 */
export function embeddingList(model: string, vectors: readonly Float32Array[], format: EncodingFormat, promptTokens: number): EmbeddingResponse {
  return {
    object: 'list',
    data: vectors.map((v, index) => ({
      object: 'embedding',
      index,
      embedding: format === 'base64' ? toBase64(v) : Array.from(v),
    })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

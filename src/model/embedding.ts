// Embedding vectors: deterministic unit vectors made from an input's token ids, with no model behind them.
//
// Each distinct token id has its own pseudo-random vector (coordinate k is a hash of the id, the model and k);
// an input's vector is the sum of its tokens' vectors, each times its count, plus a smaller vector drawn from
// the whole id sequence, normalized. So the same input always gives the same vector (no state, no seed), texts
// that share tokens point the same way (as a retrieval test expects of real embeddings), and inputs that differ
// only in order still differ. The sequence part is weighted by the bag's expected length, never by its actual
// norm: every coordinate is then independent of the vector's length, so the vector of `dimensions` d is exactly
// the first d coordinates of the full one, normalized again (OpenAI's shortening of its embeddings).
//
// Cost: one pass over the ids, then (distinct ids + 1) × dimensions hashes.

/** Inputs in one request, as OpenAI allows. */
export const MAX_INPUTS = 2048;
/** Tokens of one input (OpenAI's embedding models). */
export const MAX_INPUT_TOKENS = 8192;
/** Tokens of all inputs of one request (OpenAI's max_tokens_per_request). */
export const MAX_REQUEST_TOKENS = 300_000;
/**
 * Numbers in one answer (inputs × dimensions): 2,048 inputs of 2,048 dimensions. As JSON floats that is about
 * 85 MB, built at once; beyond it the request is refused rather than the process put at risk.
 */
export const MAX_FLOATS = 2 ** 22;

/** The order part's weight against the bag of tokens: inputs that differ only in order have a cosine of ~0.94. */
const ORDER_WEIGHT = 0.25;

/** MurmurHash3's 32-bit finalizer: a bijection that spreads every input bit over the whole word. */
function fmix32(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

const GOLDEN = 0x9e3779b9;

/** A model's salt (FNV-1a of its name): each model has its own vectors, as real embedding models do. */
export function modelSalt(model: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < model.length; i++) h = Math.imul(h ^ model.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

/** Adds `weight` times the pseudo-random vector of `seed` (coordinates uniform in [-1, 1)) to `acc`. */
function addVector(acc: Float64Array, seed: number, weight: number): void {
  for (let k = 0; k < acc.length; k++) acc[k]! += weight * (fmix32((seed + Math.imul(k, GOLDEN)) | 0) / 2147483648);
}

/** The unit vector of one input's token ids, `dims` long, in `model`'s space (`salt` from modelSalt). */
export function embed(ids: readonly number[], dims: number, salt: number): Float32Array {
  const counts = new Map<number, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  const acc = new Float64Array(dims);
  let squares = 0;
  for (const [id, n] of counts) {
    addVector(acc, fmix32(Math.imul(id + 1, GOLDEN) ^ salt), n);
    squares += n * n;
  }
  // The sequence's seed: FNV-1a over the ids, so an input and any reordering of it get different ones.
  let h = 0x811c9dc5 ^ salt;
  for (const id of ids) h = Math.imul(h ^ fmix32(id), 0x01000193);
  // The bag's expected norm is sqrt(squares × dims / 3); its share of every coordinate is what counts.
  addVector(acc, fmix32(h ^ ids.length), ORDER_WEIGHT * Math.sqrt(squares));
  return unit(acc);
}

/** `v` scaled to length 1, as float32 (the wire's precision); a zero vector (never made) becomes the first axis. */
function unit(v: Float64Array): Float32Array {
  let sum = 0;
  for (let k = 0; k < v.length; k++) sum += v[k]! * v[k]!;
  const out = new Float32Array(v.length);
  if (sum === 0) {
    out[0] = 1;
    return out;
  }
  const scale = 1 / Math.sqrt(sum);
  for (let k = 0; k < v.length; k++) out[k] = v[k]! * scale;
  return out;
}

/** A vector as OpenAI's `base64` encoding: its float32 values as little-endian bytes, in base64. */
export function toBase64(v: Float32Array): string {
  const bytes = Buffer.allocUnsafe(v.length * 4);
  for (let k = 0; k < v.length; k++) bytes.writeFloatLE(v[k]!, k * 4);
  return bytes.toString('base64');
}

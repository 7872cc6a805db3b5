// Images in an embeddings request, as NVIDIA NIM's vision-language embedding models take them: an input is a text,
// an image data URL, or a text then a space then an image data URL (what AIPerf's nim_embeddings type sends). An
// image is never tokenized as text: like the NIM image retrieval fixture, the server reads nothing of the picture
// and treats its URL as the image's identity, so the same image always makes the same vector part.
import { createHash } from 'node:crypto';
import { badRequest } from '../http/errors.js';
import { seeded } from './random.js';
import type { EmbeddingModality, EmbeddingModalityName } from '../types.js';

/** Prompt tokens one image counts for: one image tile of a vision-language embedding model. */
export const IMAGE_TOKENS = 256;

/** A data URL of an image, as NIM takes it: base64 only. */
const IMAGE_URL = /^data:image\/[A-Za-z0-9.+-]+;base64,[A-Za-z0-9+/]+={0,2}$/;
const IMAGE_PREFIX = 'data:image/';

/** One input as the server embeds it: a text (or token ids) and, for an image input, the image's data URL. */
export interface EmbeddingPart {
  text: string | readonly number[];
  image: string | null;
}

/** The inputs split into text and image; a `modality` names each input's kind, else it is inferred. */
export function embeddingParts(inputs: ReadonlyArray<string | readonly number[]>, modality: EmbeddingModality | undefined): EmbeddingPart[] {
  const kinds = modalities(modality, inputs.length);
  return inputs.map((input, i) => part(input, kinds?.[i] ?? null, i));
}

function modalities(modality: EmbeddingModality | undefined, count: number): readonly EmbeddingModalityName[] | null {
  if (modality === undefined || modality === null) return null;
  if (typeof modality === 'string') return new Array<EmbeddingModalityName>(count).fill(modality);
  if (modality.length === 1) return new Array<EmbeddingModalityName>(count).fill(modality[0]!);
  if (modality.length !== count) throw badRequest(`modality: has ${modality.length} items for ${count} inputs; give one for every input, or one for all.`, 'modality');
  return modality;
}

function part(input: string | readonly number[], kind: EmbeddingModalityName | null, i: number): EmbeddingPart {
  if (typeof input !== 'string') {
    if (kind !== null && kind !== 'text') throw badRequest(`input[${i}]: token ids are text, not modality ${kind}.`, `input[${i}]`);
    return { text: input, image: null };
  }
  if (kind === 'text') return { text: input, image: null };
  // The image is the last space-separated word; what comes before it, less that space, is the text.
  const cut = input.lastIndexOf(' ') + 1;
  const last = input.slice(cut);
  const hasImage = last.startsWith(IMAGE_PREFIX);
  if (kind === null && !hasImage) return { text: input, image: null };
  const text = hasImage ? input.slice(0, Math.max(cut - 1, 0)) : input;
  if (!hasImage || !IMAGE_URL.test(last)) {
    throw badRequest(`input[${i}]: an image must be a data URL, data:image/<type>;base64,<data>${kind ? ` (modality ${kind})` : ''}.`, `input[${i}]`);
  }
  if (kind === 'image' && text !== '') throw badRequest(`input[${i}]: modality image takes the image's data URL alone; text and an image are text_image.`, `input[${i}]`);
  if (kind === 'text_image' && text === '') throw badRequest(`input[${i}]: modality text_image takes a text, a space, then the image's data URL.`, `input[${i}]`);
  return { text, image: last };
}

/** Whether any input of these holds an image. */
export const hasImages = (parts: readonly EmbeddingPart[]): boolean => parts.some((p) => p.image !== null);

/** Stand-in token ids for an image (outside any vocabulary), drawn from its URL: the same image, the same ids. */
export function imageIds(url: string): number[] {
  const r = seeded(createHash('sha256').update(url).digest().readUInt32BE(0));
  const ids: number[] = [];
  for (let k = 0; k < IMAGE_TOKENS; k++) ids.push(0x40000000 + Math.floor(r.next() * 0x3fffffff));
  return ids;
}

// OpenAI's image generation answers, from images already planned (model/imageModels.ts) and drawn
// (model/image.ts): the JSON body in OpenAI's field order, and the stream's named events.
import type { ImagePlan } from '../model/imageModels.js';
import type { ImageGenCompletedEvent, ImageGenPartialImageEvent, ImageItem, ImagesResponse, ImagesUsage } from '../types.js';

export function imagesUsage(textTokens: number, outputTokens: number): ImagesUsage {
  return {
    total_tokens: textTokens + outputTokens,
    input_tokens: textTokens,
    output_tokens: outputTokens,
    input_tokens_details: { text_tokens: textTokens, image_tokens: 0 },
  };
}

/** One image as the answer gives it: its base64 bytes or its URL; dall-e-3 adds the prompt it drew. */
export function imageItem(plan: ImagePlan, png: Uint8Array | undefined, url: string | undefined, prompt: string): ImageItem {
  const item: ImageItem = url !== undefined ? { url } : { b64_json: Buffer.from(png ?? new Uint8Array()).toString('base64') };
  if (plan.family === 'dall-e-3') item.revised_prompt = prompt;
  return item;
}

/** The whole answer: dall-e's is `created` and `data` only; the GPT image models' also tell what was made, and the usage. */
export function imagesResponse(plan: ImagePlan, created: number, data: ImageItem[], usage: ImagesUsage): ImagesResponse {
  if (!plan.reports) return { created, data };
  return {
    created,
    data,
    background: plan.background,
    output_format: 'png',
    size: `${plan.width}x${plan.height}`,
    quality: plan.quality,
    usage,
  };
}

/** SSE with the event's name in an `event:` line, as OpenAI streams images (and no `[DONE]`). */
const named = (payload: { type: string }): string => `event: ${payload.type}\ndata: ${JSON.stringify(payload)}\n\n`;

function head(plan: ImagePlan, b64: string, createdAt: number) {
  return {
    b64_json: b64,
    created_at: createdAt,
    size: `${plan.width}x${plan.height}`,
    quality: plan.quality,
    background: plan.background,
    output_format: 'png' as const,
  };
}

export function partialImageEvent(plan: ImagePlan, png: Uint8Array, index: number, createdAt: number): string {
  const e: ImageGenPartialImageEvent = { type: 'image_generation.partial_image', ...head(plan, Buffer.from(png).toString('base64'), createdAt), partial_image_index: index };
  return named(e);
}

export function completedEvent(plan: ImagePlan, png: Uint8Array, createdAt: number, usage: ImagesUsage): string {
  const e: ImageGenCompletedEvent = { type: 'image_generation.completed', ...head(plan, Buffer.from(png).toString('base64'), createdAt), usage };
  return named(e);
}

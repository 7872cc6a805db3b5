// POST /v1/images/generations: OpenAI's image generation. The request is checked against its model's rules
// (model/imageModels.ts), the prompt counted with the real tokenizer, the PNGs drawn before the latency starts
// (so drawing does not add to it), then answered as one body (respondOnce) or as timed events (respondEvents).
import { planImages, imageOutputTokens, PARTIAL_IMAGE_TOKENS, type ImagePlan } from '../model/imageModels.js';
import { imageFileName, partialBlocks, pngOf, promptHash, type ImageKey } from '../model/image.js';
import { completedEvent, imageItem, imagesResponse, imagesUsage, partialImageEvent } from '../wire/images.js';
import { requestOrigin } from '../http/origin.js';
import { respondEvents, respondOnce, type TimedEvent } from './respond.js';
import { tokenizerFor, type Deps, type OperationHandler } from './deps.js';
import type { AppContext } from '../http/request.js';
import type { CreateImageRequest, ImageItem } from '../types.js';

export default function createImage(deps: Deps): OperationHandler {
  return async (ctx) => {
    const body = ctx.state.body as CreateImageRequest;
    const plan = planImages(body);
    // Under overload, tokenizing and drawing wait their turn so that /health and the streams in flight go on.
    await deps.slices.turn();
    const s = ctx.state.settings;
    const textTokens = (await tokenizerFor(deps, plan.model, s).encodeAsync(body.prompt)).length;
    const hash = promptHash(body.prompt);
    const keys: ImageKey[] = Array.from({ length: plan.n }, (_, index) => ({ hash, index, width: plan.width, height: plan.height, background: plan.background, block: 1 }));
    const perImage = imageOutputTokens(plan.quality, plan.width, plan.height);
    const created = Math.floor(Date.now() / 1000);
    const latency = s.image_generation_latency * plan.n;
    if (plan.stream) {
      await respondEvents(ctx, deps, {
        model: plan.model,
        promptTokens: textTokens,
        latency,
        events: await streamEvents(deps, plan, keys, created, imagesUsage(textTokens, perImage + PARTIAL_IMAGE_TOKENS * plan.partialImages)),
        done: '',
        error: (e) => `event: error\ndata: ${JSON.stringify({ type: 'error', ...e.body })}\n\n`,
      });
      return;
    }
    const origin = plan.format === 'url' ? imageOrigin(ctx) : undefined;
    const items: ImageItem[] = [];
    for (const key of keys) {
      await deps.slices.turn();
      items.push(origin !== undefined ? imageItem(plan, undefined, `${origin}/v1/images/files/${imageFileName(key)}`, body.prompt) : imageItem(plan, pngOf(key), undefined, body.prompt));
    }
    const usage = imagesUsage(textTokens, perImage * plan.n);
    await respondOnce(ctx, deps, { model: plan.model, promptTokens: textTokens, latency, body: () => imagesResponse(plan, created, items, usage) });
  };
}

/**
 * Each image's partial images spread evenly over its share of the latency, then its completed event at the
 * share's end: image i of n spans [i/n, (i+1)/n]. All are drawn now; only their sending waits.
 */
async function streamEvents(deps: Deps, plan: ImagePlan, keys: readonly ImageKey[], created: number, usage: ReturnType<typeof imagesUsage>): Promise<TimedEvent[]> {
  const events: TimedEvent[] = [];
  const blocks = partialBlocks(plan.partialImages);
  const n = keys.length;
  for (const [i, key] of keys.entries()) {
    for (const [k, block] of blocks.entries()) {
      await deps.slices.turn();
      const png = pngOf({ ...key, block });
      events.push({ at: (i + (k + 1) / (blocks.length + 1)) / n, frame: () => partialImageEvent(plan, png, k, created) });
    }
    await deps.slices.turn();
    const png = pngOf(key);
    events.push({ at: (i + 1) / n, frame: () => completedEvent(plan, png, created, usage) });
  }
  return events;
}

/** Where the URLs point: the origin the client addressed, else this server's own address. */
export function imageOrigin(ctx: AppContext): string {
  const socket = ctx.req.socket;
  const local = socket.localFamily === 'IPv6' ? `[${socket.localAddress}]` : socket.localAddress;
  return requestOrigin(ctx) ?? `${ctx.protocol}://${local}:${socket.localPort}`;
}

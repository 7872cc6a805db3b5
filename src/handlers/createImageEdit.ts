// POST /v1/images/edits: OpenAI's image edit, from a multipart upload. Planned, drawn and answered as image
// generation is (model/imageModels.ts, model/image.ts, respondOnce); the picture is drawn from the prompt and the
// uploaded images' bytes together, so another image under the same prompt gives another picture.
import { createHash } from 'node:crypto';
import { badRequest } from '../http/errors.js';
import { familyOf, imageOutputTokens, planImages } from '../model/imageModels.js';
import { imageFileName, pngOf, promptHash, type ImageKey } from '../model/image.js';
import { imageKind, pngSize } from '../model/uploadedImage.js';
import { imageItem, imagesResponse, imagesUsage } from '../wire/images.js';
import { imageOrigin } from './createImage.js';
import { respondOnce } from './respond.js';
import { tokenizerFor, type Deps, type OperationHandler } from './deps.js';
import type { CreateImageEditRequest, ImageItem } from '../types.js';

export default function createImageEdit(deps: Deps): OperationHandler {
  return async (ctx) => {
    const body = ctx.state.body as CreateImageEditRequest;
    const uploads = (Array.isArray(body.image) ? body.image : body.image === undefined ? [] : [body.image]).map((s) => Buffer.from(s, 'latin1'));
    if (uploads.length === 0) throw badRequest("Missing required parameter: 'image'.", 'image', 'missing_required_parameter');
    for (const [i, b] of uploads.entries()) {
      if (!imageKind(b)) throw badRequest(`image${uploads.length > 1 ? `[${i}]` : ''} is not a PNG, JPEG or WebP image.`, 'image', 'invalid_image_format');
    }
    if (typeof body.mask === 'string' && !imageKind(Buffer.from(body.mask, 'latin1'))) throw badRequest('mask is not a PNG, JPEG or WebP image.', 'mask', 'invalid_image_format');
    if (body.stream === true) throw badRequest('This mock server answers image edits whole: stream is not supported here.', 'stream', 'unsupported_value');
    // An open server's model answers at the first image's size when none is asked (a PNG's header gives it).
    const given = pngSize(uploads[0]!);
    const model = body.model ?? undefined;
    const size = (body.size == null || body.size === 'auto') && model !== undefined && familyOf(model) === 'other' && given ? `${given[0]}x${given[1]}` : body.size;
    const plan = planImages({ ...body, stream: false, size });
    await deps.slices.turn();
    const s = ctx.state.settings;
    const textTokens = (await tokenizerFor(deps, plan.model, s).encodeAsync(body.prompt)).length;
    const images = createHash('sha256');
    for (const b of uploads) images.update(b);
    const hash = promptHash(`${body.prompt}\n${images.digest('hex')}`);
    const keys: ImageKey[] = Array.from({ length: plan.n }, (_, index) => ({ hash, index, width: plan.width, height: plan.height, background: plan.background, block: 1 }));
    const origin = plan.format === 'url' ? imageOrigin(ctx) : undefined;
    const items: ImageItem[] = [];
    for (const key of keys) {
      await deps.slices.turn();
      items.push(origin !== undefined ? imageItem(plan, undefined, `${origin}/v1/images/files/${imageFileName(key)}`, body.prompt) : imageItem(plan, pngOf(key), undefined, body.prompt));
    }
    const usage = imagesUsage(textTokens, imageOutputTokens(plan.quality, plan.width, plan.height) * plan.n);
    const created = Math.floor(Date.now() / 1000);
    await respondOnce(ctx, deps, { model: plan.model, promptTokens: textTokens, latency: s.image_generation_latency * plan.n, body: () => imagesResponse(plan, created, items, usage) });
  };
}

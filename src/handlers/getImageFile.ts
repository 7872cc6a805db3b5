// GET /v1/images/files/{name}: the PNG behind an image URL. The name says what the image is drawn from, so the
// image is drawn again (or found in the cache) here, whichever worker made the answer that named it.
import { ApiError } from '../http/errors.js';
import { parseImageFileName, pngOf } from '../model/image.js';
import { drawableSize } from '../model/imageModels.js';
import type { Deps, OperationHandler } from './deps.js';

export default function getImageFile(deps: Deps): OperationHandler {
  return async (ctx, params) => {
    const key = parseImageFileName(params['name'] ?? '', drawableSize);
    if (!key) throw new ApiError(404, `No image file '${params['name'] ?? ''}' on this server.`, 'name', 'not_found');
    await deps.slices.turn();
    ctx.type = 'image/png';
    ctx.set('cache-control', 'public, max-age=31536000, immutable');
    ctx.body = Buffer.from(pngOf(key));
  };
}

// POST /v1/infer: NVIDIA NIM image retrieval (page elements), as AIPerf's image_retrieval endpoint type sends it
// and the later AIPerf mock answers it. No text: the request counts no prompt tokens.
import { boundingBoxes, urlSizeMb } from '../model/pageElements.js';
import { respondOnce } from './respond.js';
import type { Deps, OperationHandler } from './deps.js';
import type { ImageRetrievalRequest, ImageRetrievalResponse } from '../types.js';

export default function nimImageRetrieval(deps: Deps): OperationHandler {
  return async (ctx) => {
    const body = ctx.state.body as ImageRetrievalRequest;
    const s = ctx.state.settings;
    const images = body.input;
    await respondOnce(ctx, deps, {
      model: body.model ?? 'image-retrieval',
      promptTokens: 0,
      latency: s.image_retrieval_base_latency + s.image_retrieval_per_image_latency * images.length,
      body: (): ImageRetrievalResponse => ({
        data: images.map((img, index) => ({ index, bounding_boxes: boundingBoxes(img.url) })),
        usage: { images_size_mb: Math.round(images.reduce((mb, img) => mb + urlSizeMb(img.url), 0) * 10_000) / 10_000 },
      }),
    });
  };
}

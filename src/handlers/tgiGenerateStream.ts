// POST /generate_stream: Hugging Face TGI's token events, without [DONE] (see tgi.ts).
import { serveTgi } from './tgi.js';
import type { Deps, OperationHandler } from './deps.js';

export default function tgiGenerateStream(deps: Deps): OperationHandler {
  return (ctx) => serveTgi(ctx, deps, { stream: true, fullTextByDefault: false, wrap: false });
}

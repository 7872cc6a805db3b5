// POST /generate: Hugging Face TGI's whole generation (see tgi.ts).
import { serveTgi } from './tgi.js';
import type { Deps, OperationHandler } from './deps.js';

export default function tgiGenerate(deps: Deps): OperationHandler {
  return (ctx) => serveTgi(ctx, deps, { stream: false, fullTextByDefault: false, wrap: false });
}

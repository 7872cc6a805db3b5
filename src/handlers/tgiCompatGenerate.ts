// POST /: Hugging Face TGI's older route, /generate or /generate_stream as `stream` says; a whole answer is a
// one-element array, and return_full_text defaults to true, as TGI sets both for a text-generation model.
import { serveTgi } from './tgi.js';
import type { Deps, OperationHandler } from './deps.js';
import type { TgiCompatGenerateRequest } from '../types.js';

export default function tgiCompatGenerate(deps: Deps): OperationHandler {
  return (ctx) => {
    const stream = (ctx.state.body as TgiCompatGenerateRequest).stream === true;
    return serveTgi(ctx, deps, { stream, fullTextByDefault: true, wrap: !stream });
  };
}

// GET /info: Hugging Face TGI's description of the served model (the fallback tokenizer's) and its limits.
import { tgiInfo } from '../wire/tgi.js';
import type { Deps, OperationHandler } from './deps.js';
import { answerJson } from '../http/answer.js';

export default function tgiGetInfo(_deps: Deps): OperationHandler {
  return (ctx) => {
    const s = ctx.state.settings;
    answerJson(ctx, tgiInfo(s.fallback_tokenizer, s));
  };
}

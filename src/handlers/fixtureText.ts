// Shared by the text-answering AIPerf fixtures (SOLIDO RAG, the custom multimodal API): the chat engine's echo
// of a prompt text in the model's real tokens, on the same latency model (TTFT, then ITL per token), queue,
// faults, X-Mock-* headers and metrics, answered as one JSON body that each API shapes its own way.
import { frame } from '../http/frame.js';
import { plan } from '../model/generation.js';
import { respond, type Format } from './respond.js';
import { tokenizerFor, type Deps } from './deps.js';
import type { AppContext } from '../http/request.js';
import type { Usage } from '../types.js';

export interface FixtureTextJob {
  /** The model: its tokenizer (else the fallback's), and the metrics' model_name. */
  readonly model: string;
  /** What is echoed back; its tokens are the prompt's. */
  readonly prompt: string;
  readonly maxTokens: number | null | undefined;
  readonly ignoreEos: boolean | null | undefined;
  /** The API's answer, from the generated text and the usage. */
  body(text: string, usage: Usage): object;
}

export async function serveFixtureText(ctx: AppContext, deps: Deps, job: FixtureTextJob): Promise<void> {
  // Under overload, tokenizing waits its turn so that /health and the streams in flight are served meanwhile.
  await deps.slices.turn();
  const tokenizer = tokenizerFor(deps, job.model, ctx.state.settings);
  const ids = await tokenizer.encodeAsync(job.prompt);
  const output = plan({ echo: ids, cap: job.maxTokens ?? undefined, ignoreEos: job.ignoreEos === true, minTokens: 0, reasoningTokens: 0 }, tokenizer);
  await respond(ctx, deps, { model: job.model, plans: [output], pieces: tokenizer.pieces, promptTokens: ids.length }, wholeOnly(job), undefined);
}

/** A Format for an API that answers whole only: its frames are never asked for. */
function wholeOnly(job: FixtureTextJob): Format {
  return {
    done: '',
    token: (_c, _i, _k, _id, text) => frame({ text }),
    middle: (_c, _i, _k, _id, json) => `data: {"text":${json}}\n\n`,
    error: (e) => frame(e.body),
    whole: (choices, usage) => job.body((choices[0]?.reasoning ?? '') + (choices[0]?.content ?? ''), usage),
  };
}

// POST /v1/custom-multimodal: the made-up multimodal API of AIPerf's template-endpoint tests, in the later AIPerf
// mock's shapes. The text is the chat engine's echo of the text fragments, so that a client counting its tokens
// agrees with tokens_used.
import { serveFixtureText } from './fixtureText.js';
import type { Deps, OperationHandler } from './deps.js';
import type { CustomMultimodalRequest, CustomMultimodalResponse } from '../types.js';

export default function customMultimodal(deps: Deps): OperationHandler {
  return async (ctx) => {
    const body = ctx.state.body as CustomMultimodalRequest;
    const params = body.inference_params ?? {};
    await serveFixtureText(ctx, deps, {
      // The later mock's names for what is missing: its model and its text.
      model: params.model_id || 'default-model',
      prompt: (body.modality_bundle?.text_fragments ?? []).join(' ') || 'default text',
      maxTokens: params.max_tokens,
      ignoreEos: params.ignore_eos,
      body: (text, usage): CustomMultimodalResponse => ({
        text,
        completion: {
          generated_text: text,
          metadata: { tokens_used: { input: usage.prompt_tokens, output: usage.completion_tokens, total: usage.total_tokens } },
        },
      }),
    });
  };
}

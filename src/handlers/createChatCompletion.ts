// POST /v1/chat/completions: echo the user messages as a chat completion.
import { DONE_FRAME, FrameTemplate, frame } from '../http/frame.js';
import { badRequest } from '../http/errors.js';
import { randomId } from '../http/request.js';
import { plan } from '../model/generation.js';
import { fitContext } from '../model/contextWindow.js';
import { chatEcho, chatPromptIdsAsync, chatPromptTokensAsync } from '../model/prompt.js';
import { respond, type Format, type TokenKind } from './respond.js';
import { tokenizerFor, type Deps, type OperationHandler } from './deps.js';
import type { ChatChunk, ChatDelta, ChatRequest, ChatResponse, ReasoningEffort, Settings } from '../types.js';

export const SYSTEM_FINGERPRINT = 'fp_aiperf_mock';

export default function createChatCompletion(deps: Deps): OperationHandler {
  return async (ctx) => {
    // Under overload, tokenizing waits its turn so that /health and the streams in flight are served meanwhile.
    await deps.slices.turn();
    const { settings } = ctx.state;
    const body = ctx.state.body as ChatRequest;
    if (body.stream_options != null && body.stream !== true) {
      throw badRequest('stream_options is only allowed when stream is true.', 'stream_options');
    }
    const tokenizer = tokenizerFor(deps, body.model, settings);
    const echo = await tokenizer.encodeAsync(chatEcho(body.messages));
    const promptTokens = await chatPromptTokensAsync(tokenizer, body.messages, echo.length);
    const one = plan(
      {
        echo,
        cap: fitContext(promptTokens, body.max_completion_tokens ?? body.max_tokens ?? undefined, settings.max_model_len),
        ignoreEos: body.ignore_eos === true,
        minTokens: body.min_tokens ?? 0,
        reasoningTokens: reasoningTokens(body.reasoning_effort, settings, body.model),
      },
      tokenizer,
    );
    const generation = {
      model: body.model,
      plans: Array.from({ length: body.n ?? 1 }, () => one),
      pieces: tokenizer.pieces,
      promptTokens,
      // Only the prefix cache reads the ids: the template's text is encoded then, and never otherwise.
      promptIds: async () => [await chatPromptIdsAsync(tokenizer, body.messages, echo)],
    };
    const format = chatFormat(randomId('chatcmpl-'), Math.floor(Date.now() / 1000), body.model, settings.reasoning_field);
    const stream =
      body.stream === true
        ? { includeUsage: body.stream_options?.include_usage === true, continuousUsage: body.stream_options?.continuous_usage_stats === true }
        : undefined;
    await respond(ctx, deps, generation, format, stream);
  };
}

/** Model families that reason by default when reasoning_by_model is on (the later AIPerf mock's rule). */
const REASONING_FAMILY = /gpt-oss|qwen3|deepseek-r1/i;

function reasoningTokens(effort: ReasoningEffort | undefined, s: Readonly<Settings>, model: string): number {
  switch (effort) {
    case 'none':
      return 0;
    case 'minimal':
    case 'low':
      return s.reasoning_tokens_low;
    case 'medium':
      return s.reasoning_tokens_medium;
    case 'high':
      return s.reasoning_tokens_high;
    default:
      return s.reasoning_by_model && s.reasoning_tokens === 0 && REASONING_FAMILY.test(model) ? s.reasoning_tokens_medium : s.reasoning_tokens;
  }
}

function chatFormat(id: string, created: number, model: string, reasoningField: Settings['reasoning_field']): Format {
  const head = { id, object: 'chat.completion.chunk' as const, created, model, system_fingerprint: SYSTEM_FINGERPRINT };
  const delta = (kind: TokenKind, text: string): ChatDelta => {
    if (kind === 'content') return { content: text };
    if (reasoningField === 'both') return { reasoning_content: text, reasoning: text };
    return { [reasoningField]: text };
  };
  const chunk = (index: number, d: ChatDelta, finish: ChatChunk['choices'][number]['finish_reason']): ChatChunk => ({
    ...head,
    choices: [{ index, delta: d, logprobs: null, finish_reason: finish }],
  });
  // The frames of tokens that are neither a choice's first nor its last, pre-serialized per choice and kind.
  const templates = new Map<number, FrameTemplate>();
  const template = (index: number, kind: TokenKind): FrameTemplate => {
    const key = index * 2 + (kind === 'content' ? 0 : 1);
    let t = templates.get(key);
    if (!t) {
      t = new FrameTemplate(chunk(index, delta(kind, FrameTemplate.slot()), null));
      templates.set(key, t);
    }
    return t;
  };
  return {
    done: DONE_FRAME,
    middle(choice, _index, kind, _id, json) {
      return template(choice, kind).fillJson(json);
    },
    token(choice, index, kind, _id, text, finish, usage) {
      const first = index === 0;
      if (!first && finish === null && usage === undefined) return template(choice, kind).fill(text);
      const d = delta(kind, text);
      const c = chunk(choice, first ? { role: 'assistant', ...d } : d, finish);
      if (usage) c.usage = usage;
      return frame(c);
    },
    usage(u) {
      const c: ChatChunk = { ...head, choices: [], usage: u };
      return frame(c);
    },
    error: (e) => frame(e.body),
    whole(choices, u): ChatResponse {
      return {
        id,
        object: 'chat.completion',
        created,
        model,
        system_fingerprint: SYSTEM_FINGERPRINT,
        choices: choices.map((c, index) => {
          const reasoning = c.reasoning === '' ? {} : delta('reasoning', c.reasoning);
          return {
            index,
            message: { role: 'assistant', content: c.content, refusal: null, ...reasoning },
            logprobs: null,
            finish_reason: c.finishReason,
          };
        }),
        usage: u,
      };
    },
  };
}

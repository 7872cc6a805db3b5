// POST /v1/chat/completions: echo the user messages as a chat completion.
import { DONE_FRAME, FrameTemplate, frame } from '../http/frame.js';
import { badRequest } from '../http/errors.js';
import { randomId } from '../http/request.js';
import { plan } from '../model/generation.js';
import { fitContext } from '../model/contextWindow.js';
import { chatEcho, chatPromptIdsAsync, chatPromptTokensAsync, lastUserText } from '../model/prompt.js';
import { jsonOutput } from '../model/jsonOutput.js';
import { callTokens } from '../model/toolCall.js';
import { chatToolCalls, toolCallFormat, type ChunkOf } from '../wire/chatTools.js';
import { reasoningTokens } from '../model/reasoning.js';
import { respond, type Format, type TokenKind } from './respond.js';
import { LogprobModel, logprobKey } from '../model/logprobs.js';
import { chatLogprobs, LogprobsFrame, type ChatLogprobsOf } from '../wire/chatLogprobs.js';
import { tokenizerFor, type Deps, type OperationHandler } from './deps.js';
import { toolCallMode } from './toolCallMode.js';
import type { ChatChunk, ChatDelta, ChatRequest, ChatResponse, Settings } from '../types.js';

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
    if (body.top_logprobs != null && body.logprobs !== true) {
      throw badRequest("The 'top_logprobs' parameter is only allowed when 'logprobs' is enabled.", 'top_logprobs');
    }
    const tokenizer = tokenizerFor(deps, body.model, settings);
    // The answer: tool calls when the rule makes them, else JSON when response_format asks for it, else the echo.
    const calls = chatToolCalls(body, toolCallMode(ctx));
    const userEcho = chatEcho(body.messages);
    const json = calls.length === 0 && body.response_format != null ? jsonOutput(body.response_format, userEcho, lastUserText(body.messages)) : undefined;
    const echoIds = await tokenizer.encodeAsync(userEcho);
    const called = calls.length > 0 ? callTokens(calls, (text) => tokenizer.encode(text)) : undefined;
    const echo = called ? called.ids : json !== undefined ? await tokenizer.encodeAsync(json) : echoIds;
    const promptTokens = await chatPromptTokensAsync(tokenizer, body.messages, echoIds.length, body.tools ?? undefined);
    // JSON ends where it ends: repeating it to lengthen the answer would not be JSON any more.
    const structured = called !== undefined || json !== undefined;
    const one = plan(
      {
        echo,
        cap: fitContext(promptTokens, body.max_completion_tokens ?? body.max_tokens ?? undefined, settings.max_model_len),
        ignoreEos: !structured && body.ignore_eos === true,
        minTokens: structured ? 0 : (body.min_tokens ?? 0),
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
      promptIds: async () => [await chatPromptIdsAsync(tokenizer, body.messages, echoIds, body.tools ?? undefined)],
    };
    const logprobs = body.logprobs === true ? chatLogprobs(tokenizer.pieces, new LogprobModel(tokenizer.pieces, logprobKey(body.seed, echo)), body.top_logprobs ?? 0) : undefined;
    const wire = chatWire(randomId('chatcmpl-'), Math.floor(Date.now() / 1000), body.model, settings.reasoning_field, logprobs);
    const format = called ? toolCallFormat(wire.format, calls, called, one.reasoning, wire.chunk) : wire.format;
    const stream =
      body.stream === true
        ? { includeUsage: body.stream_options?.include_usage === true, continuousUsage: body.stream_options?.continuous_usage_stats === true }
        : undefined;
    await respond(ctx, deps, generation, format, stream);
  };
}

function chatWire(id: string, created: number, model: string, reasoningField: Settings['reasoning_field'], logprobs?: ChatLogprobsOf): { format: Format; chunk: ChunkOf } {
  const head = { id, object: 'chat.completion.chunk' as const, created, model, system_fingerprint: SYSTEM_FINGERPRINT };
  const reasoningDelta = (text: string): { reasoning_content?: string; reasoning?: string } => {
    if (reasoningField === 'both') return { reasoning_content: text, reasoning: text };
    return { [reasoningField]: text };
  };
  const delta = (kind: TokenKind, text: string): ChatDelta => (kind === 'content' ? { content: text } : reasoningDelta(text));
  const chunk: ChunkOf = (index, d, finish) => ({
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
  const logprobsFrames = new Map<number, LogprobsFrame>();
  const logprobsFrame = (index: number, kind: TokenKind): LogprobsFrame => {
    const key = index * 2 + (kind === 'content' ? 0 : 1);
    let t = logprobsFrames.get(key);
    if (!t) {
      t = new LogprobsFrame(chunk(index, delta(kind, FrameTemplate.slot()), null));
      logprobsFrames.set(key, t);
    }
    return t;
  };
  const format: Format = {
    done: DONE_FRAME,
    middle(choice, index, kind, tokenId, json) {
      if (logprobs) return logprobsFrame(choice, kind).fill(json, logprobs.json(tokenId, index));
      return template(choice, kind).fillJson(json);
    },
    token(choice, index, kind, tokenId, text, finish, usage) {
      const first = index === 0;
      if (!first && finish === null && usage === undefined && !logprobs) return template(choice, kind).fill(text);
      const d = delta(kind, text);
      if (logprobs) {
        // As vLLM does, the role goes first in a chunk of its own: a client that merges chunks into a snapshot
        // (openai-node's stream helper) would otherwise take the first chunk's logprobs twice.
        const c = chunk(choice, d, finish);
        c.choices[0]!.logprobs = logprobs.of(tokenId === null ? [] : [tokenId], index);
        if (usage) c.usage = usage;
        return first ? frame(chunk(choice, { role: 'assistant', content: '' }, null)) + frame(c) : frame(c);
      }
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
          const reasoning = c.reasoning === '' ? {} : reasoningDelta(c.reasoning);
          return {
            index,
            message: { role: 'assistant', content: c.content, refusal: null, ...reasoning },
            logprobs: logprobs ? logprobs.of(c.ids, 0) : null,
            finish_reason: c.finishReason,
          };
        }),
        usage: u,
      };
    },
  };
  return { format, chunk };
}

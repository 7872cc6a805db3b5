// POST /v1/messages: Anthropic's Messages API on the token engine. The answer is the echo of the user turns,
// or tool calls by the shared rule (src/model/toolCall.ts), after a thinking block when thinking is enabled;
// the cache fields of its usage come from a simulated cache of earlier prompts (src/model/promptCache.ts).
import { badRequest } from '../http/errors.js';
import { randomId } from '../http/request.js';
import { plan } from '../model/generation.js';
import { fitContext } from '../model/contextWindow.js';
import { countInput, messageInput } from '../model/messageInput.js';
import { templateIdsAsync } from '../model/prompt.js';
import { NO_CACHE_USE, PromptCache } from '../model/promptCache.js';
import { callTokens, toolCalls, UnknownTool, type ToolCall, type ToolChoice } from '../model/toolCall.js';
import { SchemaInstanceError } from '../model/schemaInstance.js';
import { messageFormat, thinkingSignature } from '../wire/messages.js';
import { respond } from './respond.js';
import { toolCallMode } from './toolCallMode.js';
import { tokenizerFor, type Deps, type OperationHandler } from './deps.js';
import type { MessageRequest, MessageToolChoice, Settings } from '../types.js';

export default function createMessage(deps: Deps): OperationHandler {
  const cache = new PromptCache();
  return async (ctx) => {
    await deps.slices.turn();
    const { settings } = ctx.state;
    const body = ctx.state.body as MessageRequest;
    ctx.set('request-id', ctx.state.requestId);
    const thinking = thinkingTokens(body, settings);
    const input = messageInput(body.system, body.messages);
    const tokenizer = tokenizerFor(deps, body.model, settings);
    const counted = await countInput(tokenizer, input);

    const calls = callsOf(ctx, body, input.lastUserText, input.afterToolResult);
    const stop = calls.length === 0 ? firstStop(input.echo, body.stop_sequences ?? []) : undefined;
    const tokens = calls.length > 0 ? callTokens(calls, (t) => tokenizer.encode(t)) : undefined;
    const echo = tokens ? tokens.ids : await tokenizer.encodeAsync(stop ? input.echo.slice(0, stop.at) : input.echo);
    const one = plan(
      {
        echo,
        cap: fitContext(counted.tokens, body.max_tokens, settings.max_model_len),
        ignoreEos: false,
        minTokens: 0,
        reasoningTokens: thinking,
      },
      tokenizer,
    );
    const id = randomId('msg_');
    const cached = counted.breakpoints.length > 0 ? cache.use(body.model, counted.breakpoints) : NO_CACHE_USE;
    const format = messageFormat({
      id,
      model: body.model,
      requestId: ctx.state.requestId,
      promptTokens: counted.tokens,
      cache: cached,
      finish: one.finishReason,
      stopSequence: stop && one.finishReason === 'stop' ? stop.sequence : null,
      thinking: one.reasoning > 0,
      signature: thinkingSignature(`${body.model}\u0000${input.echo}\u0000${one.reasoning}`),
      ...(tokens && { calls: { calls, ids: calls.map(() => randomId('toolu_')), tokens } }),
    });
    // A cache read skips the prefill of its prefix: ttft_per_input_token counts the rest only.
    const generation = {
      model: body.model,
      plans: [one],
      pieces: tokenizer.pieces,
      promptTokens: counted.tokens,
      prefillTokens: counted.tokens - cached.read,
      // Only the prefix cache reads the ids; its hit counts as a cache read in the usage (withPrefixHit).
      promptIds: async () => [await templateIdsAsync(tokenizer, input.chat, () => tokenizer.encodeAsync(input.echo))],
    };
    await respond(ctx, deps, generation, format, body.stream === true ? { includeUsage: false, continuousUsage: false } : undefined);
  };
}

/**
 * Thinking tokens: none unless thinking is enabled (or adaptive); then the reasoning_tokens setting
 * (reasoning_tokens_medium when it is 0), at most budget_tokens (max_tokens bounds them in the plan). Anthropic's own checks: a budget, and one below max_tokens.
 */
function thinkingTokens(body: MessageRequest, s: Readonly<Settings>): number {
  const t = body.thinking;
  const tokens = s.reasoning_tokens > 0 ? s.reasoning_tokens : s.reasoning_tokens_medium;
  if (t?.type === 'adaptive') return tokens;
  if (t?.type !== 'enabled') return 0;
  if (t.budget_tokens === undefined) throw badRequest('thinking.budget_tokens: Field required', 'thinking.budget_tokens');
  if (t.budget_tokens >= body.max_tokens) {
    throw badRequest('`max_tokens` must be greater than `thinking.budget_tokens`.', 'max_tokens');
  }
  return Math.min(t.budget_tokens, tokens);
}

function choiceOf(c: MessageToolChoice | undefined, where: string): ToolChoice {
  switch (c?.type) {
    case undefined:
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      if (c.name === undefined || c.name === '') throw badRequest(`${where}.name: Field required`, `${where}.name`);
      return { name: c.name };
  }
}

/** The calls the answer makes by the shared rule; an unknown tool or an input schema it cannot instance is a 400. */
function callsOf(ctx: Parameters<OperationHandler>[0], body: MessageRequest, lastUserText: string, afterToolResult: boolean): ToolCall[] {
  const tools = (body.tools ?? []).map((t) => ({ name: t.name, parameters: t.input_schema }));
  try {
    return toolCalls({
      tools,
      choice: choiceOf(body.tool_choice, 'tool_choice'),
      mode: toolCallMode(ctx),
      parallel: body.tool_choice?.disable_parallel_tool_use !== true,
      lastUserText,
      afterToolResult,
    });
  } catch (err) {
    if (err instanceof UnknownTool) throw badRequest(`tool_choice: ${err.message}`, 'tool_choice.name');
    if (err instanceof SchemaInstanceError) throw badRequest(`tools: an input_schema cannot be instanced: ${err.message}`, 'tools');
    throw err;
  }
}

/** The earliest occurrence of any stop sequence in the echo, and which one. */
function firstStop(echo: string, sequences: readonly string[]): { at: number; sequence: string } | undefined {
  let best: { at: number; sequence: string } | undefined;
  for (const sequence of sequences) {
    const at = echo.indexOf(sequence);
    if (at >= 0 && (best === undefined || at < best.at)) best = { at, sequence };
  }
  return best;
}

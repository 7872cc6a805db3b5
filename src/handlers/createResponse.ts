// POST /v1/responses: the last user text as an OpenAI Responses answer (or the tool calls the rule makes), on
// the same engine, latency model, queue and faults as chat; the wire shape is wire/responses.ts's.
import { ApiError, badRequest } from '../http/errors.js';
import { randomId } from '../http/request.js';
import { plan } from '../model/generation.js';
import { fitContext } from '../model/contextWindow.js';
import { chatPromptTokensAsync, templateIdsAsync, templateMessages } from '../model/prompt.js';
import { reasoningTokens } from '../model/reasoning.js';
import { conversationOf, outputTurns } from '../model/responseInput.js';
import { storedResponses } from '../model/storedResponses.js';
import { callTokens, toolCalls, UnknownTool, type ToolChoice } from '../model/toolCall.js';
import { schemaInstance, SchemaInstanceError } from '../model/schemaInstance.js';
import { ResponsesFormat, type PlannedCalls, type ResponseHead } from '../wire/responses.js';
import { respond } from './respond.js';
import { toolCallMode } from './toolCallMode.js';
import { tokenizerFor, type Deps, type OperationHandler } from './deps.js';
import type { ChatMessage, ResponseRequest, ResponseToolChoice } from '../types.js';

export default function createResponse(deps: Deps): OperationHandler {
  return async (ctx) => {
    await deps.slices.turn();
    const { settings } = ctx.state;
    const body = ctx.state.body as ResponseRequest;
    const earlier = body.previous_response_id != null ? previousConversation(body.previous_response_id) : [];
    const talk = conversationOf(body, earlier);
    const tokenizer = tokenizerFor(deps, body.model, settings);

    const tools = (body.tools ?? []).filter((t) => t.type === 'function' && typeof t.name === 'string');
    let calls: PlannedCalls | undefined;
    try {
      const made = toolCalls({
        tools: tools.map((t) => ({ name: t.name!, parameters: t.parameters ?? null })),
        choice: toolChoice(body.tool_choice),
        mode: toolCallMode(ctx),
        parallel: body.parallel_tool_calls !== false,
        lastUserText: talk.lastUserText,
        afterToolResult: talk.afterToolResult,
      });
      if (made.length > 0) calls = { calls: made, tokens: callTokens(made, (text) => tokenizer.encode(text)) };
    } catch (err) {
      if (err instanceof UnknownTool) throw badRequest(`Tool choice '${err.toolName}' not found in 'tools' parameter.`, 'tool_choice');
      if (err instanceof SchemaInstanceError) throw badRequest(`Invalid schema for function: ${err.message}`, 'tools');
      throw err;
    }

    const echo = calls ? calls.tokens.ids : await tokenizer.encodeAsync(answerText(body, talk.lastUserText));
    const promptTokens = await chatPromptTokensAsync(tokenizer, talk.messages, echo.length);
    const effort = body.reasoning?.effort;
    const one = plan(
      {
        echo,
        cap: fitContext(promptTokens, body.max_output_tokens ?? undefined, settings.max_model_len),
        ignoreEos: false,
        minTokens: 0,
        reasoningTokens: reasoningTokens(effort, settings, body.model),
      },
      tokenizer,
    );
    const head: ResponseHead = {
      id: randomId('resp_'),
      created_at: Math.floor(Date.now() / 1000),
      background: false,
      error: null,
      instructions: body.instructions ?? null,
      max_output_tokens: body.max_output_tokens ?? null,
      model: body.model,
      parallel_tool_calls: body.parallel_tool_calls !== false,
      previous_response_id: body.previous_response_id ?? null,
      reasoning: { effort: effort ?? null, summary: body.reasoning?.summary ?? null },
      service_tier: 'default',
      store: body.store !== false,
      temperature: body.temperature ?? 1,
      text: { format: body.text?.format ?? { type: 'text' } },
      tool_choice: body.tool_choice ?? 'auto',
      tools: body.tools ?? [],
      top_p: body.top_p ?? 1,
      truncation: 'disabled',
      ...(typeof body.user === 'string' ? { user: body.user } : {}),
      metadata: body.metadata ?? {},
    };
    const store = body.store !== false;
    const format = new ResponsesFormat(head, calls, one.content, (r) => {
      if (store) storedResponses.put(r, [...talk.turns, ...outputTurns(r.output)]);
    });
    const generation = {
      model: body.model,
      plans: [one],
      pieces: tokenizer.pieces,
      promptTokens,
      // Only the prefix cache reads the ids (usage.input_tokens_details.cached_tokens tells its hit).
      promptIds: async () => [await templateIdsAsync(tokenizer, templateMessages(talk.messages), () => tokenizer.encodeAsync(talk.lastUserText))],
    };
    await respond(ctx, deps, generation, format, body.stream === true ? { includeUsage: false, continuousUsage: false } : undefined);
  };
}

/** The conversation a stored response leaves; OpenAI's 400 when this process does not hold it. */
function previousConversation(id: string): readonly ChatMessage[] {
  const stored = storedResponses.get(id);
  if (!stored) throw new ApiError(400, `Previous response with id '${id}' not found.`, 'previous_response_id', 'previous_response_not_found');
  return stored.conversation;
}

function toolChoice(choice: ResponseToolChoice | undefined): ToolChoice {
  if (choice == null) return 'auto';
  return typeof choice === 'string' ? choice : { name: choice.name };
}

/** The answer's text: JSON valid against the asked format, else the last user text. */
function answerText(body: ResponseRequest, lastUserText: string): string {
  const format = body.text?.format;
  if (format?.type !== 'json_schema' && format?.type !== 'json_object') return lastUserText;
  try {
    return schemaInstance(format.type === 'json_schema' ? (format.schema ?? {}) : { type: 'object' }, lastUserText);
  } catch (err) {
    if (err instanceof SchemaInstanceError) throw badRequest(`Invalid schema for response_format '${format.name ?? ''}': ${err.message}`, 'text.format.schema');
    throw err;
  }
}

// Tool calls in chat completions: the request's tools and tool_choice mapped onto the shared rule
// (model/toolCall.ts), OpenAI's 400s for what the rule cannot take, and the wire of an answer that calls tools,
// streamed as OpenAI and vLLM stream it: a delta that opens each call (index, id, type, name, empty arguments),
// then one delta per argument token, and finish_reason `tool_calls`.
import { frame, FrameTemplate } from '../http/frame.js';
import { badRequest } from '../http/errors.js';
import { randomId } from '../http/request.js';
import { lastUserText } from '../model/prompt.js';
import { SchemaInstanceError, schemaInstance } from '../model/schemaInstance.js';
import { callAt, toolCalls, UnknownTool, type CallTokens, type ToolCall, type ToolCallMode, type ToolChoice } from '../model/toolCall.js';
import type { ChoiceOutput, Format, TokenKind } from '../handlers/respond.js';
import type { ChatChunk, ChatDelta, ChatFinishReason, ChatRequest, ChatResponse, ChatToolCall, ChatToolCallDelta, FinishReason } from '../types.js';

/** The calls the answer to this request makes (none: it answers in text). Throws OpenAI's 400s. */
export function chatToolCalls(body: ChatRequest, mode: ToolCallMode): ToolCall[] {
  const tools = body.tools ?? [];
  const choice = body.tool_choice ?? undefined;
  if (choice !== undefined && tools.length === 0) {
    throw badRequest("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", 'tool_choice');
  }
  if (tools.length === 0) return [];
  const last = body.messages[body.messages.length - 1];
  const request = {
    tools: tools.map((t) => ({ name: t.function.name, parameters: t.function.parameters ?? null })),
    choice: toolChoice(choice),
    mode,
    parallel: body.parallel_tool_calls !== false,
    lastUserText: lastUserText(body.messages),
    afterToolResult: last?.role === 'tool' || last?.role === 'function',
  };
  try {
    return toolCalls(request);
  } catch (err) {
    if (err instanceof UnknownTool) {
      if (typeof choice === 'object' && choice !== null) throw badRequest(`Tool choice '${err.toolName}' not found in 'tools' parameter.`, 'tool_choice');
      throw badRequest(`X-Mock-Tool-Call names '${err.toolName}', which is not among the request's tools.`, null);
    }
    if (err instanceof SchemaInstanceError) throw badSchema(request.tools, request.lastUserText, err);
    throw err;
  }
}

function toolChoice(choice: ChatRequest['tool_choice']): ToolChoice {
  if (choice === undefined || choice === null) return 'auto';
  return typeof choice === 'string' ? choice : { name: choice.function.name };
}

/** OpenAI's 400 for a tool whose parameters schema cannot be instanced, naming the first such tool. */
function badSchema(tools: ReadonlyArray<{ name: string; parameters: Record<string, unknown> | null }>, seed: string, err: SchemaInstanceError): Error {
  for (const [i, t] of tools.entries()) {
    try {
      schemaInstance(t.parameters ?? { type: 'object' }, `${t.name}\u0000${seed}`);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      return badRequest(`Invalid schema for function '${t.name}': ${why}.`, `tools[${i}].function.parameters`, 'invalid_function_parameters');
    }
  }
  return badRequest(`Invalid schema for function: ${err.message}.`, 'tools', 'invalid_function_parameters');
}

/** What a chat chunk needs besides its delta: the request's id, created, model and fingerprint. */
export type ChunkOf = (choice: number, delta: ChatDelta, finish: ChatFinishReason | null) => ChatChunk;

/**
 * The chat format of an answer that calls tools. Reasoning tokens (which come first), usage, errors and the
 * stream's end are the plain chat format's; the content tokens are the calls' arguments, one token sequence
 * (`tokens`, model/toolCall.ts) that `reasoning` tokens precede in every choice.
 */
export function toolCallFormat(plain: Format, calls: readonly ToolCall[], tokens: CallTokens, reasoning: number, chunkOf: ChunkOf): Format {
  const starts = [0, ...tokens.ends.slice(0, -1)];
  // Each choice calls under its own ids, as n answers of a real model would.
  const ids = new Map<number, string>();
  const idOf = (choice: number, call: number): string => {
    const key = choice * calls.length + call;
    let id = ids.get(key);
    if (id === undefined) {
      id = randomId('call_');
      ids.set(key, id);
    }
    return id;
  };
  const templates = new Map<number, FrameTemplate>();
  const fragmentTemplate = (choice: number, call: number): FrameTemplate => {
    const key = choice * calls.length + call;
    let t = templates.get(key);
    if (!t) {
      t = new FrameTemplate(chunkOf(choice, { tool_calls: [{ index: call, function: { arguments: FrameTemplate.slot() } }] }, null));
      templates.set(key, t);
    }
    return t;
  };
  const finishOf = (finish: FinishReason | null): ChatFinishReason | null => (finish === 'stop' ? 'tool_calls' : finish);

  const token: Format['token'] = (choice, index, kind, id, text, finish, usage) => {
    if (kind === 'reasoning' || id === null) return plain.token(choice, index, kind, id, text, finish, usage);
    const k = index - reasoning;
    const call = callAt(tokens, k);
    let out = '';
    if (k === starts[call]) {
      const open: ChatToolCallDelta = { index: call, id: idOf(choice, call), type: 'function', function: { name: calls[call]!.name, arguments: '' } };
      out += frame(chunkOf(choice, { ...(index === 0 && { role: 'assistant', content: null }), tool_calls: [open] }, null));
    }
    const c = chunkOf(choice, { tool_calls: [{ index: call, function: { arguments: text } }] }, finishOf(finish));
    if (usage) c.usage = usage;
    return out + frame(c);
  };

  return {
    ...plain,
    token,
    middle(choice, index, kind: TokenKind, id, json) {
      if (kind === 'reasoning') return plain.middle(choice, index, kind, id, json);
      const k = index - reasoning;
      const call = callAt(tokens, k);
      if (k === starts[call]) return token(choice, index, kind, id, JSON.parse(json) as string, null);
      return fragmentTemplate(choice, call).fillJson(json);
    },
    whole(choices: ChoiceOutput[], u) {
      const body = plain.whole(choices, u) as ChatResponse;
      body.choices.forEach((out, c) => {
        const text = choices[c]!.content;
        // No argument token made it (a cap of 0, or reasoning up to the cap): the plain answer stands.
        if (text === '') return;
        out.message.content = null;
        out.message.tool_calls = splitCalls(text, calls).map((args, i): ChatToolCall => ({
          id: idOf(c, i),
          type: 'function',
          function: { name: calls[i]!.name, arguments: args },
        }));
        out.finish_reason = finishOf(out.finish_reason as FinishReason) ?? 'tool_calls';
      });
      return body;
    },
  };
}

/**
 * The arguments text of each call that the answer reached, from the decoded content (all calls' arguments in
 * a row): every call but the last is whole; the last one may have been cut by the cap.
 */
export function splitCalls(text: string, calls: readonly ToolCall[]): string[] {
  const out: string[] = [];
  let at = 0;
  for (const [i, c] of calls.entries()) {
    if (at >= text.length) break;
    const end = at + c.arguments.length;
    if (end >= text.length || i === calls.length - 1) {
      out.push(text.slice(at));
      break;
    }
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}

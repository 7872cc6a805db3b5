// Whether an answer calls tools, which ones, and with what arguments: one deterministic rule shared by chat
// completions, Responses and Anthropic Messages (each API maps its own tool shapes and choices onto these).
//
// The rule (documented in openapi.yaml's ToolCallMode and the README's "Tool calls"):
// - a choice of `none` never calls; `required` (Anthropic's `any`) or a named tool always calls;
// - otherwise the mode decides: `auto` calls when the conversation ends with the user's turn and answers in
//   text once tool results come back, `always` calls even then, `never` answers in text;
// - the tools called are those whose names appear in the last user turn (the first tool when none does), only
//   the first of them unless parallel calls are allowed; a named tool (by tool_choice or X-Mock-Tool-Call) is
//   called alone;
// - each call's arguments are an instance of the tool's parameters schema, seeded by the last user turn and
//   the tool's name, so the same prompt always gets the same calls.
import { schemaInstance, type JsonSchema } from './schemaInstance.js';

export interface ToolDefinition {
  readonly name: string;
  /** The JSON Schema of the arguments; absent means any object. */
  readonly parameters?: JsonSchema | null;
}

/** What the request's tool_choice asks, in terms common to the APIs. */
export type ToolChoice = 'none' | 'auto' | 'required' | { readonly name: string };

/** The tool_call setting, or what X-Mock-Tool-Call says: a mode, or the name of a tool to call. */
export type ToolCallMode = 'auto' | 'always' | 'never' | { readonly name: string };

export interface ToolCallRequest {
  readonly tools: readonly ToolDefinition[];
  readonly choice: ToolChoice;
  readonly mode: ToolCallMode;
  /** Whether more than one tool may be called in one answer (parallel_tool_calls). */
  readonly parallel: boolean;
  /** The text of the last user turn: names in it pick the tools, and it seeds the arguments. */
  readonly lastUserText: string;
  /** Whether the conversation ends with tool results rather than the user's turn. */
  readonly afterToolResult: boolean;
}

export interface ToolCall {
  readonly name: string;
  /** The arguments as compact JSON text, valid against the tool's parameters. */
  readonly arguments: string;
}

/** A tool named by tool_choice or X-Mock-Tool-Call that the request does not define. */
export class UnknownTool extends Error {
  constructor(readonly toolName: string) {
    super(`Tool '${toolName}' is not among the request's tools.`);
  }
}

/** The name the mode reads as, when it is one: X-Mock-Tool-Call carries a mode or a tool's name. */
export function parseToolCallMode(value: string): ToolCallMode {
  return value === 'auto' || value === 'always' || value === 'never' ? value : { name: value };
}

/** The calls the answer makes, in order; none means the answer is text. Throws UnknownTool (see above). */
export function toolCalls(req: ToolCallRequest): ToolCall[] {
  const { tools, choice, mode } = req;
  if (tools.length === 0 || choice === 'none') return [];
  const named = typeof choice === 'object' ? choice.name : typeof mode === 'object' ? mode.name : undefined;
  if (named !== undefined) {
    const tool = tools.find((t) => t.name === named);
    if (!tool) throw new UnknownTool(named);
    return [call(tool, req.lastUserText)];
  }
  const calls = choice === 'required' || mode === 'always' || (mode === 'auto' && !req.afterToolResult);
  if (!calls) return [];
  const text = req.lastUserText.toLowerCase();
  const mentioned = tools.filter((t) => t.name !== '' && text.includes(t.name.toLowerCase()));
  const picked = mentioned.length > 0 ? mentioned : [tools[0]!];
  // One call per tool at most: a tool named twice in the tools list is called once.
  const unique = picked.filter((t, i) => picked.findIndex((u) => u.name === t.name) === i);
  return (req.parallel ? unique : unique.slice(0, 1)).map((t) => call(t, req.lastUserText));
}

function call(tool: ToolDefinition, lastUserText: string): ToolCall {
  const schema = tool.parameters ?? { type: 'object' };
  return { name: tool.name, arguments: schemaInstance(schema, `${tool.name}\u0000${lastUserText}`) };
}

/** The calls' arguments as one token sequence (each call's text encoded on its own) and where each call ends. */
export interface CallTokens {
  readonly ids: readonly number[];
  /** ends[i] is the index after call i's last token in `ids`. */
  readonly ends: readonly number[];
}

export function callTokens(calls: readonly ToolCall[], encode: (text: string) => readonly number[]): CallTokens {
  const ids: number[] = [];
  const ends: number[] = [];
  for (const c of calls) {
    for (const id of encode(c.arguments)) ids.push(id);
    ends.push(ids.length);
  }
  return { ids, ends };
}

/** The call that token k (from 0) of a CallTokens sequence belongs to; past the end, the last call. */
export function callAt(tokens: CallTokens, k: number): number {
  const { ends } = tokens;
  let i = 0;
  while (i < ends.length - 1 && k >= ends[i]!) i++;
  return i;
}

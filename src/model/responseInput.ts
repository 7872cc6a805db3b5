// A Responses request's input as the chat turns the model reads: `instructions` as a system turn, the stored
// conversation of `previous_response_id`, then the input items. Prompt tokens are counted on these turns as
// chat counts its messages, so the two APIs agree on the same conversation.
import type { ChatMessage, ResponseInputItem, ResponseOutputItem, ResponseRequest } from '../types.js';

export interface ResponseConversation {
  /** All turns the chat template renders, instructions first. */
  readonly messages: ChatMessage[];
  /** The turns a later response continues from (without the instructions). */
  readonly turns: ChatMessage[];
  /** The text of the last user turn: what the answer echoes, and what picks and seeds tool calls. */
  readonly lastUserText: string;
  /** Whether the conversation ends with tool results rather than the user's turn. */
  readonly afterToolResult: boolean;
}

/** The text of a message's content or a tool's output: a string, or its text parts joined by newlines. */
function textOf(content: ResponseInputItem['content'] | ResponseInputItem['output']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((p) => typeof p.text === 'string' && (p.type === 'input_text' || p.type === 'output_text' || p.type === 'text'))
    .map((p) => p.text!)
    .join('\n');
}

/** One input item as a chat turn; undefined for items that carry no text the model reads (reasoning, references). */
function turnOf(item: ResponseInputItem): ChatMessage | undefined {
  const type = item.type ?? 'message';
  if (type === 'message') return { role: item.role ?? 'user', content: textOf(item.content) };
  if (type === 'function_call') return { role: 'assistant', content: '' };
  if (type === 'function_call_output') return { role: 'tool', content: textOf(item.output) };
  return undefined;
}

export function conversationOf(body: ResponseRequest, earlier: readonly ChatMessage[]): ResponseConversation {
  const input: ResponseInputItem[] = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
  const turns = [...earlier];
  for (const item of input) {
    const t = turnOf(item);
    if (t) turns.push(t);
  }
  const instructions = body.instructions ?? '';
  const messages: ChatMessage[] = instructions !== '' ? [{ role: 'system', content: instructions }, ...turns] : [...turns];
  const lastUser = turns.findLast((t) => t.role === 'user');
  const last = turns.at(-1);
  return {
    messages,
    turns,
    lastUserText: typeof lastUser?.content === 'string' ? lastUser.content : '',
    afterToolResult: last?.role === 'tool',
  };
}

/** A response's output as the turns that follow it in a continued conversation. */
export function outputTurns(output: readonly ResponseOutputItem[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const item of output) {
    if (item.type === 'message') out.push({ role: 'assistant', content: item.content.map((c) => c.text).join('') });
    else if (item.type === 'function_call') out.push({ role: 'assistant', content: '' });
  }
  return out;
}

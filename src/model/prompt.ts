// What the simulated model reads: the echo text of a chat, the messages its chat template sees, and the
// prompts of a legacy completion request.
import type { ChatMessage, Prompt } from '../types.js';
import { ApiError } from '../http/errors.js';
import type { ChatTemplateMessage, ChatTemplateTools, LoadedTokenizer } from './tokenizers.js';

/** A message's text: the string itself, or its text parts joined by newlines (as vLLM joins them). */
export function messageText(message: ChatMessage): string {
  const c = message.content;
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) return '';
  let out = '';
  let first = true;
  for (const part of c) {
    if (part.type !== 'text' || typeof part.text !== 'string') continue;
    out += first ? part.text : `\n${part.text}`;
    first = false;
  }
  return out;
}

/** The echo of a chat: every user message's text, joined by newlines. */
export function chatEcho(messages: readonly ChatMessage[]): string {
  return messages
    .filter((m) => m.role === 'user')
    .map(messageText)
    .join('\n');
}

/** Prompt tokens as the model would see them: chat template with generation prompt, else the echo. */
export function chatPromptTokens(tokenizer: LoadedTokenizer, messages: readonly ChatMessage[], echoTokens: number, tools?: ChatTemplateTools): number {
  try {
    return tokenizer.chatTokens(templateMessages(messages), tools) ?? echoTokens;
  } catch {
    // Some templates refuse some message orders (raise_exception); count the echo then.
    return echoTokens;
  }
}

/** chatPromptTokens, with a large conversation counted off the event loop (LoadedTokenizer.chatTokensAsync). */
export async function chatPromptTokensAsync(
  tokenizer: LoadedTokenizer,
  messages: readonly ChatMessage[],
  echoTokens: number,
  tools?: ChatTemplateTools,
): Promise<number> {
  try {
    return (await tokenizer.chatTokensAsync(templateMessages(messages), tools)) ?? echoTokens;
  } catch (err) {
    // The encode worker's failure fails the request; a template's refusal counts the echo, as above.
    if (err instanceof ApiError) throw err;
    return echoTokens;
  }
}

/** The messages as the template reads them: the text, and the tool calls and call ids as sent (vLLM passes them on). */
export function templateMessages(messages: readonly ChatMessage[]): ChatTemplateMessage[] {
  return messages.map((m) => {
    const out: ChatTemplateMessage = { role: m.role, content: messageText(m) };
    if (m.tool_calls != null && m.tool_calls.length > 0) out.tool_calls = m.tool_calls;
    if (m.tool_call_id !== undefined) out.tool_call_id = m.tool_call_id;
    return out;
  });
}

/** The text of the last user message: it picks the tools an answer calls and seeds their arguments. */
export function lastUserText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.role === 'user') return messageText(messages[i]!);
  return '';
}

/**
 * The prompt's token ids as the model sees them (the chat template's text, encoded), for the prefix cache:
 * built only when it is on. Without a template, or when it refuses the messages, the echo's ids.
 */
export function chatPromptIdsAsync(
  tokenizer: LoadedTokenizer,
  messages: readonly ChatMessage[],
  echo: readonly number[],
  tools?: ChatTemplateTools,
): Promise<readonly number[]> {
  return templateIdsAsync(tokenizer, templateMessages(messages), () => Promise.resolve(echo), tools);
}

/** chatPromptIdsAsync for messages in the template's shape; `fallback` gives the echo's ids, asked only when needed. */
export async function templateIdsAsync(
  tokenizer: LoadedTokenizer,
  messages: ChatTemplateMessage[],
  fallback: () => Promise<readonly number[]>,
  tools?: ChatTemplateTools,
): Promise<readonly number[]> {
  let ids: readonly number[] | undefined;
  try {
    ids = await tokenizer.chatIdsAsync(messages, tools);
  } catch (err) {
    // The encode worker's failure fails the request; a template's refusal of the messages gives the echo's ids.
    if (err instanceof ApiError) throw err;
    ids = undefined;
  }
  return ids ?? fallback();
}

export interface CompletionPrompt {
  /** The prompt's text (token-id prompts are decoded). */
  text: string;
  ids: readonly number[];
}

/** The four shapes of a legacy prompt, as a list of prompts; `turn` is awaited between prompts. */
export async function completionPrompts(tokenizer: LoadedTokenizer, prompt: Prompt, turn: () => Promise<void>): Promise<CompletionPrompt[]> {
  const one = async (p: string | number[]): Promise<CompletionPrompt> =>
    typeof p === 'string' ? { text: p, ids: await tokenizer.encodeAsync(p) } : { text: decodeIds(tokenizer, p), ids: p };
  if (typeof prompt === 'string') return [await one(prompt)];
  if (prompt.length > 0 && typeof prompt[0] === 'number') return [await one(prompt as number[])];
  const out: CompletionPrompt[] = [];
  for (const p of prompt as Array<string | number[]>) {
    await turn();
    out.push(await one(p));
  }
  return out;
}

/** How many prompts a legacy prompt holds (each yields n choices). */
export function promptCount(prompt: Prompt): number {
  if (typeof prompt === 'string' || prompt.length === 0 || typeof prompt[0] === 'number') return 1;
  return prompt.length;
}

/** The first token id of a token-id prompt that is not in the tokenizer's vocabulary, if any. */
export function unknownTokenId(tokenizer: LoadedTokenizer, prompt: Prompt): number | undefined {
  if (typeof prompt === 'string') return undefined;
  for (const p of prompt as Array<string | number | number[]>) {
    if (typeof p === 'number') {
      if (!tokenizer.pieces.has(p)) return p;
    } else if (typeof p !== 'string') {
      for (const id of p) if (!tokenizer.pieces.has(id)) return id;
    }
  }
  return undefined;
}

/** The text of token ids: their bytes joined, then decoded once (a character split over two tokens comes out whole). */
export function decodeIds(tokenizer: LoadedTokenizer, ids: readonly number[]): string {
  return Buffer.concat(ids.map((id) => tokenizer.pieces.bytes(id))).toString('utf8');
}

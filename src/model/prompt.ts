// What the simulated model reads: the echo text of a chat, the messages its chat template sees, and the
// prompts of a legacy completion request.
import type { ChatMessage, Prompt } from '../types.js';
import type { ChatTemplateMessage, LoadedTokenizer } from './tokenizers.js';

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
export function chatPromptTokens(tokenizer: LoadedTokenizer, messages: readonly ChatMessage[], echoTokens: number): number {
  const templateMessages: ChatTemplateMessage[] = messages.map((m) => ({ role: m.role, content: messageText(m) }));
  try {
    return tokenizer.chatTokens(templateMessages) ?? echoTokens;
  } catch {
    // Some templates refuse some message orders (raise_exception); count the echo then.
    return echoTokens;
  }
}

export interface CompletionPrompt {
  /** The prompt's text (token-id prompts are decoded). */
  text: string;
  ids: readonly number[];
}

/** The four shapes of a legacy prompt, as a list of prompts. */
export function completionPrompts(tokenizer: LoadedTokenizer, prompt: Prompt): CompletionPrompt[] {
  const one = (p: string | number[]): CompletionPrompt =>
    typeof p === 'string' ? { text: p, ids: tokenizer.encode(p) } : { text: decodeIds(tokenizer, p), ids: p };
  if (typeof prompt === 'string') return [one(prompt)];
  if (prompt.length > 0 && typeof prompt[0] === 'number') return [one(prompt as number[])];
  return (prompt as Array<string | number[]>).map(one);
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

function decodeIds(tokenizer: LoadedTokenizer, ids: readonly number[]): string {
  return Buffer.concat(ids.map((id) => tokenizer.pieces.bytes(id))).toString('utf8');
}

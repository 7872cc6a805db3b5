// What the simulated model reads of an Anthropic Messages request: the chat messages its chat template sees
// (system, then each turn's text, tool calls and tool results), the echo (the user turns' text), the inputs of
// the tool-call rule, and where each cache_control breakpoint falls in the rendered prompt.
import { ApiError, badRequest } from '../http/errors.js';
import type { ChatTemplateMessage, LoadedTokenizer } from './tokenizers.js';
import type { Breakpoint, CacheTtl } from './promptCache.js';
import type { MessageCacheControl, MessageContentBlockParam, MessageParam, MessageSystem } from '../types.js';

/** A breakpoint before rendering: the chat message it falls in, and the length of that message's text through its block. */
interface Mark {
  readonly message: number;
  readonly end: number;
  readonly ttl: CacheTtl;
}

export interface MessageInput {
  /** The conversation as the chat template reads it. */
  readonly chat: ChatTemplateMessage[];
  /** The user turns' text (text blocks and tool results), joined by newlines: what the answer repeats. */
  readonly echo: string;
  /** The text blocks of the last user turn: names in it pick the tools, and it seeds their input. */
  readonly lastUserText: string;
  /** Whether the last turn returns tool results. */
  readonly afterToolResult: boolean;
  readonly marks: readonly Mark[];
}

/** Anthropic's limit of cache_control blocks in one request (which also bounds the prefixes counted). */
const MAX_BREAKPOINTS = 4;

type Block = Exclude<MessageContentBlockParam, string>;

const blocksOf = (content: MessageParam['content']): readonly Block[] => (typeof content === 'string' ? [{ type: 'text', text: content }] : content);

function ttlOf(c: MessageCacheControl | undefined): CacheTtl | undefined {
  return c === undefined ? undefined : (c.ttl ?? '5m');
}

/** A tool result's content as text: the string, or its text blocks joined by newlines. */
function toolResultText(block: Block): string {
  const c = (block as { content?: string | Block[] }).content;
  if (c === undefined) return '';
  if (typeof c === 'string') return c;
  return c.flatMap((b) => (b.type === 'text' ? [(b as { text: string }).text] : [])).join('\n');
}

/** A tool call as Qwen-style chat templates write them in an assistant turn. */
function toolUseText(block: Block): string {
  const b = block as { name: string; input: unknown };
  return `<tool_call>\n${JSON.stringify({ name: b.name, arguments: b.input })}\n</tool_call>`;
}

function refuse(block: Block, where: string): never {
  throw badRequest(`${where}: '${block.type}' blocks are not supported by this mock server (it answers text, thinking and tool blocks only).`, where);
}

/** Maps a request's system and messages; throws a 400 for a block kind it does not read (images, documents). */
export function messageInput(system: MessageSystem | undefined, messages: readonly MessageParam[]): MessageInput {
  const chat: ChatTemplateMessage[] = [];
  const marks: Mark[] = [];
  const echo: string[] = [];
  // Texts of one chat message in the making, joined by newlines.
  let role = '';
  let parts: string[] = [];
  let length = 0;
  const flush = (): void => {
    if (parts.length > 0) chat.push({ role, content: parts.join('\n') });
    parts = [];
    length = 0;
  };
  const add = (r: string, text: string, cache: MessageCacheControl | undefined): void => {
    if (r !== role || r === 'tool') flush();
    role = r;
    length += (parts.length > 0 ? 1 : 0) + text.length;
    parts.push(text);
    const ttl = ttlOf(cache);
    if (ttl) marks.push({ message: chat.length, end: length, ttl });
  };

  if (typeof system === 'string') {
    if (system !== '') add('system', system, undefined);
  } else if (system) {
    for (const b of system) add('system', b.text, b.cache_control);
  }
  let lastUserText = '';
  let afterToolResult = false;
  for (const [i, m] of messages.entries()) {
    const texts: string[] = [];
    let results = false;
    for (const [j, block] of blocksOf(m.content).entries()) {
      const where = `messages[${i}].content[${j}]`;
      const cache = (block as { cache_control?: MessageCacheControl }).cache_control;
      switch (block.type) {
        case 'text': {
          const text = (block as { text: string }).text;
          add(m.role, text, cache);
          if (m.role === 'user') {
            texts.push(text);
            echo.push(text);
          }
          break;
        }
        case 'tool_result': {
          if (m.role !== 'user') throw badRequest(`${where}: tool_result blocks belong in user turns.`, where);
          const text = toolResultText(block);
          add('tool', text, cache);
          echo.push(text);
          results = true;
          break;
        }
        case 'tool_use':
          if (m.role !== 'assistant') throw badRequest(`${where}: tool_use blocks belong in assistant turns.`, where);
          add('assistant', toolUseText(block), cache);
          break;
        case 'thinking':
        case 'redacted_thinking':
          // Earlier turns' thinking is not part of the context, as Anthropic strips it.
          break;
        default:
          refuse(block, where);
      }
    }
    if (m.role === 'user') {
      lastUserText = texts.join('\n');
      afterToolResult = results;
    } else {
      afterToolResult = false;
    }
  }
  flush();
  if (marks.length > MAX_BREAKPOINTS) {
    throw badRequest(`A maximum of ${MAX_BREAKPOINTS} blocks with cache_control may be provided. Found ${marks.length}.`);
  }
  return { chat, echo: echo.join('\n'), lastUserText, afterToolResult, marks };
}

/** The prompt's tokens as the model would see them (the chat template's render), and its cache breakpoints. */
export interface CountedInput {
  readonly tokens: number;
  readonly breakpoints: readonly Breakpoint[];
}

/**
 * Counts the rendered prompt, and each breakpoint's prefix: the render up to the end of the breakpoint's
 * block, found by looking for each chat message's text in the render in order. Without a chat template the
 * messages' texts joined stand for the render.
 */
export async function countInput(tokenizer: LoadedTokenizer, input: MessageInput): Promise<CountedInput> {
  const joined = input.chat.map((m) => m.content).join('\n');
  let rendered: string | undefined;
  let tokens: number | undefined;
  try {
    tokens = await tokenizer.chatTokensAsync(input.chat);
    if (input.marks.length > 0) rendered = tokenizer.renderChat(input.chat);
  } catch (err) {
    // The encode worker's failure fails the request; a template's refusal of a message order counts the texts.
    if (err instanceof ApiError) throw err;
  }
  tokens ??= (await tokenizer.encodeAsync(joined)).length;
  if (input.marks.length === 0) return { tokens, breakpoints: [] };
  const text = rendered ?? joined;
  const starts: number[] = [];
  let cursor = 0;
  for (const m of input.chat) {
    const at = text.indexOf(m.content, cursor);
    starts.push(at < 0 ? cursor : at);
    if (at >= 0) cursor = at + m.content.length;
  }
  const breakpoints: Breakpoint[] = [];
  for (const mark of input.marks) {
    const prefix = text.slice(0, Math.min(text.length, starts[mark.message]! + mark.end));
    breakpoints.push({ prefix, tokens: Math.min(tokens, (await tokenizer.encodeAsync(prefix)).length), ttl: mark.ttl });
  }
  return { tokens, breakpoints };
}

// Anthropic's Messages API on the wire: the message, its content blocks and usage, and the stream's events
// (each an SSE `event:` line naming its type, then its `data:`), as the Format that puts one generation of the
// token engine into those shapes.
//
// A stream opens with message_start, the first block's content_block_start and a ping (sent with the 200);
// each token is a content_block_delta of the block it belongs to (thinking, then text or the tool calls, one
// tool_use block per call); a thinking block ends with its signature_delta; message_delta carries the stop
// reason and the whole message's usage, and message_stop ends the stream.
import { createHash } from 'node:crypto';
import { FrameTemplate } from '../http/frame.js';
import { anthropicErrorBody } from '../http/errorShapes.js';
import { callAt, type CallTokens, type ToolCall } from '../model/toolCall.js';
import { withPrefixHit, type CacheUse } from '../model/promptCache.js';
import type { Format, TokenKind } from '../handlers/respond.js';
import type { FinishReason, Message, MessageContentBlock, MessageDeltaUsage, MessageStopReason, MessageStreamEvent, MessageUsage, Usage } from '../types.js';

/** One SSE event of a Messages stream. */
export function messageEvent(e: MessageStreamEvent): string {
  return `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/** A thinking block's signature: opaque to clients, the same for the same thinking. */
export function thinkingSignature(seed: string): string {
  return createHash('sha256').update('thinking\u0000').update(seed).digest('base64');
}

export interface MessageAnswer {
  readonly id: string;
  readonly model: string;
  readonly requestId: string;
  /** Prompt tokens, all of them (the cached ones included). */
  readonly promptTokens: number;
  readonly cache: CacheUse;
  /** Why the plan ends: `length` is max_tokens; a natural end is end_turn, tool_use or stop_sequence. */
  readonly finish: FinishReason;
  /** The stop sequence that cut the echo, when one did. */
  readonly stopSequence: string | null;
  readonly thinking: boolean;
  /** The thinking block's signature. */
  readonly signature: string;
  /** The calls made, their ids, and their arguments' tokens (the plan's echo) when the answer calls tools. */
  readonly calls?: { readonly calls: readonly ToolCall[]; readonly ids: readonly string[]; readonly tokens: CallTokens };
}

function stopReason(a: MessageAnswer): MessageStopReason {
  if (a.finish === 'length') return 'max_tokens';
  if (a.calls) return 'tool_use';
  return a.stopSequence !== null ? 'stop_sequence' : 'end_turn';
}

/** The message's usage: `u` is the engine's (its output tokens, and the prefix cache's hit when that is on). */
function messageUsage(a: MessageAnswer, u: Usage): MessageUsage {
  const cache = withPrefixHit(a.cache, u.prompt_tokens_details?.cached_tokens ?? 0);
  const created = cache.created5m + cache.created1h;
  return {
    input_tokens: a.promptTokens - cache.read - created,
    output_tokens: u.completion_tokens,
    cache_creation_input_tokens: created,
    cache_read_input_tokens: cache.read,
    cache_creation: { ephemeral_5m_input_tokens: cache.created5m, ephemeral_1h_input_tokens: cache.created1h },
    service_tier: 'standard',
  };
}

function deltaUsage(a: MessageAnswer, usage: Usage): MessageDeltaUsage {
  const u = messageUsage(a, usage);
  return {
    input_tokens: u.input_tokens,
    output_tokens: u.output_tokens,
    cache_creation_input_tokens: u.cache_creation_input_tokens,
    cache_read_input_tokens: u.cache_read_input_tokens,
  };
}

/** A tool call's input: its arguments, or (cut by max_tokens) what of them parses, else an empty object. */
function callInput(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

type Current = { kind: 'thinking' } | { kind: 'text' } | { kind: 'tool'; call: number };

export function messageFormat(a: MessageAnswer): Format {
  const error = (e: Parameters<Format['error']>[0]): string => `event: error\ndata: ${JSON.stringify(anthropicErrorBody(e, a.requestId))}\n\n`;
  const firstContent = (): Current => (a.calls ? { kind: 'tool', call: 0 } : { kind: 'text' });
  const blockOf = (c: Current): MessageContentBlock => {
    if (c.kind === 'thinking') return { type: 'thinking', thinking: '', signature: '' };
    if (c.kind === 'text') return { type: 'text', text: '' };
    return { type: 'tool_use', id: a.calls!.ids[c.call]!, name: a.calls!.calls[c.call]!.name, input: {} };
  };
  // Stream state: the block open now, its index, and how many content tokens were sent (which call they are in).
  let current: Current = a.thinking ? { kind: 'thinking' } : firstContent();
  let index = 0;
  let contentTokens = 0;
  const templates = new Map<string, FrameTemplate>();
  const deltaFrame = (kind: 'text_delta' | 'thinking_delta' | 'input_json_delta', json: string): string => {
    const key = `${index}:${kind}`;
    let t = templates.get(key);
    if (!t) {
      const slot = FrameTemplate.slot();
      const delta =
        kind === 'text_delta' ? { type: kind, text: slot } : kind === 'thinking_delta' ? { type: kind, thinking: slot } : { type: kind, partial_json: slot };
      t = new FrameTemplate({ type: 'content_block_delta', index, delta });
      templates.set(key, t);
    }
    return `event: content_block_delta\n${t.fillJson(json)}`;
  };
  const start = (): string => messageEvent({ type: 'content_block_start', index, content_block: blockOf(current) });
  const stop = (): string => {
    const signature = current.kind === 'thinking' ? messageEvent({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: a.signature } }) : '';
    return signature + messageEvent({ type: 'content_block_stop', index });
  };
  const next = (to: Current): string => {
    const out = stop();
    current = to;
    index++;
    return out + start();
  };
  const emit = (kind: TokenKind, json: string): string => {
    if (kind === 'reasoning') return deltaFrame('thinking_delta', json);
    let out = current.kind === 'thinking' ? next(firstContent()) : '';
    if (a.calls) {
      const call = callAt(a.calls.tokens, contentTokens);
      if (current.kind === 'tool' && call !== current.call) out += next({ kind: 'tool', call });
      contentTokens++;
      return out + deltaFrame('input_json_delta', json);
    }
    contentTokens++;
    return out + deltaFrame('text_delta', json);
  };
  return {
    done: '',
    head(prompt) {
      const message: Message = {
        id: a.id,
        type: 'message',
        role: 'assistant',
        model: a.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: messageUsage(a, prompt),
      };
      return messageEvent({ type: 'message_start', message }) + start() + messageEvent({ type: 'ping' });
    },
    middle(_choice, _index, kind, _id, json) {
      return emit(kind, json);
    },
    token(_choice, _index, kind, id, text) {
      // The lone frame of an empty output carries nothing: the open block closes empty.
      return id === null ? '' : emit(kind, JSON.stringify(text));
    },
    end(u: Usage) {
      return (
        stop() +
        messageEvent({ type: 'message_delta', delta: { stop_reason: stopReason(a), stop_sequence: a.stopSequence }, usage: deltaUsage(a, u) }) +
        messageEvent({ type: 'message_stop' })
      );
    },
    error,
    whole(choices, u): Message {
      const out = choices[0]!;
      const content: MessageContentBlock[] = [];
      if (a.thinking) content.push({ type: 'thinking', thinking: out.reasoning, signature: a.signature });
      // A stream opens the text or tool blocks only with their first token when thinking comes first.
      if (a.thinking && out.content === '') {
        // max_tokens ended the answer inside its thinking.
      } else if (a.calls) {
        // The content is the calls' arguments one after another, cut where max_tokens cut it.
        let from = 0;
        for (const [i, call] of a.calls.calls.entries()) {
          if (from >= out.content.length && i > 0) break;
          const text = out.content.slice(from, from + call.arguments.length);
          content.push({ type: 'tool_use', id: a.calls.ids[i]!, name: call.name, input: callInput(text) });
          from += call.arguments.length;
        }
      } else {
        content.push({ type: 'text', text: out.content });
      }
      return {
        id: a.id,
        type: 'message',
        role: 'assistant',
        model: a.model,
        content,
        stop_reason: stopReason(a),
        stop_sequence: a.stopSequence,
        usage: messageUsage(a, u),
      };
    },
  };
}

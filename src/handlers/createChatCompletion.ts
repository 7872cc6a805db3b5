// POST /v1/chat/completions: echo the user messages as a chat completion.
import { DONE_FRAME, FrameTemplate, frame } from '../http/frame.js';
import { badRequest } from '../http/errors.js';
import { randomId } from '../http/request.js';
import { plan } from '../model/generation.js';
import { fitContext } from '../model/contextWindow.js';
import { chatEcho, chatPromptTokensAsync } from '../model/prompt.js';
import { respond, type Format, type TokenKind } from './respond.js';
import { LogprobModel, logprobKey, tokenText } from '../model/logprobs.js';
import type { TokenPieces } from '../model/detokenizer.js';
import { tokenizerFor, type Deps, type OperationHandler } from './deps.js';
import type { ChatChunk, ChatDelta, ChatLogprobs, ChatRequest, ChatResponse, ChatTokenLogprob, ChatTopLogprob, ReasoningEffort, Settings } from '../types.js';

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
    const echo = await tokenizer.encodeAsync(chatEcho(body.messages));
    const promptTokens = await chatPromptTokensAsync(tokenizer, body.messages, echo.length);
    const one = plan(
      {
        echo,
        cap: fitContext(promptTokens, body.max_completion_tokens ?? body.max_tokens ?? undefined, settings.max_model_len),
        ignoreEos: body.ignore_eos === true,
        minTokens: body.min_tokens ?? 0,
        reasoningTokens: reasoningTokens(body.reasoning_effort, settings, body.model),
      },
      tokenizer,
    );
    const generation = {
      model: body.model,
      plans: Array.from({ length: body.n ?? 1 }, () => one),
      pieces: tokenizer.pieces,
      promptTokens,
    };
    const logprobs = body.logprobs === true ? chatLogprobs(tokenizer.pieces, new LogprobModel(tokenizer.pieces, logprobKey(body.seed, echo)), body.top_logprobs ?? 0) : undefined;
    const format = chatFormat(randomId('chatcmpl-'), Math.floor(Date.now() / 1000), body.model, settings.reasoning_field, logprobs);
    const stream =
      body.stream === true
        ? { includeUsage: body.stream_options?.include_usage === true, continuousUsage: body.stream_options?.continuous_usage_stats === true }
        : undefined;
    await respond(ctx, deps, generation, format, stream);
  };
}

/** Model families that reason by default when reasoning_by_model is on (the later AIPerf mock's rule). */
const REASONING_FAMILY = /gpt-oss|qwen3|deepseek-r1/i;

function reasoningTokens(effort: ReasoningEffort | undefined, s: Readonly<Settings>, model: string): number {
  switch (effort) {
    case 'none':
      return 0;
    case 'minimal':
    case 'low':
      return s.reasoning_tokens_low;
    case 'medium':
      return s.reasoning_tokens_medium;
    case 'high':
      return s.reasoning_tokens_high;
    default:
      return s.reasoning_by_model && s.reasoning_tokens === 0 && REASONING_FAMILY.test(model) ? s.reasoning_tokens_medium : s.reasoning_tokens;
  }
}

/** Chat's logprobs of a choice: as objects for the whole answer, and as JSON for a stream's one-token chunks. */
interface ChatLogprobsOf {
  /** The entries of the tokens `ids` at positions `from`, `from + 1`, …. */
  of(ids: readonly number[], from: number): ChatLogprobs;
  /** of([id], position) as JSON, joined from per-token parts serialized once (the per-token path). */
  json(id: number, position: number): string;
}

/** A token entry's JSON around its logprob: `{"token":…,"logprob":` and `,"bytes":[…]`. */
type EntryParts = [string, string];

/**
 * Per vocabulary and id, kept for the server's life: alternatives are drawn from the whole vocabulary, so a
 * per-request cache would serialize thousands of entries afresh for every stream. At most one pair per id.
 */
const entryParts = new WeakMap<TokenPieces, Map<number, EntryParts>>();

function entryPartsOf(pieces: TokenPieces): Map<number, EntryParts> {
  let m = entryParts.get(pieces);
  if (!m) {
    m = new Map();
    entryParts.set(pieces, m);
  }
  return m;
}

function chatLogprobs(pieces: TokenPieces, model: LogprobModel, top: number): ChatLogprobsOf {
  const entry = (id: number, logprob: number): ChatTopLogprob => {
    const b = pieces.bytes(id);
    return { token: tokenText(pieces, id), logprob, bytes: Array.from(b) };
  };
  const token = (id: number, position: number): ChatTokenLogprob => {
    const at = model.at(position, id, top);
    return { ...entry(id, at.logprob), top_logprobs: at.top.map((t) => entry(t.id, t.logprob)) };
  };
  const parts = entryPartsOf(pieces);
  const partsOf = (id: number): EntryParts => {
    let p = parts.get(id);
    if (!p) {
      p = [`{"token":${JSON.stringify(tokenText(pieces, id))},"logprob":`, `,"bytes":${JSON.stringify(Array.from(pieces.bytes(id)))}`];
      parts.set(id, p);
    }
    return p;
  };
  return {
    of: (ids, from) => ({ content: ids.map((id, k) => token(id, from + k)), refusal: null }),
    json(id, position) {
      const at = model.at(position, id, top);
      const [head, tail] = partsOf(id);
      let out = `{"content":[${head}${JSON.stringify(at.logprob)}${tail},"top_logprobs":[`;
      for (let i = 0; i < at.top.length; i++) {
        const t = at.top[i]!;
        const [h, b] = partsOf(t.id);
        out += `${i === 0 ? '' : ','}${h}${JSON.stringify(t.logprob)}${b}}`;
      }
      return `${out}]}],"refusal":null}`;
    },
  };
}

/** The chunk of a middle token with logprobs: the text-only template, with the logprobs' JSON in their place. */
class LogprobsFrame {
  readonly #before: string[];
  readonly #after: string;

  constructor(payload: ChatChunk) {
    const [before, after, ...rest] = frame(payload).split('"logprobs":null');
    if (before === undefined || after === undefined || rest.length > 0) throw new Error('LogprobsFrame: payload must hold one null logprobs');
    this.#before = before.split(JSON.stringify(FrameTemplate.slot()));
    this.#after = after;
  }

  fill(textJson: string, logprobsJson: string): string {
    return `${this.#before.join(textJson)}"logprobs":${logprobsJson}${this.#after}`;
  }
}

function chatFormat(id: string, created: number, model: string, reasoningField: Settings['reasoning_field'], logprobs?: ChatLogprobsOf): Format {
  const head = { id, object: 'chat.completion.chunk' as const, created, model, system_fingerprint: SYSTEM_FINGERPRINT };
  const delta = (kind: TokenKind, text: string): ChatDelta => {
    if (kind === 'content') return { content: text };
    if (reasoningField === 'both') return { reasoning_content: text, reasoning: text };
    return { [reasoningField]: text };
  };
  const chunk = (index: number, d: ChatDelta, finish: ChatChunk['choices'][number]['finish_reason']): ChatChunk => ({
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
  return {
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
          const reasoning = c.reasoning === '' ? {} : delta('reasoning', c.reasoning);
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
}

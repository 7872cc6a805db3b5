// POST /v1/completions: the legacy text completion API, which vLLM's benchmark uses by default.
import { DONE_FRAME, FrameTemplate, frame } from '../http/frame.js';
import { badRequest } from '../http/errors.js';
import { randomId } from '../http/request.js';
import { plan } from '../model/generation.js';
import { fitContext } from '../model/contextWindow.js';
import { completionPrompts, promptCount, unknownTokenId } from '../model/prompt.js';
import { MAX_CHOICES } from '../model/limits.js';
import { respond, type Format } from './respond.js';
import { LogprobModel, codePoints, logprobKey, tokenText } from '../model/logprobs.js';
import { IncrementalDecoder, type TokenPieces } from '../model/detokenizer.js';
import { tokenizerFor, type Deps, type OperationHandler } from './deps.js';
import { SYSTEM_FINGERPRINT } from './createChatCompletion.js';
import type { CompletionChunk, CompletionLogprobs, CompletionRequest, CompletionResponse } from '../types.js';

export default function createCompletion(deps: Deps): OperationHandler {
  return async (ctx) => {
    // Under overload, tokenizing waits its turn so that /health and the streams in flight are served meanwhile.
    await deps.slices.turn();
    const { settings } = ctx.state;
    const body = ctx.state.body as CompletionRequest;
    if (body.stream_options != null && body.stream !== true) {
      throw badRequest('stream_options is only allowed when stream is true.', 'stream_options');
    }
    const n = body.n ?? 1;
    // Checked before any prompt is tokenized or any choice is planned: both cost per prompt and per choice.
    const choices = promptCount(body.prompt) * n;
    if (choices > MAX_CHOICES) {
      throw badRequest(`The request asks for ${choices} choices (prompts × n), more than the ${MAX_CHOICES} allowed.`, 'prompt');
    }
    const tokenizer = tokenizerFor(deps, body.model, settings);
    const unknown = unknownTokenId(tokenizer, body.prompt);
    if (unknown !== undefined) throw badRequest(`Token id ${unknown} is out of vocabulary.`, 'prompt');
    const prompts = await completionPrompts(tokenizer, body.prompt, () => deps.slices.turn());
    // Choices are numbered prompt by prompt: prompt i's j-th choice has index i * n + j, as OpenAI does.
    const plans = prompts.flatMap((p) => {
      const one = plan(
        {
          echo: p.ids,
          cap: fitContext(p.ids.length, body.max_tokens ?? undefined, settings.max_model_len),
          ignoreEos: body.ignore_eos === true,
          minTokens: body.min_tokens ?? 0,
          reasoningTokens: 0,
        },
        tokenizer,
      );
      return Array.from({ length: n }, () => one);
    });
    const echoed = body.echo === true ? prompts.flatMap((p) => Array.from({ length: n }, () => p.text)) : undefined;
    const generation = {
      model: body.model,
      plans,
      pieces: tokenizer.pieces,
      promptTokens: prompts.reduce((sum, p) => sum + p.ids.length, 0),
      echoed: echoed?.reduce((sum, text) => sum + text.length, 0),
      promptIds: () => Promise.resolve(prompts.map((p) => p.ids)),
    };
    const logprobs =
      body.logprobs != null
        ? textLogprobs(
            tokenizer.pieces,
            body.logprobs,
            prompts.flatMap((p) => {
              const model = new LogprobModel(tokenizer.pieces, logprobKey(body.seed, p.ids));
              return Array.from({ length: n }, () => ({ model, prompt: p.ids, echo: body.echo === true }));
            }),
          )
        : undefined;
    const format = textFormat(randomId('cmpl-'), Math.floor(Date.now() / 1000), body.model, echoed, logprobs);
    const stream =
      body.stream === true
        ? { includeUsage: body.stream_options?.include_usage === true, continuousUsage: body.stream_options?.continuous_usage_stats === true }
        : undefined;
    await respond(ctx, deps, generation, format, stream);
  };
}

/** Per choice: its prompt's values, its prompt's ids, and whether the answer repeats that prompt first. */
interface ChoiceLogprobs {
  model: LogprobModel;
  prompt: readonly number[];
  echo: boolean;
}

/**
 * The legacy completions API's logprobs, built chunk by chunk for each choice: `next(choice, first, ids, text)`
 * gives the lists for the tokens `ids` that the chunk's `text` carries (after the echoed prompt, on a first
 * chunk), keeping each choice's position and text offset.
 */
interface TextLogprobs {
  next(choice: number, first: boolean, ids: readonly number[], text: string): CompletionLogprobs;
}

function textLogprobs(pieces: TokenPieces, count: number, choices: readonly ChoiceLogprobs[]): TextLogprobs {
  // Per choice: the next output position and where the next token's text starts (in code points).
  const position: number[] = choices.map(() => 0);
  const offset: number[] = choices.map(() => 0);
  const add = (out: CompletionLogprobs, c: ChoiceLogprobs, pos: number, id: number, at: number, start = false): void => {
    const text = tokenText(pieces, id);
    out.tokens.push(text);
    out.text_offset.push(at);
    // An echoed prompt's first token has nothing before it: no values (vLLM's and OpenAI's null).
    if (start) {
      out.token_logprobs.push(null);
      out.top_logprobs.push(null);
      return;
    }
    // vLLM lists the chosen token even for logprobs 0.
    const values = c.model.at(pos, id, Math.max(count, 1));
    out.token_logprobs.push(values.logprob);
    const top: Record<string, number> = {};
    for (const t of values.top) top[tokenText(pieces, t.id)] = t.logprob;
    out.top_logprobs.push(top);
  };
  return {
    next(choice, first, ids, text) {
      const c = choices[choice]!;
      const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
      if (first) {
        // The prompt's positions come first; the output's follow them, echoed or not.
        position[choice] = c.prompt.length;
        offset[choice] = 0;
        if (c.echo) {
          const decoder = new IncrementalDecoder(pieces);
          c.prompt.forEach((id, pos) => {
            add(out, c, pos, id, offset[choice]!, pos === 0);
            offset[choice]! += codePoints(decoder.push(id));
          });
        }
      }
      // Each token's text starts where the text before it ends; a token that only begins a character
      // shares the offset of the token that completes it.
      const decoder = new IncrementalDecoder(pieces);
      let at = offset[choice]!;
      for (const id of ids) {
        add(out, c, position[choice]!++, id, at);
        at += codePoints(decoder.push(id));
      }
      // A chunk's text is what its tokens completed (characters split across chunks come out whole in one).
      offset[choice]! += codePoints(text);
      return out;
    },
  };
}

function textFormat(id: string, created: number, model: string, echoed: string[] | undefined, logprobs?: TextLogprobs): Format {
  const head = { id, object: 'text_completion' as const, created, model, system_fingerprint: SYSTEM_FINGERPRINT };
  const chunk = (index: number, text: string, finish: CompletionChunk['choices'][number]['finish_reason']): CompletionChunk => ({
    ...head,
    choices: [{ index, text, logprobs: null, finish_reason: finish }],
  });
  // The frames of tokens that are neither a choice's first nor its last, pre-serialized per choice.
  const templates = new Map<number, FrameTemplate>();
  const template = (index: number): FrameTemplate => {
    let t = templates.get(index);
    if (!t) {
      t = new FrameTemplate(chunk(index, FrameTemplate.slot(), null));
      templates.set(index, t);
    }
    return t;
  };
  return {
    done: DONE_FRAME,
    middle(choice, index, kind, tokenId, json) {
      // With logprobs every chunk differs beyond its text: it is built whole.
      if (logprobs) return this.token(choice, index, kind, tokenId, JSON.parse(json) as string, null);
      return template(choice).fillJson(json);
    },
    token(choice, index, _kind, tokenId, text, finish, usage) {
      const first = index === 0;
      if (!first && finish === null && usage === undefined && !logprobs) return template(choice).fill(text);
      // With echo, the prompt goes out in the choice's first frame, before its first token.
      const c = chunk(choice, first && echoed ? echoed[choice] + text : text, finish);
      if (logprobs) c.choices[0]!.logprobs = logprobs.next(choice, first, tokenId === null ? [] : [tokenId], text);
      if (usage) c.usage = usage;
      return frame(c);
    },
    usage(u) {
      const c: CompletionChunk = { ...head, choices: [], usage: u };
      return frame(c);
    },
    error: (e) => frame(e.body),
    whole(choices, u): CompletionResponse {
      return {
        ...head,
        choices: choices.map((c, index) => ({
          index,
          text: (echoed?.[index] ?? '') + c.content,
          logprobs: logprobs ? logprobs.next(index, true, c.ids, c.content) : null,
          finish_reason: c.finishReason,
        })),
        usage: u,
      };
    },
  };
}

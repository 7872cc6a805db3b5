// What an embeddings request embeds: its inputs as token ids, under OpenAI's limits (2,048 inputs, 8,192 tokens
// each, 300,000 in all). Tokenizing is the costly part, so a request over a limit is refused as soon as that is
// certain: a long input (over 64 KiB) whose bytes could not fit in 8,192 tokens is not tokenized, inputs stop
// being tokenized once the request's total is over, and the work yields between inputs so that /health and the
// streams in flight are served meanwhile. With NIM's `truncate`, an over-long text is cut to fit instead, and only
// its kept end is tokenized.
import { ApiError, badRequest } from '../http/errors.js';
import { chatEcho, messageText } from './prompt.js';
import { MAX_INPUT_TOKENS, MAX_INPUTS, MAX_REQUEST_TOKENS } from './embedding.js';
import type { TokenPieces } from './detokenizer.js';
import type { LoadedTokenizer } from './tokenizers.js';
import type { ChatMessage, EmbeddingInput, EmbeddingTruncate } from '../types.js';

/** Texts up to this many bytes are tokenized without first bounding their token count by their length. */
const DIRECT_BYTES = 64 * 1024;

/** One input as the request gives it: a text, or token ids. */
type RawInput = string | readonly number[];

/** The inputs of OpenAI's four shapes; the contract has checked the items, not that they are all of one kind. */
export function rawInputs(input: EmbeddingInput): RawInput[] {
  if (typeof input === 'string') return [input];
  if (input.every((x) => typeof x === 'string')) return input as string[];
  if (input.every((x) => typeof x === 'number')) return [input as number[]];
  if (input.every((x) => Array.isArray(x))) return input as number[][];
  throw badRequest('input: must be a string, an array of strings, an array of token ids or an array of arrays of token ids, not a mix.', 'input');
}

/** The text a conversation is embedded as: its chat template's rendering, else (no template) the user messages. */
export function chatText(tokenizer: LoadedTokenizer, messages: readonly ChatMessage[]): string {
  try {
    const rendered = tokenizer.renderChat(messages.map((m) => ({ role: m.role, content: messageText(m) })));
    if (rendered !== undefined) return rendered;
  } catch {
    // Some templates refuse some message orders (raise_exception): the user messages stand in, as for chat.
  }
  return chatEcho(messages);
}

export interface TokenizeOptions {
  /** NIM's `truncate`: which end of an over-long text loses tokens; NONE (the default) refuses it. */
  truncate?: EmbeddingTruncate | undefined;
  /** Tokens each input holds besides its text (an image's), counted in every limit and never cut. */
  reserved?: readonly number[];
}

/** Every input's token ids (its text's only), in order; throws the 400 of the first limit broken. */
export async function tokenizeInputs(
  tokenizer: LoadedTokenizer,
  inputs: readonly RawInput[],
  turn: () => Promise<void>,
  options: TokenizeOptions = {},
): Promise<Array<readonly number[]>> {
  // The contract bounds `input`; a chat request is one input.
  if (inputs.length > MAX_INPUTS) throw badRequest(`input: must NOT have more than ${MAX_INPUTS} items`, 'input');
  const truncate = options.truncate ?? 'NONE';
  const out: Array<readonly number[]> = [];
  let total = 0;
  for (let i = 0; i < inputs.length; i++) {
    await turn();
    const input = inputs[i]!;
    const reserved = options.reserved?.[i] ?? 0;
    const room = Math.max(MAX_INPUT_TOKENS - reserved, 0);
    let ids: readonly number[];
    if (typeof input === 'string') {
      let text = input;
      const bytes = Buffer.byteLength(text);
      // No token stands for more bytes than the vocabulary's longest piece: a longer input cannot fit. Up to
      // 64 KiB (~150 ms of tokenizing) the text is simply tokenized; only a longer one pays for the bound.
      if (bytes > DIRECT_BYTES) {
        const piece = await longestPiece(tokenizer.pieces, turn);
        if (truncate === 'NONE') {
          if (bytes > room * piece) throw contextLength(Math.ceil(bytes / piece) + reserved, true);
        } else {
          // Only the kept end is tokenized: `room` tokens span at most room × piece bytes (so as many characters
          // at most), and a margin keeps the far cut's effect on tokens clear of those kept.
          const keep = (room + 16) * piece;
          if (text.length > keep) text = truncate === 'START' ? text.slice(text.length - keep) : text.slice(0, keep);
        }
      }
      ids = await tokenizer.encodeAsync(text);
      if (ids.length > room && truncate !== 'NONE') ids = truncate === 'START' ? ids.slice(ids.length - room) : ids.slice(0, room);
    } else {
      const unknown = input.find((id) => !tokenizer.pieces.has(id));
      if (unknown !== undefined) throw badRequest(`Token id ${unknown} is out of vocabulary.`, 'input');
      ids = input;
    }
    if (ids.length + reserved > MAX_INPUT_TOKENS) throw contextLength(ids.length + reserved, false);
    total += ids.length + reserved;
    if (total > MAX_REQUEST_TOKENS) {
      const last = i === inputs.length - 1;
      throw new ApiError(
        400,
        `Requested ${last ? '' : 'at least '}${total} tokens, max ${MAX_REQUEST_TOKENS} tokens per request`,
        null,
        'max_tokens_per_request',
        'max_tokens_per_request',
      );
    }
    out.push(ids);
  }
  return out;
}

/** OpenAI's words for an input over its embedding models' context; `atLeast` when counted from its bytes. */
function contextLength(tokens: number, atLeast: boolean): ApiError {
  const n = `${atLeast ? 'at least ' : ''}${tokens}`;
  return badRequest(
    `This model's maximum context length is ${MAX_INPUT_TOKENS} tokens, however you requested ${n} tokens (${n} in your prompt; 0 for the completion). Please reduce your prompt; or completion length.`,
    'input',
  );
}

const longest = new WeakMap<TokenPieces, number>();

/**
 * The most bytes one token of a vocabulary stands for (128 for Qwen3: a run of spaces), found once per
 * tokenizer by a scan of its ids (0.3 s in turns, and every piece's bytes stay cached: ~30 MB for Qwen3), and
 * only when an input is long enough to need it.
 */
async function longestPiece(pieces: TokenPieces, turn: () => Promise<void>): Promise<number> {
  const known = longest.get(pieces);
  if (known !== undefined) return known;
  let max = 1;
  // Ids are dense from 0, added tokens right after the vocabulary: a long run of unknown ids is the end.
  for (let id = 0, misses = 0; misses < 4096; id++) {
    if (id % 4096 === 0) await turn();
    if (!pieces.has(id)) {
      misses++;
      continue;
    }
    misses = 0;
    max = Math.max(max, pieces.bytes(id).length);
  }
  longest.set(pieces, max);
  return max;
}

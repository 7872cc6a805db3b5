// POST /v1/audio/transcriptions: OpenAI's transcription of an uploaded audio file. The transcript is made from the
// audio (model/transcript.ts), tokenized with the model's tokenizer and sent on the token engine of chat
// (respond): a whole answer when its last token is due, or one delta event per token.
import { badRequest } from '../http/errors.js';
import { frame } from '../http/frame.js';
import { plan } from '../model/generation.js';
import { audioOf, transcriptOf } from '../model/transcript.js';
import { deltaEvent, deltaEventJson, doneEvent, durationUsage, jsonBody, subtitles, tokenUsage, verboseBody } from '../wire/transcriptions.js';
import { respond, type Format } from './respond.js';
import { tokenizerFor, type Deps, type OperationHandler } from './deps.js';
import type { CreateTranscriptionRequest, TranscriptionUsageTokens } from '../types.js';

type ResponseFormat = NonNullable<CreateTranscriptionRequest['response_format']>;

/** What a model family allows, as OpenAI's transcription models do. */
interface ModelRules {
  formats: readonly ResponseFormat[];
  streams: boolean;
  /** Usage in whole seconds of audio (whisper-1) rather than tokens. */
  billsDuration: boolean;
}

const ALL_FORMATS: readonly ResponseFormat[] = ['json', 'text', 'srt', 'verbose_json', 'vtt'];

function rulesOf(model: string): ModelRules {
  if (model === 'whisper-1') return { formats: ALL_FORMATS, streams: false, billsDuration: true };
  if (/^gpt-4o(-mini)?-transcribe/.test(model)) return { formats: ['json', 'text'], streams: true, billsDuration: false };
  return { formats: ALL_FORMATS, streams: true, billsDuration: false };
}

export default function createTranscription(deps: Deps): OperationHandler {
  return async (ctx) => {
    const body = ctx.state.body as CreateTranscriptionRequest;
    // openapi-backend leaves binary fields out of `required`: the upload is checked here.
    if (typeof body.file !== 'string') throw badRequest("Missing required parameter: 'file'.", 'file', 'missing_required_parameter');
    const format = body.response_format ?? 'json';
    const rules = rulesOf(body.model);
    if (!rules.formats.includes(format)) {
      throw badRequest(`response_format '${format}' is not compatible with model '${body.model}': use ${rules.formats.map((f) => `'${f}'`).join(' or ')}.`, 'response_format', 'unsupported_value');
    }
    // whisper-1 does not stream, and OpenAI ignores the flag for it.
    const stream = body.stream === true && rules.streams;
    if (stream && format !== 'json' && format !== 'text') {
      throw badRequest(`Streaming gives transcript events: response_format '${format}' cannot be streamed (use 'json' or 'text').`, 'stream', 'unsupported_value');
    }
    // Under overload, hashing and tokenizing wait their turn so that /health and the streams in flight go on.
    await deps.slices.turn();
    const tokenizer = tokenizerFor(deps, body.model, ctx.state.settings);
    const bytes = Buffer.from(body.file, 'latin1');
    if (bytes.length === 0) throw badRequest('The audio file is empty.', 'file', 'invalid_value');
    const { duration } = audioOf(bytes);
    const text = transcriptOf(bytes, duration);
    const ids = tokenizer.encode(text);
    const textTokens = body.prompt ? (await tokenizer.encodeAsync(body.prompt)).length : 0;
    const tokens = tokenUsage(duration, textTokens, ids.length);
    const generation = {
      model: body.model,
      plans: [plan({ echo: ids, cap: undefined, ignoreEos: false, minTokens: 0, reasoningTokens: 0 }, tokenizer)],
      pieces: tokenizer.pieces,
      promptTokens: tokens.input_tokens,
    };
    const whole = (): object | string => {
      switch (format) {
        case 'text':
          return `${text}\n`;
        case 'srt':
        case 'vtt':
          return subtitles(format, text, duration);
        case 'verbose_json':
          return verboseBody(text, duration, languageName(body.language), body.timestamp_granularities?.includes('word') === true, (s) => [...tokenizer.encode(s)]);
        default:
          return jsonBody(text, rules.billsDuration ? durationUsage(duration) : tokens);
      }
    };
    await respond(ctx, deps, generation, transcriptFormat(text, tokens, whole), stream ? { includeUsage: false, continuousUsage: false } : undefined);
  };
}

function transcriptFormat(text: string, usage: TranscriptionUsageTokens, whole: () => object | string): Format {
  return {
    // OpenAI ends a transcript stream with its done event and the close.
    done: '',
    middle: (_choice, _index, _kind, _id, json) => deltaEventJson(json),
    token(_choice, _index, _kind, _id, piece, finish) {
      const delta = deltaEvent(piece);
      return finish === null ? delta : delta + doneEvent(text, usage);
    },
    error: (e) => frame({ type: 'error', ...e.body }),
    whole: () => whole(),
  };
}

/** verbose_json names the language in words, as Whisper does; the ISO codes it is most often given. */
const LANGUAGES: Readonly<Record<string, string>> = { en: 'english', de: 'german', es: 'spanish', fr: 'french', it: 'italian', ja: 'japanese', pt: 'portuguese', zh: 'chinese' };

function languageName(code: string | undefined): string {
  if (code === undefined) return 'english';
  return LANGUAGES[code.toLowerCase()] ?? code;
}

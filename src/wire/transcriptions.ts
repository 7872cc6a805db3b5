// OpenAI's transcription answers, from a transcript already made (model/transcript.ts): the JSON bodies, the
// subtitle texts and the stream's events.
import { frame, FrameTemplate } from '../http/frame.js';
import { timedSentences, timedWords, type TimedText } from '../model/transcript.js';
import type {
  TranscriptionJson,
  TranscriptionSegment,
  TranscriptionUsageDuration,
  TranscriptionUsageTokens,
  TranscriptionVerboseJson,
  TranscriptTextDeltaEvent,
  TranscriptTextDoneEvent,
} from '../types.js';

/** Audio tokens a second, as OpenAI's audio models count them (one per 100 ms). */
export const AUDIO_TOKENS_PER_SECOND = 10;

export function tokenUsage(duration: number, textTokens: number, outputTokens: number): TranscriptionUsageTokens {
  const audio = Math.max(1, Math.ceil(duration * AUDIO_TOKENS_PER_SECOND));
  return {
    type: 'tokens',
    input_tokens: audio + textTokens,
    input_token_details: { text_tokens: textTokens, audio_tokens: audio },
    output_tokens: outputTokens,
    total_tokens: audio + textTokens + outputTokens,
  };
}

/** whisper-1 bills the audio's length in whole seconds. */
export const durationUsage = (duration: number): TranscriptionUsageDuration => ({ type: 'duration', seconds: Math.ceil(duration) });

export const jsonBody = (text: string, usage: TranscriptionJson['usage']): TranscriptionJson => ({ text, usage });

/**
 * verbose_json: one segment per sentence (its tokens with the model's tokenizer, a leading space as Whisper
 * gives them), and every word's times when asked for.
 */
export function verboseBody(text: string, duration: number, language: string, withWords: boolean, encode: (s: string) => number[]): TranscriptionVerboseJson {
  const words = timedWords(text, duration);
  const segments = timedSentences(words).map(
    (s, id): TranscriptionSegment => ({
      id,
      seek: 0,
      start: s.start,
      end: s.end,
      text: ` ${s.text}`,
      tokens: encode(` ${s.text}`),
      temperature: 0,
      avg_logprob: -0.25,
      compression_ratio: 1.2,
      no_speech_prob: 0.01,
    }),
  );
  const body: TranscriptionVerboseJson = { task: 'transcribe', language, duration: Math.round(duration * 1000) / 1000, text, segments, usage: durationUsage(duration) };
  if (withWords) body.words = words.map((w) => ({ word: w.text.replace(/[.,]$/, ''), start: w.start, end: w.end }));
  return body;
}

/** SubRip or WebVTT: one cue per sentence. */
export function subtitles(kind: 'srt' | 'vtt', text: string, duration: number): string {
  const cues = timedSentences(timedWords(text, duration));
  const time = (s: number): string => clock(s, kind === 'srt' ? ',' : '.');
  const body = cues.map((c: TimedText, i) => `${kind === 'srt' ? `${i + 1}\n` : ''}${time(c.start)} --> ${time(c.end)}\n${c.text}\n\n`).join('');
  return kind === 'vtt' ? `WEBVTT\n\n${body}` : body;
}

function clock(seconds: number, comma: string): string {
  const ms = Math.round(seconds * 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(Math.floor(ms / 3_600_000))}:${two(Math.floor(ms / 60_000) % 60)}:${two(Math.floor(ms / 1000) % 60)}${comma}${String(ms % 1000).padStart(3, '0')}`;
}

const DELTA = new FrameTemplate({ type: 'transcript.text.delta', delta: FrameTemplate.slot() } satisfies TranscriptTextDeltaEvent);

/** One token's event, from its text as a JSON literal (the per-token path) or as text. */
export const deltaEventJson = (json: string): string => DELTA.fillJson(json);
export const deltaEvent = (delta: string): string => DELTA.fill(delta);

export function doneEvent(text: string, usage: TranscriptionUsageTokens): string {
  const e: TranscriptTextDoneEvent = { type: 'transcript.text.done', text, usage };
  return frame(e);
}

// What an uploaded audio file "says": a made-up but deterministic transcript. Its length follows the audio's
// duration (speech at 2.5 words a second), read from a WAV header where there is one and estimated from the size
// otherwise; its words come from a fixed passage, starting where a hash of the bytes points, so the same file
// always gives the same text and different files different texts.
import { createHash } from 'node:crypto';

/** Speech runs at about 150 words a minute. */
export const WORDS_PER_SECOND = 2.5;
/** Even a click of audio is transcribed as a few words, so that every answer has text to measure. */
const MIN_WORDS = 3;
/** A file that is not a WAV is taken as 128 kbit/s audio (a common MP3 rate). */
export const BYTES_PER_SECOND_ESTIMATE = 16_000;

// Written for this server: plain sentences of everyday words, each ending with a full stop.
const PASSAGE = (
  'Every morning the harbour wakes before the town does. Fishing boats slip out past the lighthouse while the ' +
  'bakery lights its ovens. By seven the market square fills with crates of apples, bread and fresh flowers. ' +
  'Children run to school along the sea wall, counting the gulls on the railings. An old clock above the post ' +
  'office chimes the hour a minute late, as it has for years. In the afternoon the wind turns and the tide comes ' +
  'back in. Evening brings the boats home, and the whole street smells of salt and woodsmoke.'
).split(' ');

export interface Audio {
  /** Seconds of sound. */
  readonly duration: number;
  /** Whether the duration came from a WAV header rather than an estimate from the size. */
  readonly fromHeader: boolean;
}

/** The audio's duration: a WAV's data bytes over its byte rate, else its size at BYTES_PER_SECOND_ESTIMATE. */
export function audioOf(bytes: Buffer): Audio {
  const wav = wavDuration(bytes);
  if (wav !== undefined) return { duration: wav, fromHeader: true };
  return { duration: bytes.length / BYTES_PER_SECOND_ESTIMATE, fromHeader: false };
}

/** A RIFF/WAVE file's duration from its `fmt ` byte rate and its `data` chunk, or undefined for anything else. */
function wavDuration(b: Buffer): number | undefined {
  if (b.length < 12 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') return undefined;
  let byteRate: number | undefined;
  for (let at = 12; at + 8 <= b.length; ) {
    const id = b.toString('latin1', at, at + 4);
    const size = b.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ' && body + 12 <= b.length) byteRate = b.readUInt32LE(body + 8);
    if (id === 'data') {
      if (!byteRate) return undefined;
      // A streamed WAV declares 0 or 0xFFFFFFFF: what is there counts, never more than declared.
      const present = b.length - body;
      const data = size === 0 || size === 0xffffffff ? present : Math.min(size, present);
      return data / byteRate;
    }
    // Chunks are padded to an even size.
    at = body + size + (size % 2);
  }
  return undefined;
}

/** The transcript of a file (its bytes) of this duration. */
export function transcriptOf(bytes: Buffer, duration: number): string {
  const words = Math.max(MIN_WORDS, Math.round(duration * WORDS_PER_SECOND));
  const start = createHash('sha256').update(bytes).digest().readUInt32BE(0) % PASSAGE.length;
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(PASSAGE[(start + i) % PASSAGE.length]!);
  // A transcript reads as sentences: it starts with a capital and ends with a full stop.
  out[0] = out[0]!.charAt(0).toUpperCase() + out[0]!.slice(1);
  const last = out.length - 1;
  out[last] = out[last]!.replace(/[.,]?$/, '.');
  return out.join(' ');
}

export interface TimedText {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/** Each word with its times: the words share the duration evenly. */
export function timedWords(text: string, duration: number): TimedText[] {
  const words = text.split(' ');
  const each = duration / words.length;
  return words.map((w, i) => ({ text: w, start: round(i * each), end: round((i + 1) * each) }));
}

/** The sentences of a transcript with their times (a segment each), from its words' times. */
export function timedSentences(words: readonly TimedText[]): TimedText[] {
  const out: TimedText[] = [];
  let from = 0;
  for (let i = 0; i < words.length; i++) {
    if (!/\.$/.test(words[i]!.text) && i !== words.length - 1) continue;
    const part = words.slice(from, i + 1);
    out.push({ text: part.map((w) => w.text).join(' '), start: part[0]!.start, end: part.at(-1)!.end });
    from = i + 1;
  }
  return out;
}

const round = (s: number): number => Math.round(s * 1000) / 1000;

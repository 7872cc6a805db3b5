// The tokenizer of --no-tokenizer: no vocabulary to load, so the server answers within milliseconds of its
// start. Text is cut into pieces of about the size of a real token (English averages about 4 characters a
// token), by a rule simple enough to state:
// - a run of printable ASCII (U+0020 to U+007E) is cut into pieces of at most 4 characters, and a space always
//   begins a new piece, so that a word keeps its leading space as in byte-level BPE ("Hello world" gives
//   "Hell", "o", " wor", "ld");
// - every other character (newlines, tabs, other controls, anything beyond ASCII) is a piece by itself.
// The ids need no table either: a one-character piece is its code point, a longer one is 0x110000 (past the
// last code point) plus its characters read as a bijective base-95 number. Cutting a text's pieces apart and
// joining them again gives the same pieces, so the echo re-tokenizes to what was sent, as with a real tokenizer.
import type { LoadedTokenizer } from './tokenizers.js';
import type { TokenPieces } from './detokenizer.js';
import { offThread, type EncodeWorker } from './encodeWorker.js';

const FIRST_PRINTABLE = 0x20;
const LAST_PRINTABLE = 0x7e;
const DIGITS = LAST_PRINTABLE - FIRST_PRINTABLE + 1; // 95
const MAX_PIECE = 4;
/** Ids from here on are pieces of 2 to 4 printable characters. */
const PACKED = 0x110000;
const REPLACEMENT = 0xfffd;

/** The bijective base-95 value of a printable run, most significant character first. */
function packedValue(text: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * DIGITS + (text.charCodeAt(i) - FIRST_PRINTABLE + 1);
  return v;
}

/** The characters of a packed value, or undefined when the value is not one of 2 to 4 characters. */
function unpack(value: number): string | undefined {
  let v = value;
  let out = '';
  while (v > 0) {
    const d = ((v - 1) % DIGITS) + 1;
    out = String.fromCharCode(FIRST_PRINTABLE + d - 1) + out;
    v = (v - d) / DIGITS;
  }
  return out.length >= 2 && out.length <= MAX_PIECE ? out : undefined;
}

const isPrintable = (c: number): boolean => c >= FIRST_PRINTABLE && c <= LAST_PRINTABLE;

/** The ids of a text's pieces. */
export function characterIds(text: string): number[] {
  const ids: number[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (isPrintable(c)) {
      let end = i + 1;
      while (end < text.length && end - i < MAX_PIECE && isPrintable(text.charCodeAt(end)) && text.charCodeAt(end) !== 0x20) end++;
      ids.push(end - i === 1 ? c : PACKED + packedValue(text, i, end));
      i = end;
      continue;
    }
    const cp = text.codePointAt(i)!;
    // A lone surrogate cannot be sent as UTF-8: it stands as U+FFFD, as a UTF-8 encoder writes it.
    const lone = cp >= 0xd800 && cp <= 0xdfff;
    ids.push(lone ? REPLACEMENT : cp);
    i += cp > 0xffff ? 2 : 1;
  }
  return ids;
}

/** The text of an id, or undefined for a number that no piece has. */
function pieceText(id: number): string | undefined {
  if (!Number.isSafeInteger(id) || id < 0) return undefined;
  if (id < PACKED) return id >= 0xd800 && id <= 0xdfff ? undefined : String.fromCodePoint(id);
  return unpack(id - PACKED);
}

const utf8 = new TextEncoder();

/** Every piece is whole characters: its text always exists. */
const pieces: TokenPieces = {
  has: (id) => pieceText(id) !== undefined,
  bytes: (id) => utf8.encode(pieceText(id) ?? ''),
  text: (id) => pieceText(id) ?? '',
  json: (id) => JSON.stringify(pieceText(id) ?? ''),
};

/**
 * The --no-tokenizer stand-in for a model's tokenizer. Without a chat template, a chat's prompt tokens are
 * the pieces of the text it echoes. A large text is cut in the encode worker, if there is one (16 MiB take
 * about 0.3 s here).
 */
export function characterTokenizer(name: string, worker?: EncodeWorker): LoadedTokenizer {
  return {
    name,
    source: 'characters (--no-tokenizer)',
    encode: characterIds,
    renderChat: () => undefined,
    chatTokens: () => undefined,
    encodeAsync: (text) => (worker && offThread(text) ? worker.encode({ kind: 'characters' }, text) : Promise.resolve(characterIds(text))),
    chatTokensAsync: () => Promise.resolve(undefined),
    chatIdsAsync: () => Promise.resolve(undefined),
    specialTokens: { prefix: [], suffix: [] },
    tokenString: (id) => pieces.text(id) ?? undefined,
    pieces,
    encoding: 'characters',
  };
}

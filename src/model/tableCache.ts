// Prepared tokenizer tables (preparedBpe.ts) kept in a file, so that a second start, and every --workers
// worker after the first start on this machine, loads them instead of building them from tokenizer.json.
// A tables file is named by the SHA-256 of tokenizer.json's bytes (the key) and this format's version. Reading
// and hashing 11 MB on every start would cost more than the tables save, so each tokenizer.json's path also
// has a small source file that holds the key of its bytes together with the file's status (device, inode,
// size, modification and change times) when they were hashed: while the status is the same, so are the bytes,
// and the key is taken from there. Any write to the file changes its change time, which no one can set back.
// Files live in a folder of this user's under the system's temporary folder, and are written whole under
// another name, then renamed, so a reader sees either no file or a whole one. Anything wrong with a file makes
// it a miss, never an error.
import { createHash } from 'node:crypto';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import type { PreparedBpe, TokenizerJsonRest } from './preparedBpe.js';
import { cacheFolder } from '../cacheFolder.js';

// Bump when the layout or the meaning of the tables changes; old files are then simply not read.
// 3: the vocabulary as one UTF-16 text and each token's length, not a JSON array (1). Cutting the text is
// quicker than JSON.parse, and the Map from text to id that the library needs then takes about as long. (2, a
// V8-serialized object, read quicker still, but the Map built from its strings took longer than that saved.)
const FORMAT = 3;
const MAGIC = Buffer.from('MOCKTOK\n', 'latin1');

interface Header {
  format: number;
  key: string;
  /** The lengths and the pair table are in this machine's byte order. */
  endianness: string;
  /** Tokens in the vocabulary, and UTF-16 code units of them all. */
  tokens: number;
  units: number;
  slots: number;
  rest: TokenizerJsonRest;
  odd: Array<[string, number]>;
}

/** The cache key of a tokenizer.json's bytes. */
export function tableKey(tokenizerJson: Uint8Array): string {
  return createHash('sha256').update(tokenizerJson).digest('hex');
}

function fileOf(dir: string, key: string): string {
  return join(dir, `${key}.v${FORMAT}.tables`);
}

const align4 = (n: number): number => (n + 3) & ~3;

/** Where each part of a file lies, from its header's length and counts. */
function layout(headLength: number, h: Pick<Header, 'tokens' | 'units' | 'slots'>): { lengthsAt: number; textAt: number; pairsAt: number; end: number } {
  const lengthsAt = align4(MAGIC.length + 4 + headLength);
  const textAt = lengthsAt + h.tokens * 4;
  const pairsAt = align4(textAt + h.units * 2);
  return { lengthsAt, textAt, pairsAt, end: pairsAt + h.slots * 12 };
}

/** The file's bytes: magic, header length, header JSON, token lengths, the vocabulary's text, the pair table. */
export function encodeTables(key: string, p: PreparedBpe): Buffer {
  const text = p.vocab.join('');
  const header: Header = { format: FORMAT, key, endianness: endianness(), tokens: p.vocab.length, units: text.length, slots: p.pairs.length / 3, rest: p.rest, odd: p.odd };
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const at = layout(head.length, header);
  const out = Buffer.alloc(at.end);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(head.length, MAGIC.length);
  head.copy(out, MAGIC.length + 4);
  const lengths = Uint32Array.from(p.vocab, (t) => t.length);
  Buffer.from(lengths.buffer).copy(out, at.lengthsAt);
  out.write(text, at.textAt, 'utf16le');
  Buffer.from(p.pairs.buffer, p.pairs.byteOffset, p.pairs.byteLength).copy(out, at.pairsAt);
  return out;
}

/** The tables of a file's bytes, or undefined if they are not whole tables of this format for this key. */
export function decodeTables(key: string, buf: Buffer): PreparedBpe | undefined {
  try {
    if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    const headLength = buf.readUInt32LE(MAGIC.length);
    const h = JSON.parse(buf.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + headLength)) as Header;
    if (h.format !== FORMAT || h.key !== key || h.endianness !== endianness()) return undefined;
    const { tokens, units, slots } = h;
    if (![tokens, units, slots].every(Number.isSafeInteger) || slots < 16 || (slots & (slots - 1)) !== 0) return undefined;
    const at = layout(headLength, h);
    if (buf.length !== at.end || !h.rest || typeof h.rest.model !== 'object' || !Array.isArray(h.odd)) return undefined;
    // Copied out of the file's buffer: typed arrays need their own aligned memory.
    const lengths = new Uint32Array(tokens);
    Buffer.from(lengths.buffer).set(buf.subarray(at.lengthsAt, at.textAt));
    const text = buf.toString('utf16le', at.textAt, at.textAt + units * 2);
    const vocab = new Array<string>(tokens);
    let from = 0;
    for (let i = 0; i < tokens; i++) {
      const to = from + lengths[i]!;
      vocab[i] = text.slice(from, to);
      from = to;
    }
    if (from !== units) return undefined;
    const pairs = new Int32Array(slots * 3);
    Buffer.from(pairs.buffer).set(buf.subarray(at.pairsAt));
    return { rest: h.rest, vocab, pairs, odd: h.odd };
  } catch {
    return undefined;
  }
}

/** The tables stored for this key, if a whole, valid file holds them. */
export async function readTables(key: string): Promise<PreparedBpe | undefined> {
  const dir = cacheFolder();
  if (!dir) return undefined;
  let buf: Buffer;
  try {
    buf = await readFile(fileOf(dir, key));
  } catch {
    return undefined;
  }
  return decodeTables(key, buf);
}

/**
 * Writes a file whole: under another name first, then renamed over the old one. The bytes go in one write
 * call where writeFile would take a turn of the event loop per 512 KiB: a process that stops soon after its
 * first answer (a test, a short benchmark) then still leaves its tables behind.
 */
async function writeWhole(file: string, bytes: Uint8Array): Promise<boolean> {
  const partial = `${file}.${process.pid}.${Date.now()}.partial`;
  try {
    const handle = await open(partial, 'w', 0o600);
    try {
      for (let at = 0; at < bytes.length; ) at += (await handle.write(bytes, at)).bytesWritten;
    } finally {
      await handle.close();
    }
    await rename(partial, file);
    return true;
  } catch {
    await unlink(partial).catch(() => undefined);
    return false;
  }
}

/** Stores the tables for this key; resolves with false (and stores nothing) when that is not possible. */
export async function writeTables(key: string, p: PreparedBpe): Promise<boolean> {
  const dir = cacheFolder();
  if (!dir) return false;
  return writeWhole(fileOf(dir, key), encodeTables(key, p));
}

// ---- the key of a tokenizer.json from its status ---------------------------------------------------------

/** A tokenizer.json as last hashed: its path, its status then, and the key of its bytes. */
interface Source {
  path: string;
  status: string;
  key: string;
}

/** What tells a file's content has changed: where it is, its size, and when it was last modified or changed. */
export interface FileStatus {
  /** The status as one string, compared whole. */
  readonly text: string;
  /** When the file was last changed (its ctime), in milliseconds. */
  readonly changedMs: number;
}

/** The status of a file now; throws as fs.stat does (a missing file is the caller's error to report). */
export async function fileStatus(path: string): Promise<FileStatus> {
  const st = await stat(path, { bigint: true });
  return { text: `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`, changedMs: Number(st.ctimeNs / 1_000_000n) };
}

function sourceFileOf(dir: string, path: string): string {
  return join(dir, `${createHash('sha256').update(path).digest('hex').slice(0, 40)}.v${FORMAT}.source`);
}

/** The key of the bytes of the file at `path`, if they were hashed when the file had this very status. */
export async function knownKey(path: string, status: FileStatus): Promise<string | undefined> {
  const dir = cacheFolder();
  if (!dir) return undefined;
  try {
    const s = JSON.parse(await readFile(sourceFileOf(dir, path), 'utf8')) as Partial<Source>;
    return s.path === path && s.status === status.text && typeof s.key === 'string' && /^[0-9a-f]{64}$/.test(s.key) ? s.key : undefined;
  } catch {
    return undefined;
  }
}

// A file changed within this long before it was hashed may change again without its times showing it, on a
// file system that keeps times to the second (git's "racy" entries): its key is then not remembered.
const SETTLED_MS = 2000;

/** Remembers that the file at `path`, with this status, holds bytes of this key; false when not remembered. */
export async function rememberKey(path: string, status: FileStatus, key: string): Promise<boolean> {
  const dir = cacheFolder();
  if (!dir || Date.now() - status.changedMs < SETTLED_MS) return false;
  const source: Source = { path, status: status.text, key };
  return writeWhole(sourceFileOf(dir, path), Buffer.from(JSON.stringify(source)));
}

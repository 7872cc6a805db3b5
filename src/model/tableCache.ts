// Prepared tokenizer tables (preparedBpe.ts) kept in a file, so that a second start, and every --workers
// worker after the first start on this machine, loads them instead of building them from tokenizer.json.
// The file is named by the SHA-256 of tokenizer.json and this format's version; it lives in a folder of
// this user's under the system's temporary folder, and is written whole under another name, then renamed,
// so a reader sees either no file or a whole one. Anything wrong with a file makes it a miss, never an error.
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PreparedBpe, TokenizerJsonRest } from './preparedBpe.js';

// Bump when the layout or the meaning of the tables changes; old files are then simply not read.
const FORMAT = 1;
const MAGIC = Buffer.from('MOCKTOK\n', 'latin1');

interface Header {
  format: number;
  key: string;
  endianness: string;
  vocabBytes: number;
  slots: number;
  rest: TokenizerJsonRest;
  odd: Array<[string, number]>;
}

/** The cache key of a tokenizer.json's bytes. */
export function tableKey(tokenizerJson: Uint8Array): string {
  return createHash('sha256').update(tokenizerJson).digest('hex');
}

/** This user's folder for the tables, created if need be; undefined when it cannot be trusted or made. */
function folder(): string | undefined {
  const dir = join(tmpdir(), `aiperf-mock-server-${process.getuid?.() ?? 'user'}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    // Another user's folder (or a link planted in its place) could hold tables made to give wrong ids.
    if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid()) || (st.mode & 0o022) !== 0) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

function fileOf(dir: string, key: string): string {
  return join(dir, `${key}.v${FORMAT}.tables`);
}

const align4 = (n: number): number => (n + 3) & ~3;

/** The file's bytes: magic, header length, header JSON, the vocabulary as a JSON array, the pair table. */
export function encodeTables(key: string, p: PreparedBpe): Buffer {
  const vocab = Buffer.from(JSON.stringify(p.vocab), 'utf8');
  const header: Header = { format: FORMAT, key, endianness: endianness(), vocabBytes: vocab.length, slots: p.pairs.length / 3, rest: p.rest, odd: p.odd };
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const vocabAt = align4(MAGIC.length + 4 + head.length);
  const pairsAt = align4(vocabAt + vocab.length);
  const out = Buffer.alloc(pairsAt + p.pairs.byteLength);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(head.length, MAGIC.length);
  head.copy(out, MAGIC.length + 4);
  vocab.copy(out, vocabAt);
  Buffer.from(p.pairs.buffer, p.pairs.byteOffset, p.pairs.byteLength).copy(out, pairsAt);
  return out;
}

/** The tables of a file's bytes, or undefined if they are not whole tables of this format for this key. */
export function decodeTables(key: string, buf: Buffer): PreparedBpe | undefined {
  try {
    if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    const headLength = buf.readUInt32LE(MAGIC.length);
    const header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + headLength)) as Header;
    if (header.format !== FORMAT || header.key !== key || header.endianness !== endianness()) return undefined;
    const vocabAt = align4(MAGIC.length + 4 + headLength);
    const pairsAt = align4(vocabAt + header.vocabBytes);
    const slots = header.slots;
    if (!Number.isInteger(slots) || slots < 16 || (slots & (slots - 1)) !== 0 || buf.length !== pairsAt + slots * 12) return undefined;
    const vocab = JSON.parse(buf.toString('utf8', vocabAt, vocabAt + header.vocabBytes)) as unknown;
    if (!Array.isArray(vocab) || !vocab.every((t) => typeof t === 'string')) return undefined;
    // Copied out of the file's buffer: an Int32Array needs its own aligned memory.
    const pairs = new Int32Array(slots * 3);
    Buffer.from(pairs.buffer).set(buf.subarray(pairsAt));
    if (!header.rest || typeof header.rest.model !== 'object' || !Array.isArray(header.odd)) return undefined;
    return { rest: header.rest, vocab: vocab as string[], pairs, odd: header.odd };
  } catch {
    return undefined;
  }
}

/** The tables stored for this key, if a whole, valid file holds them. */
export async function readTables(key: string): Promise<PreparedBpe | undefined> {
  const dir = folder();
  if (!dir) return undefined;
  let buf: Buffer;
  try {
    buf = await readFile(fileOf(dir, key));
  } catch {
    return undefined;
  }
  return decodeTables(key, buf);
}

/** Stores the tables for this key; resolves with false (and stores nothing) when that is not possible. */
export async function writeTables(key: string, p: PreparedBpe): Promise<boolean> {
  const dir = folder();
  if (!dir) return false;
  const file = fileOf(dir, key);
  const partial = `${file}.${process.pid}.${Date.now()}.partial`;
  try {
    await writeFile(partial, encodeTables(key, p), { mode: 0o600 });
    await rename(partial, file);
    return true;
  } catch {
    await unlink(partial).catch(() => undefined);
    return false;
  }
}

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
import { lstatSync, mkdirSync } from 'node:fs';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { PreparedBpe, TokenizerJsonRest } from './preparedBpe.js';

// Bump when the layout or the meaning of the tables changes; old files are then simply not read.
// 2: the tables as one V8-serialized object (the vocabulary loads in a third of JSON.parse's time).
const FORMAT = 2;
const MAGIC = Buffer.from('MOCKTOK\n', 'latin1');

/** What a tables file holds after its magic and length. */
interface Stored {
  format: number;
  key: string;
  /** V8's serialization format may change between versions: a file of another V8 is not read. */
  v8: string;
  rest: TokenizerJsonRest;
  vocab: string[];
  pairs: Int32Array;
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

/** The file's bytes: magic, the payload's length, the V8-serialized tables. */
export function encodeTables(key: string, p: PreparedBpe): Buffer {
  const stored: Stored = { format: FORMAT, key, v8: process.versions.v8, rest: p.rest, vocab: p.vocab, pairs: p.pairs, odd: p.odd };
  const payload = serialize(stored);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(payload.length);
  return Buffer.concat([MAGIC, length, payload]);
}

/** The tables of a file's bytes, or undefined if they are not whole tables of this format for this key. */
export function decodeTables(key: string, buf: Buffer): PreparedBpe | undefined {
  try {
    if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    if (buf.readUInt32LE(MAGIC.length) !== buf.length - MAGIC.length - 4) return undefined;
    const s = deserialize(buf.subarray(MAGIC.length + 4)) as Partial<Stored> | null;
    if (!s || s.format !== FORMAT || s.key !== key || s.v8 !== process.versions.v8) return undefined;
    const { rest, vocab, pairs, odd } = s;
    if (!(pairs instanceof Int32Array) || !Array.isArray(vocab) || !Array.isArray(odd) || !rest || typeof rest.model !== 'object') return undefined;
    const slots = pairs.length / 3;
    if (!Number.isInteger(slots) || slots < 16 || (slots & (slots - 1)) !== 0) return undefined;
    for (let i = 0; i < vocab.length; i++) if (typeof vocab[i] !== 'string') return undefined;
    return { rest, vocab, pairs, odd };
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
  const dir = folder();
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
  const dir = folder();
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
  const dir = folder();
  if (!dir || Date.now() - status.changedMs < SETTLED_MS) return false;
  const source: Source = { path, status: status.text, key };
  return writeWhole(sourceFileOf(dir, path), Buffer.from(JSON.stringify(source)));
}

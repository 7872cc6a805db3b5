// This user's folder for what a start keeps for the next one: prepared tokenizer tables (model/tableCache.ts)
// and, on Node 22.1 and later, compiled code (compileCache.ts).
import { lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The folder, created if need be; undefined when it cannot be trusted or made. */
export function cacheFolder(): string | undefined {
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

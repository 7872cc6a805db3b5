// Node 22.1 and later keep V8's compiled code of the modules a process loads on disk, and a later start
// loads it instead of compiling again: most of a start is loading modules (Koa, openapi-backend, Ajv, the
// tokenizer libraries). The CLI imports this module first, so that the modules serve() imports afterwards
// are covered. On Node 20 there is no such cache, and this does nothing.
import module from 'node:module';
import { join } from 'node:path';
import { cacheFolder } from './cacheFolder.js';

const enable = (module as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache;
if (enable) {
  const dir = cacheFolder();
  // A cache that cannot be written is only a slower start.
  if (dir) {
    try {
      enable(join(dir, 'compile-cache'));
    } catch {
      // left off
    }
  }
}

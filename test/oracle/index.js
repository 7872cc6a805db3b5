// The oracle's entry point: transformers.js as installed in this folder. index.d.ts declares the part of it that
// test/tokenizer-oracle.test.ts uses.
export { AutoTokenizer, env } from '@huggingface/transformers';

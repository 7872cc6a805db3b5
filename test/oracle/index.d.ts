// The part of transformers.js (@huggingface/transformers, pinned in ./package.json) that the tokenizer oracle test
// uses. Declared here rather than imported from the package, so that the project builds before this package is
// installed (`npm ci` builds; `npm test` installs the oracle).
export interface OracleTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): number[];
  decode(ids: readonly number[], options?: { clean_up_tokenization_spaces?: boolean }): string;
  apply_chat_template(messages: ReadonlyArray<{ role: string; content: string }>, options: { tokenize: false; add_generation_prompt: boolean }): unknown;
  clean_up_tokenization_spaces: boolean;
  model: { vocab: ArrayLike<unknown> };
}

export declare const AutoTokenizer: { from_pretrained(modelId: string): Promise<OracleTokenizer> };

/** Where models come from: the test turns the hub off and points local models at a folder. */
export declare const env: { allowRemoteModels: boolean; allowLocalModels: boolean; localModelPath: string };

// The endpoint types AIPerf benchmarks against this server in test/aiperf.test.ts, one row each. A new endpoint
// in the server is one more row here; the names are AIPerf's --endpoint-type values (its plugin registry,
// aiperf/plugin/plugins.yaml, under `endpoint:`), and the paths it posts to are the registry's endpoint_path.

export interface AiperfRow {
  /** AIPerf's --endpoint-type. */
  endpointType: string;
  /** --streaming: TTFT and ITL are measured only on streamed answers. */
  streaming: boolean;
  /**
   * `tokens`: the answer is generated text, so OSL (asked with --osl and ignore_eos) and the latency model apply.
   * `body`: one body per request (embeddings, rankings, images): AIPerf counts no output tokens.
   */
  answer: 'tokens' | 'body';
  /**
   * How many prompt tokens the server's usage counts beyond AIPerf's ISL, or null where the answer carries no
   * usage.prompt_tokens or AIPerf does not read it (the raw type reads only text from the answer). AIPerf's ISL is its own tokenizer's count of the text it generated (bare text: it does not
   * apply the chat template unless --apply-chat-template); the server counts what the model would see.
   */
  promptOverhead: number | null;
  /** Names the row apart from another of the same type and streaming, in the test's name. */
  variant?: string;
  /** Flags this endpoint type needs beyond the common ones (e.g. passages per ranking request). */
  args?: readonly string[];
  /** False where AIPerf takes no text prompt and refuses --tokenizer, --isl and --osl for the type (image_retrieval sends only images, audio_transcription only audio). */
  textPrompt?: false;
  /**
   * Whether AIPerf's ISL is the asked length, and so asserted: by default for `tokens` answers and not for `body`
   * ones. False where AIPerf 0.13 counts no ISL for the type's payload (SOLIDO's `query` is a list, which its
   * payload walk does not read); true for a `body` row whose inputs AIPerf counts as it generated them (the
   * embeddings' texts).
   */
  islCounted?: boolean;
  /**
   * The `template` type has no payload of its own: AIPerf renders this Jinja file (a name under test/aiperf/) into
   * each request body, given to it as the path in `--extra-inputs payload_template:<path>`.
   */
  payloadTemplate?: string;
  /**
   * The `raw` type formats nothing: each request is one line of this JSONL file (a name under test/aiperf/), sent
   * as it is (AIPerf's raw_payload dataset) to the row's --custom-endpoint.
   */
  rawPayloads?: string;
  /**
   * Tokens AIPerf's OSL counts beyond what the server generated. AIPerf 0.13's raw type takes a stream event that is
   * not JSON as text, so it counts the stream's closing `data: [DONE]` (which OpenAI and vLLM send too) as the
   * text `[DONE]`: 3 Qwen3 tokens. (The server's usage.completion_tokens, which this type does not read, is the OSL.)
   */
  oslCountedExtra?: number;
}

/**
 * Qwen3's chat template wraps one user message in `<|im_start|>user\n` … `<|im_end|>\n<|im_start|>assistant\n`:
 * 3 tokens before the text and 5 after it, for every prompt.
 */
const QWEN3_ONE_USER_MESSAGE = 8;

/** `[DONE]` read as text: `[D`, `ONE`, `]` in Qwen3's vocabulary. */
const DONE_AS_TEXT = 3;

/** For the ranking rows: a fixed number of passages per request, so the request bodies are all alike. */
export const RANKINGS_ARGS: readonly string[] = ['--rankings-passages-mean', '4', '--rankings-passages-stddev', '0'];

/** For the image retrieval and multimodal rows: one 64x64 PNG per request (AIPerf's synthetic images), as a data URL. */
export const ONE_SMALL_IMAGE_ARGS: readonly string[] = ['--image-batch-size', '1', '--image-width-mean', '64', '--image-height-mean', '64', '--image-format', 'png'];

export const ROWS: readonly AiperfRow[] = [
  { endpointType: 'chat', streaming: true, answer: 'tokens', promptOverhead: QWEN3_ONE_USER_MESSAGE },
  { endpointType: 'chat', streaming: false, answer: 'tokens', promptOverhead: QWEN3_ONE_USER_MESSAGE },
  { endpointType: 'completions', streaming: true, answer: 'tokens', promptOverhead: 0 },
  { endpointType: 'completions', streaming: false, answer: 'tokens', promptOverhead: 0 },
  // Hugging Face TGI: the answer carries no usage (TGI reports none).
  { endpointType: 'huggingface_generate', streaming: true, answer: 'tokens', promptOverhead: null },
  { endpointType: 'huggingface_generate', streaming: false, answer: 'tokens', promptOverhead: null },
  // As the server answers them (issue 11), one line each, e.g.:
  { endpointType: 'embeddings', streaming: false, answer: 'body', promptOverhead: 0, islCounted: true },
  // vLLM's chat-shaped embeddings request, to /v1/embeddings: the conversation is one input, through the template.
  { endpointType: 'chat_embeddings', streaming: false, answer: 'body', promptOverhead: QWEN3_ONE_USER_MESSAGE, islCounted: true },
  // NVIDIA NIM's embeddings: texts, and texts each with one small PNG ("<text> data:image/png;base64,..."), which the
  // server counts as an image. AIPerf's payload walk tokenizes the whole input, data URL too, so that ISL is not
  // the asked length.
  { endpointType: 'nim_embeddings', streaming: false, answer: 'body', promptOverhead: 0, islCounted: true },
  { endpointType: 'nim_embeddings', streaming: false, answer: 'body', promptOverhead: null, args: ONE_SMALL_IMAGE_ARGS, islCounted: false, variant: 'images' },
  { endpointType: 'nim_rankings', streaming: false, answer: 'body', promptOverhead: null, args: RANKINGS_ARGS },
  { endpointType: 'hf_tei_rankings', streaming: false, answer: 'body', promptOverhead: null, args: RANKINGS_ARGS },
  { endpointType: 'cohere_rankings', streaming: false, answer: 'body', promptOverhead: null, args: RANKINGS_ARGS },
  // Images: AIPerf sends its --model (served as an open server's image model) with response_format b64_json; the
  // answer's usage counts image tokens, not text ones. Streamed: OpenAI's named partial/completed image events.
  { endpointType: 'image_generation', streaming: false, answer: 'body', promptOverhead: null },
  { endpointType: 'image_generation', streaming: true, answer: 'body', promptOverhead: null, args: ['--extra-inputs', 'partial_images:2'] },
  // Audio transcription: AIPerf uploads one synthetic WAV per request (its audio dataset, 1 s here) as a multipart
  // form; the answer is the transcript, whole (AIPerf's type does not stream), with token usage.
  { endpointType: 'audio_transcription', streaming: false, answer: 'body', promptOverhead: null, args: ['--audio-length-mean', '1', '--audio-length-stddev', '0', '--audio-format', 'wav'], textPrompt: false },
  // Image edit: AIPerf uploads one small synthetic PNG and the prompt as a form, with response_format b64_json.
  { endpointType: 'image_edit', streaming: false, answer: 'body', promptOverhead: null, args: ONE_SMALL_IMAGE_ARGS },
  // AIPerf's fixtures. NIM image retrieval needs images in its dataset: one small PNG per request.
  { endpointType: 'image_retrieval', streaming: false, answer: 'body', promptOverhead: null, args: ONE_SMALL_IMAGE_ARGS, textPrompt: false },
  // SOLIDO's payload has no length field: the OSL goes in as this server's max_tokens.
  { endpointType: 'solido_rag', streaming: false, answer: 'tokens', promptOverhead: null, args: ['--extra-inputs', 'max_tokens:64'], islCounted: false },
  // The custom multimodal API through AIPerf's generic template type: the body is our template's, the path is
  // named (the type has none), and AIPerf reads the answer's `text` (its default response field). As in AIPerf's own
  // test of it, each request also carries an image and a short audio clip. The answer is whole only, as in AIPerf's
  // mock; its usage is `tokens_used`, which AIPerf does not read; and AIPerf's payload walk does not read
  // `modality_bundle.text_fragments`, so it counts no ISL.
  {
    endpointType: 'template',
    streaming: false,
    answer: 'tokens',
    promptOverhead: null,
    payloadTemplate: 'custom-multimodal.jinja',
    args: ['--custom-endpoint', '/v1/custom-multimodal', ...ONE_SMALL_IMAGE_ARGS, '--audio-length-mean', '0.1', '--audio-length-stddev', '0'],
    islCounted: false,
  },
  // Ready-made chat completion bodies, streamed as they ask (stream, stream_options.include_usage, max_tokens 64,
  // ignore_eos): each line's prompt is 100 Qwen3 tokens, the workload's ISL, so the asserted lengths are those.
  {
    endpointType: 'raw',
    streaming: true,
    answer: 'tokens',
    promptOverhead: null,
    rawPayloads: 'raw-chat.jsonl',
    oslCountedExtra: DONE_AS_TEXT,
    args: ['--custom-endpoint', '/v1/chat/completions'],
  },
];

export function rowName(row: AiperfRow): string {
  return `${row.endpointType}${row.streaming ? ' (streaming)' : ''}${row.variant ? ` (${row.variant})` : ''}`;
}

// The typed client (`aiperf-mock-server/client`): openapi-fetch over the contract's generated `paths`, one
// method per operationId of openapi.yaml, and stream helpers that read an SSE body as typed chunks up to
// `data: [DONE]`. Errors are thrown as MockServerError carrying the OpenAI error body, as openai-node does.
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { operations, paths } from '../generated/openapi.js';
import { sseData } from './http/sseReader.js';
import type {
  ChatChunk,
  ChatRequest,
  ChatResponse,
  DetokenizeRequest,
  DetokenizeResponse,
  LoadLoraAdapterRequest,
  UnloadLoraAdapterRequest,
  TokenizeRequest,
  TokenizeResponse,
  VersionResponse,
  CompletionChunk,
  CompletionRequest,
  CompletionResponse,
  CohereRerankRequest,
  CohereRerankResponse,
  CohereRerankV1Request,
  ChatEmbeddingRequest,
  ConfigureRequest,
  EmbeddingRequest,
  EmbeddingResponse,
  ErrorBody,
  HealthBody,
  CreateImageRequest,
  ImagesResponse,
  ImageRetrievalRequest,
  ImageRetrievalResponse,
  SolidoRagRequest,
  SolidoRagResponse,
  CustomMultimodalRequest,
  CustomMultimodalResponse,
  CreateTranscriptionRequest,
  CreateImageEditRequest,
  TranscriptionJson,
  TranscriptionVerboseJson,
  Model,
  ModelList,
  RankingRequest,
  RankingResponse,
  RootBody,
  Schemas,
  TeiRerankRequest,
  TeiRerankResponse,
  TgiCompatGenerateRequest,
  TgiCompatGenerateResponse,
  TgiErrorResponse,
  TgiGenerateRequest,
  TgiGenerateResponse,
  TgiInfo,
  TgiStreamResponse,
  ResponseRequest,
  ResponseObject,
  ResponseStreamEvent,
  Message,
  MessageRequest,
  MessageStreamEvent,
  CountMessageTokensRequest,
  MessageTokensCount,
} from './types.js';

export type { ChatChunk, ChatRequest, ChatResponse, CompletionChunk, CompletionRequest, CompletionResponse, ErrorBody } from './types.js';

/**
 * openapi-typescript marks a property that has a default as always present (its `defaultNonNullable`), which is
 * right for responses; a request may leave it out and the server applies the default.
 */
type Defaulted<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/** A chat request answered whole: `stream` is absent or false. */
export type ChatCompletionParams = Omit<ChatRequest, 'stream' | 'stream_options'> & { stream?: false | null };
/** A chat request answered as a stream; `stream: true` is set by `streamChat`. */
export type ChatStreamParams = Omit<ChatRequest, 'stream'>;
export type CompletionParams = Omit<Defaulted<CompletionRequest, 'echo'>, 'stream' | 'stream_options'> & { stream?: false | null };
export type CompletionStreamParams = Omit<Defaulted<CompletionRequest, 'echo'>, 'stream'>;
export type ConfigureResponse = Schemas['ConfigureResponse'];
export type OpenApiDocument = operations['getOpenApiJson']['responses'][200]['content']['application/json'];
// Rankings: the fields with a default may be left out.
export type TeiRerankParams = Defaulted<TeiRerankRequest, 'raw_scores' | 'return_text' | 'truncate' | 'truncation_direction'>;
export type CohereRerankParams = Defaulted<CohereRerankRequest, 'max_tokens_per_doc' | 'return_documents'>;
export type CohereRerankV1Params = Defaulted<CohereRerankV1Request, 'return_documents'>;
export type { CohereRerankResponse, RankingRequest, RankingResponse, TeiRerankResponse } from './types.js';
// Embeddings: the request and answer types of both paths.
export type { ChatEmbeddingRequest, EmbeddingRequest, EmbeddingResponse } from './types.js';
// OpenAI Responses: a request answered whole (`stream` absent or false); the fields with a default may be left out.
export type ResponseParams = Omit<Defaulted<ResponseRequest, 'store' | 'parallel_tool_calls'>, 'stream'> & { stream?: false | null };
/** A Responses request answered as a stream; `stream: true` is set by `streamResponse`. */
export type ResponseStreamParams = Omit<Defaulted<ResponseRequest, 'store' | 'parallel_tool_calls'>, 'stream'>;
export type { ResponseObject, ResponseRequest, ResponseStreamEvent } from './types.js';
// Hugging Face TGI: POST / answered whole (`stream` false); its stream is tgiGenerateStream's.
export type TgiCompatGenerateParams = Omit<TgiCompatGenerateRequest, 'stream'> & { stream?: false };
export type { TgiGenerateRequest, TgiGenerateResponse, TgiCompatGenerateResponse, TgiInfo, TgiStreamResponse } from './types.js';

// Audio: the upload is a Blob (or File); the other fields as in the contract. Answered whole as JSON.
export type TranscriptionParams = Omit<CreateTranscriptionRequest, 'file' | 'response_format' | 'stream'> & {
  file: Blob;
  response_format?: 'json' | 'verbose_json';
};
export type { TranscriptionJson, TranscriptionVerboseJson } from './types.js';
// Image edits: the images (and mask) as Blobs; answered whole.
export type ImageEditParams = Omit<CreateImageEditRequest, 'image' | 'mask' | 'stream'> & { image: Blob | Blob[]; mask?: Blob };

/** A request's fields as a multipart form: a Blob as a file part, a list as repeated fields, the rest as text. */
function toForm(fields: Record<string, unknown>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v instanceof Blob) form.append(name, v, v instanceof File ? v.name : name);
      else form.append(name, String(v));
    }
  }
  return form;
}

// Anthropic Messages: answered whole (`stream` absent or false), or as events by streamMessage.
export type MessageParams = Omit<MessageRequest, 'stream'> & { stream?: false };
export type { Message, MessageRequest, MessageStreamEvent, CountMessageTokensRequest, MessageTokensCount } from './types.js';
/** The `anthropic-version` the client sends unless a call's headers carry one. */
export const ANTHROPIC_VERSION = '2023-06-01';

/** Per call: an abort signal and extra headers (such as `X-Request-ID`). */
export interface CallOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** A non-2xx answer, or an error event inside a stream: the server's OpenAI error body, with the HTTP status. */
export class MockServerError extends Error {
  readonly status: number;
  readonly body: ErrorBody;
  readonly requestId: string | null;

  constructor(status: number, body: ErrorBody, requestId: string | null = null) {
    super(`${status} ${body.error.message}`);
    this.name = 'MockServerError';
    this.status = status;
    this.body = body;
    this.requestId = requestId;
  }

  get type(): string {
    return this.body.error.type;
  }

  get param(): string | null {
    return this.body.error.param;
  }

  get code(): string | number | null {
    return this.body.error.code;
  }
}

/** Every operation of openapi.yaml is a method named after its operationId: a missing one fails to compile. */
type OperationMethods = { [K in keyof operations]: (...args: never[]) => Promise<unknown> };

export interface MockClient extends OperationMethods {
  createChatCompletion(body: ChatCompletionParams, options?: CallOptions): Promise<ChatResponse>;
  createCompletion(body: CompletionParams, options?: CallOptions): Promise<CompletionResponse>;
  listModels(options?: CallOptions): Promise<ModelList>;
  retrieveModel(model: string, options?: CallOptions): Promise<Model>;
  configure(patch: ConfigureRequest, options?: CallOptions): Promise<ConfigureResponse>;
  getHealth(options?: CallOptions): Promise<HealthBody>;
  getVersion(options?: CallOptions): Promise<VersionResponse>;
  tokenize(body: TokenizeRequest, options?: CallOptions): Promise<TokenizeResponse>;
  detokenize(body: DetokenizeRequest, options?: CallOptions): Promise<DetokenizeResponse>;
  /** vLLM's run-time LoRA loading; resolves with vLLM's success text. */
  loadLoraAdapter(body: LoadLoraAdapterRequest, options?: CallOptions): Promise<string>;
  /** vLLM's run-time LoRA unloading; resolves with vLLM's success text. */
  unloadLoraAdapter(body: UnloadLoraAdapterRequest, options?: CallOptions): Promise<string>;
  getRoot(options?: CallOptions): Promise<RootBody>;
  /** Prometheus metrics (text exposition format). */
  getMetrics(options?: CallOptions): Promise<string>;
  /** The documentation page (HTML). */
  getDocs(options?: CallOptions): Promise<string>;
  /** openapi.yaml as text. */
  getOpenApiYaml(options?: CallOptions): Promise<string>;
  getOpenApiJson(options?: CallOptions): Promise<OpenApiDocument>;
  /**
   * POST /v1/chat/completions with `stream: true`, as typed chunks. The request is sent when iteration starts;
   * iteration ends at `data: [DONE]`; leaving the loop early closes the connection (the server stops the stream).
   */
  streamChat(body: ChatStreamParams, options?: CallOptions): AsyncIterable<ChatChunk>;
  /** POST /v1/completions with `stream: true`, as typed chunks (see streamChat). */
  streamCompletion(body: CompletionStreamParams, options?: CallOptions): AsyncIterable<CompletionChunk>;
  /** POST /v1/ranking (NVIDIA NIM). */
  createRanking(body: RankingRequest, options?: CallOptions): Promise<RankingResponse>;
  /** POST /rerank (Hugging Face TEI): an array, highest score first. */
  teiRerank(body: TeiRerankParams, options?: CallOptions): Promise<TeiRerankResponse>;
  /** POST /v2/rerank (Cohere v2). */
  cohereRerank(body: CohereRerankParams, options?: CallOptions): Promise<CohereRerankResponse>;
  /** POST /v1/rerank (Cohere v1). */
  cohereRerankV1(body: CohereRerankV1Params, options?: CallOptions): Promise<CohereRerankResponse>;
  /**
   * POST /v1/embeddings, as sent: the vectors come back as `encoding_format` says (numbers by default, base64
   * strings for `base64`; unlike openai-node, this client never asks for base64 on its own).
   */
  createEmbedding(body: EmbeddingRequest, options?: CallOptions): Promise<EmbeddingResponse>;
  /** POST /v1/chat/embeddings: one vector for the whole conversation. */
  createChatEmbedding(body: ChatEmbeddingRequest, options?: CallOptions): Promise<EmbeddingResponse>;
  /** POST /generate (Hugging Face TGI). */
  tgiGenerate(body: TgiGenerateRequest, options?: CallOptions): Promise<TgiGenerateResponse>;
  /**
   * POST /generate_stream (Hugging Face TGI): resolves once the answer's status is known, to its token events.
   * TGI's streams have no `[DONE]`: iteration ends after the event that carries `generated_text`; an error
   * event (how TGI refuses a streamed request) throws MockServerError, and so does a stream cut before its end.
   */
  tgiGenerateStream(body: TgiGenerateRequest, options?: CallOptions): Promise<AsyncIterable<TgiStreamResponse>>;
  /** POST / (Hugging Face TGI), answered whole: a one-element array; `return_full_text` defaults to true there. */
  tgiCompatGenerate(body: TgiCompatGenerateParams, options?: CallOptions): Promise<TgiCompatGenerateResponse>;
  /** GET /info (Hugging Face TGI). */
  tgiGetInfo(options?: CallOptions): Promise<TgiInfo>;
  // Telemetry: each page is Prometheus text, as its real exporter writes it.
  /** GET /vllm/metrics. */
  getVllmMetrics(options?: CallOptions): Promise<string>;
  /** GET /sglang/metrics. */
  getSglangMetrics(options?: CallOptions): Promise<string>;
  /** GET /trtllm/metrics. */
  getTrtllmMetrics(options?: CallOptions): Promise<string>;
  /** GET /dynamo_frontend/metrics. */
  getDynamoFrontendMetrics(options?: CallOptions): Promise<string>;
  /** GET /dynamo_component/prefill/metrics. */
  getDynamoPrefillMetrics(options?: CallOptions): Promise<string>;
  /** GET /dynamo_component/decode/metrics. */
  getDynamoDecodeMetrics(options?: CallOptions): Promise<string>;
  /** GET /dcgm{index}/metrics: DCGM exporter `index` (from 1). */
  getDcgmMetrics(index: number, options?: CallOptions): Promise<string>;
  // Images.
  /** POST /v1/images/generations, answered whole (`stream` is sent false). */
  createImage(body: CreateImageRequest, options?: CallOptions): Promise<ImagesResponse>;
  /** GET /v1/images/files/{name}: the PNG bytes behind an image's `url` (its last path segment). */
  getImageFile(name: string, options?: CallOptions): Promise<Uint8Array>;
  // AIPerf's test fixtures.
  /** POST /v1/infer (NVIDIA NIM image retrieval). */
  nimImageRetrieval(body: ImageRetrievalRequest, options?: CallOptions): Promise<ImageRetrievalResponse>;
  /** POST /rag/api/prompt (SOLIDO RAG). */
  solidoRagPrompt(body: SolidoRagRequest, options?: CallOptions): Promise<SolidoRagResponse>;
  /** POST /v1/custom-multimodal. */
  customMultimodal(body: CustomMultimodalRequest, options?: CallOptions): Promise<CustomMultimodalResponse>;
  // Audio.
  /** POST /v1/audio/transcriptions as a multipart upload, answered whole as JSON (`json` or `verbose_json`). */
  createTranscription(body: TranscriptionParams, options?: CallOptions): Promise<TranscriptionJson | TranscriptionVerboseJson>;
  /** POST /v1/images/edits as a multipart upload (several images go as repeated `image` fields). */
  createImageEdit(body: ImageEditParams, options?: CallOptions): Promise<ImagesResponse>;
  // OpenAI Responses.
  /** POST /v1/responses, answered whole (`stream` is sent false). */
  createResponse(body: ResponseParams, options?: CallOptions): Promise<ResponseObject>;
  /**
   * POST /v1/responses with `stream: true`, as typed events up to `response.completed` or `response.incomplete`
   * (the stream has no `[DONE]`); an `error` event throws MockServerError, and so does a stream cut before its end.
   */
  streamResponse(body: ResponseStreamParams, options?: CallOptions): AsyncIterable<ResponseStreamEvent>;
  /** GET /v1/responses/{response_id}: a response the server stored. */
  getResponse(responseId: string, options?: CallOptions): Promise<ResponseObject>;
  // Anthropic Messages (the client sends `anthropic-version: 2023-06-01` unless the call's headers set one).
  /** POST /v1/messages, answered whole. */
  createMessage(body: MessageParams, options?: CallOptions): Promise<Message>;
  /**
   * POST /v1/messages with `stream: true`, as typed events up to `message_stop`; an `error` event (or a stream
   * cut before `message_stop`) throws MockServerError.
   */
  streamMessage(body: MessageParams, options?: CallOptions): AsyncIterable<MessageStreamEvent>;
  /** POST /v1/messages/count_tokens. */
  countMessageTokens(body: CountMessageTokensRequest, options?: CallOptions): Promise<MessageTokensCount>;
  /** The underlying openapi-fetch client, for the whole response (`{ data, error, response }`). */
  readonly api: Client<paths>;
}

/** The answer of an openapi-fetch call, as far as the client needs it. */
interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

const isErrorBody = (v: unknown): v is ErrorBody =>
  typeof v === 'object' && v !== null && 'error' in v && typeof v.error === 'object' && v.error !== null && 'message' in v.error;

/** The message of another API's error body: TEI's and TGI's `{error}`, Cohere's and NIM's `{message}`. */
function messageOf(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const { error, message } = v as { error?: unknown; message?: unknown };
  return typeof error === 'string' ? error : typeof message === 'string' ? message : undefined;
}

/**
 * The error of a failed answer: the server's own body when it is OpenAI-shaped, else one made from the
 * message of another API's error body, or from the text.
 */
function failure(response: Response, error: unknown): MockServerError {
  const body: ErrorBody = isErrorBody(error)
    ? error
    : {
        error: {
          message: messageOf(error) ?? (typeof error === 'string' && error !== '' ? error : response.statusText || 'request failed'),
          type: response.status >= 500 ? 'server_error' : 'invalid_request_error',
          param: null,
          code: null,
        },
      };
  return new MockServerError(response.status, body, response.headers.get('x-request-id'));
}

function unwrap<T>({ data, error, response }: Answer<T>): T {
  if (!response.ok || error !== undefined || data === undefined) throw failure(response, error);
  return data;
}

/** Reads an SSE answer as chunks of type T; an `{"error": ...}` event throws; `[DONE]` ends. */
async function* chunks<T>(open: () => Promise<Answer<ReadableStream<Uint8Array> | null>>): AsyncGenerator<T, void, undefined> {
  const { data, error, response } = await open();
  if (!response.ok || error !== undefined || !data) throw failure(response, error);
  const requestId = response.headers.get('x-request-id');
  for await (const text of sseData(data)) {
    if (text === '[DONE]') return;
    const parsed: unknown = JSON.parse(text);
    if (isErrorBody(parsed)) throw new MockServerError(response.status, parsed, requestId);
    yield parsed as T;
  }
  throw new Error('The stream ended before data: [DONE] (the server closed the connection).');
}

const isTgiError = (v: unknown): v is TgiErrorResponse =>
  typeof v === 'object' && v !== null && typeof (v as { error?: unknown }).error === 'string' && typeof (v as { error_type?: unknown }).error_type === 'string';

/** How an API's stream (one without `[DONE]`) tells its events: which is an error, which is the last, and what a cut means. */
interface EventRules<E> {
  /** The error an event tells, as the error thrown; undefined for any other event. */
  error(event: unknown): ErrorBody['error'] | undefined;
  last(event: E): boolean;
  /** The error thrown when the stream ends before its last event. */
  cut: { message: string; type: string };
}

const CUT = '(the server closed the connection).';

/** TGI's: up to the event with `generated_text` (TGI ends its streams by closing); `error_type` is the type. */
const TGI_EVENTS: EventRules<TgiStreamResponse> = {
  error: (e) => (isTgiError(e) ? { message: e.error, type: e.error_type, param: null, code: null } : undefined),
  last: (e) => e.generated_text !== null,
  cut: { message: `The stream ended before its last event ${CUT}`, type: 'incomplete_generation' },
};

const isEvent = (v: unknown, type: string): boolean => typeof v === 'object' && v !== null && (v as { type?: unknown }).type === type;

/** Responses': up to the event that ends the response. */
const RESPONSE_EVENTS: EventRules<ResponseStreamEvent> = {
  error: (e) => {
    if (!isEvent(e, 'error')) return undefined;
    const { message, param, code } = e as Extract<ResponseStreamEvent, { type: 'error' }>;
    return { message, type: 'server_error', param, code };
  },
  last: (e) => e.type === 'response.completed' || e.type === 'response.incomplete',
  cut: { message: `The stream ended before its last event ${CUT}`, type: 'incomplete_generation' },
};

/** Anthropic Messages': up to `message_stop`; an error keeps Anthropic's error type. */
const MESSAGE_EVENTS: EventRules<MessageStreamEvent> = {
  error: (e) => {
    if (!isEvent(e, 'error')) return undefined;
    const { message, type } = (e as Extract<MessageStreamEvent, { type: 'error' }>).error;
    return { message, type, param: null, code: null };
  },
  last: (e) => e.type === 'message_stop',
  cut: { message: `The stream ended before message_stop ${CUT}`, type: 'api_error' },
};

/** Reads a stream's events by its API's rules; an error event throws MockServerError, and so does a cut. */
async function* events<E>(body: ReadableStream<Uint8Array>, response: Response, rules: EventRules<E>): AsyncGenerator<E, void, undefined> {
  const requestId = response.headers.get('x-request-id');
  for await (const text of sseData(body)) {
    const parsed: unknown = JSON.parse(text);
    const error = rules.error(parsed);
    if (error) throw new MockServerError(response.status, { error }, requestId);
    const event = parsed as E;
    yield event;
    if (rules.last(event)) return;
  }
  throw new MockServerError(response.status, { error: { ...rules.cut, param: null, code: null } }, requestId);
}

/** events() of an answer once it has come: a failed answer throws first. */
async function* answerEvents<E>(open: () => Promise<Answer<ReadableStream<Uint8Array> | null>>, rules: EventRules<E>): AsyncGenerator<E, void, undefined> {
  const { data, error, response } = await open();
  if (!response.ok || error !== undefined || !data) throw failure(response, error);
  yield* events(data, response, rules);
}

/** A client for a mock server at `baseUrl` (such as `MockServer.url`). */
export function createMockClient(baseUrl: string, options: Omit<ClientOptions, 'baseUrl'> = {}): MockClient {
  const api = createClient<paths>({ ...options, baseUrl });
  const init = (o: CallOptions = {}) => ({ ...(o.signal ? { signal: o.signal } : {}), headers: o.headers ?? {} });
  const sse = (o: CallOptions) => ({ ...init(o), headers: { accept: 'text/event-stream', ...o.headers }, parseAs: 'stream' as const });
  const anthropic = <T extends { headers: Record<string, string> }>(r: T) => ({
    ...r,
    headers: { 'anthropic-version': ANTHROPIC_VERSION, ...r.headers },
    params: { header: { 'anthropic-version': r.headers['anthropic-version'] ?? ANTHROPIC_VERSION } },
  });
  return {
    api,
    // openapi-fetch's response typing drops properties whose type is only `null` (`logprobs`, `refusal`): the
    // contract's own types say what the server sends. `echo: false` is the default, sent because the generated
    // request type requires every property that has a default (see Defaulted).
    createChatCompletion: async (body, o) =>
      unwrap(await api.POST('/v1/chat/completions', { ...init(o), body: { ...body, stream: false } })) as ChatResponse,
    createCompletion: async (body, o) =>
      unwrap(await api.POST('/v1/completions', { ...init(o), body: { echo: false, ...body, stream: false } })) as CompletionResponse,
    listModels: async (o) => unwrap(await api.GET('/v1/models', init(o))) as ModelList,
    retrieveModel: async (model, o) => unwrap(await api.GET('/v1/models/{model}', { ...init(o), params: { path: { model } } })) as Model,
    configure: async (patch, o) => unwrap(await api.POST('/configure', { ...init(o), body: patch })),
    getHealth: async (o) => unwrap(await api.GET('/health', init(o))),
    getVersion: async (o) => unwrap(await api.GET('/version', init(o))),
    tokenize: async (body, o) => unwrap(await api.POST('/tokenize', { ...init(o), body })) as TokenizeResponse,
    detokenize: async (body, o) => unwrap(await api.POST('/detokenize', { ...init(o), body })),
    loadLoraAdapter: async (body, o) => unwrap(await api.POST('/v1/load_lora_adapter', { ...init(o), body, parseAs: 'text' })),
    unloadLoraAdapter: async (body, o) => unwrap(await api.POST('/v1/unload_lora_adapter', { ...init(o), body, parseAs: 'text' })),
    getRoot: async (o) => unwrap(await api.GET('/', init(o))),
    getMetrics: async (o) => unwrap(await api.GET('/metrics', { ...init(o), parseAs: 'text' })),
    getDocs: async (o) => unwrap(await api.GET('/docs', { ...init(o), parseAs: 'text' })),
    getOpenApiYaml: async (o) => unwrap(await api.GET('/openapi.yaml', { ...init(o), parseAs: 'text' })),
    getOpenApiJson: async (o) => unwrap(await api.GET('/openapi.json', init(o))),
    streamChat: (body, o = {}) =>
      chunks<ChatChunk>(() => api.POST('/v1/chat/completions', { ...sse(o), body: { ...body, stream: true } })),
    streamCompletion: (body, o = {}) =>
      chunks<CompletionChunk>(() => api.POST('/v1/completions', { ...sse(o), body: { echo: false, ...body, stream: true } })),
    // Rankings. The request goes as given: a field left out takes the server's default (see Defaulted).
    createRanking: async (body, o) => unwrap(await api.POST('/v1/ranking', { ...init(o), body })),
    teiRerank: async (body, o) => unwrap(await api.POST('/rerank', { ...init(o), body: body as TeiRerankRequest })),
    cohereRerank: async (body, o) => unwrap(await api.POST('/v2/rerank', { ...init(o), body: body as CohereRerankRequest })),
    cohereRerankV1: async (body, o) => unwrap(await api.POST('/v1/rerank', { ...init(o), body: body as CohereRerankV1Request })),
    // Embeddings.
    createEmbedding: async (body, o) => unwrap(await api.POST('/v1/embeddings', { ...init(o), body })),
    createChatEmbedding: async (body, o) => unwrap(await api.POST('/v1/chat/embeddings', { ...init(o), body })),
    // Hugging Face TGI.
    tgiGenerate: async (body, o) => unwrap(await api.POST('/generate', { ...init(o), body })),
    tgiGenerateStream: async (body, o = {}) => {
      const { data, error, response } = await api.POST('/generate_stream', { ...sse(o), body });
      if (!response.ok || error !== undefined || !data) throw failure(response, error);
      return events(data, response, TGI_EVENTS);
    },
    tgiCompatGenerate: async (body, o) => unwrap(await api.POST('/', { ...init(o), body: { ...body, stream: false } })) as TgiCompatGenerateResponse,
    tgiGetInfo: async (o) => unwrap(await api.GET('/info', init(o))),
    // Telemetry.
    getVllmMetrics: async (o) => unwrap(await api.GET('/vllm/metrics', { ...init(o), parseAs: 'text' })),
    getSglangMetrics: async (o) => unwrap(await api.GET('/sglang/metrics', { ...init(o), parseAs: 'text' })),
    getTrtllmMetrics: async (o) => unwrap(await api.GET('/trtllm/metrics', { ...init(o), parseAs: 'text' })),
    getDynamoFrontendMetrics: async (o) => unwrap(await api.GET('/dynamo_frontend/metrics', { ...init(o), parseAs: 'text' })),
    getDynamoPrefillMetrics: async (o) => unwrap(await api.GET('/dynamo_component/prefill/metrics', { ...init(o), parseAs: 'text' })),
    getDynamoDecodeMetrics: async (o) => unwrap(await api.GET('/dynamo_component/decode/metrics', { ...init(o), parseAs: 'text' })),
    getDcgmMetrics: async (index, o) => unwrap(await api.GET('/dcgm{index}/metrics', { ...init(o), params: { path: { index } }, parseAs: 'text' })),
    // Images.
    // The answer's type joins the JSON body and the stream's events: `stream: false` makes it the body.
    createImage: async (body, o) => unwrap(await api.POST('/v1/images/generations', { ...init(o), body: { ...body, stream: false } })) as ImagesResponse,
    getImageFile: async (name, o) =>
      new Uint8Array(unwrap(await api.GET('/v1/images/files/{name}', { ...init(o), params: { path: { name } }, parseAs: 'arrayBuffer' }))),
    // OpenAI Responses: the answer's type joins the JSON body and the stream's events; `stream: false` makes it the body.
    createResponse: async (body, o) => unwrap(await api.POST('/v1/responses', { ...init(o), body: { ...body, stream: false } as ResponseRequest })) as ResponseObject,
    streamResponse: (body, o = {}) =>
      answerEvents(() => api.POST('/v1/responses', { ...sse(o), body: { ...body, stream: true } as ResponseRequest }), RESPONSE_EVENTS),
    getResponse: async (responseId, o) =>
      unwrap(await api.GET('/v1/responses/{response_id}', { ...init(o), params: { path: { response_id: responseId } } })) as ResponseObject,
    // AIPerf's test fixtures.
    nimImageRetrieval: async (body, o) => unwrap(await api.POST('/v1/infer', { ...init(o), body })),
    solidoRagPrompt: async (body, o) => unwrap(await api.POST('/rag/api/prompt', { ...init(o), body })),
    customMultimodal: async (body, o) => unwrap(await api.POST('/v1/custom-multimodal', { ...init(o), body })),
    // Audio: the body goes as a form (the contract's `file` is the upload's bytes).
    createTranscription: async (body, o) =>
      unwrap(
        await api.POST('/v1/audio/transcriptions', {
          ...init(o),
          body: body as unknown as CreateTranscriptionRequest,
          bodySerializer: (b) => toForm(b as unknown as Record<string, unknown>),
        }),
      ) as TranscriptionJson | TranscriptionVerboseJson,
    // Anthropic Messages.
    createMessage: async (body, o = {}) =>
      unwrap(await api.POST('/v1/messages', { ...anthropic(init(o)), body: { ...body, stream: false } })) as Message,
    streamMessage: (body, o = {}) =>
      answerEvents(() => api.POST('/v1/messages', { ...anthropic(sse(o)), body: { ...body, stream: true } }), MESSAGE_EVENTS),
    countMessageTokens: async (body, o = {}) => unwrap(await api.POST('/v1/messages/count_tokens', { ...anthropic(init(o)), body })),
    createImageEdit: async (body, o) =>
      unwrap(
        await api.POST('/v1/images/edits', {
          ...init(o),
          body: body as unknown as CreateImageEditRequest,
          bodySerializer: (b) => toForm(b as unknown as Record<string, unknown>),
        }),
      ) as ImagesResponse,
  };
}

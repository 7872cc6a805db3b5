// The shapes of the wire, named once: everything here comes from openapi.yaml through generated/.
import type { components, operations } from '../generated/openapi.js';

export type Schemas = components['schemas'];
export type Operations = operations;

export type Settings = Schemas['Settings'];
export type SettingName = keyof Settings;
export type ConfigureRequest = Schemas['ConfigureRequest'];
export type ErrorBody = Schemas['ErrorResponse'];

export type ChatRequest = Schemas['CreateChatCompletionRequest'];
export type ChatMessage = Schemas['ChatMessage'];
export type ChatResponse = Schemas['CreateChatCompletionResponse'];
export type ChatChunk = Schemas['CreateChatCompletionStreamResponse'];
export type ChatDelta = Schemas['ChatCompletionDelta'];
export type ChatMessageOut = Schemas['ChatCompletionMessage'];
export type ChatTool = Schemas['ChatTool'];
export type ChatToolChoice = Schemas['ChatToolChoice'];
export type ChatToolCall = Schemas['ChatToolCall'];
export type ChatToolCallDelta = Schemas['ChatToolCallDelta'];
export type ChatResponseFormat = Schemas['ChatResponseFormat'];
export type ChatFinishReason = Schemas['ChatFinishReason'];

export type CompletionRequest = Schemas['CreateCompletionRequest'];
export type CompletionResponse = Schemas['CreateCompletionResponse'];
export type CompletionChunk = Schemas['CreateCompletionStreamResponse'];
export type Prompt = Schemas['Prompt'];

// Logprobs: chat's per-token entries and the legacy completions API's parallel lists.
export type ChatLogprobs = Schemas['ChatChoiceLogprobs'];
export type ChatTokenLogprob = Schemas['ChatTokenLogprob'];
export type ChatTopLogprob = Schemas['ChatTopLogprob'];
export type CompletionLogprobs = Schemas['CompletionLogprobs'];

export type Usage = Schemas['CompletionUsage'];
export type FinishReason = Schemas['FinishReason'];
export type StreamOptions = Schemas['StreamOptions'];
export type Model = Schemas['Model'];
export type ModelList = Schemas['ListModelsResponse'];
export type HealthBody = Schemas['HealthResponse'];
export type RootBody = Schemas['RootResponse'];
export type ReasoningEffort = Schemas['ReasoningEffort'];

// Embeddings: OpenAI's request and answer, and the chat-shaped request (vLLM's, at /v1/chat/embeddings too).
export type EmbeddingRequest = Schemas['CreateEmbeddingRequest'];
export type ChatEmbeddingRequest = Schemas['CreateChatEmbeddingRequest'];
export type EmbeddingInput = Schemas['EmbeddingInput'];
export type EmbeddingResponse = Schemas['CreateEmbeddingResponse'];
export type EncodingFormat = Schemas['EncodingFormat'];
// NVIDIA NIM's fields of the embeddings request.
export type EmbeddingModality = Schemas['EmbeddingModality'];
export type EmbeddingModalityName = Schemas['EmbeddingModalityName'];
export type EmbeddingTruncate = Schemas['EmbeddingInputRequest']['truncate'];
export type EmbeddingInputType = Schemas['EmbeddingInputRequest']['input_type'];

// Rankings: NVIDIA NIM, Hugging Face TEI and Cohere (v2 and v1), each in its own wire shape.
export type RankingRequest = Schemas['RankingRequest'];
export type RankingResponse = Schemas['RankingResponse'];
export type TeiRerankRequest = Schemas['TeiRerankRequest'];
export type TeiRerankResponse = Schemas['TeiRerankResponse'];
export type CohereRerankRequest = Schemas['CohereRerankRequest'];
export type CohereRerankV1Request = Schemas['CohereRerankV1Request'];
export type CohereRerankResponse = Schemas['CohereRerankResponse'];
export type CohereDocument = Schemas['CohereDocument'];

// Hugging Face TGI: /generate, /generate_stream, POST / and /info, in TGI's wire shapes.
export type TgiGenerateRequest = Schemas['TgiGenerateRequest'];
export type TgiCompatGenerateRequest = Schemas['TgiCompatGenerateRequest'];
export type TgiGenerateParameters = Schemas['TgiGenerateParameters'];
export type TgiGenerateResponse = Schemas['TgiGenerateResponse'];
export type TgiCompatGenerateResponse = Schemas['TgiCompatGenerateResponse'];
export type TgiDetails = Schemas['TgiDetails'];
export type TgiToken = Schemas['TgiToken'];
export type TgiPrefillToken = Schemas['TgiPrefillToken'];
export type TgiFinishReason = Schemas['TgiFinishReason'];
export type TgiStreamResponse = Schemas['TgiStreamResponse'];
export type TgiStreamDetails = Schemas['TgiStreamDetails'];
export type TgiStreamEvent = Schemas['TgiStreamEvent'];
export type TgiErrorResponse = Schemas['TgiErrorResponse'];
export type TgiInfo = Schemas['TgiInfo'];

// Images: OpenAI's image generation, its stream events, and the PNG files behind its URLs.
export type CreateImageRequest = Schemas['CreateImageRequest'];
export type ImagesResponse = Schemas['ImagesResponse'];
export type ImageItem = Schemas['Image'];
export type ImagesUsage = Schemas['ImagesUsage'];
export type ImageGenPartialImageEvent = Schemas['ImageGenPartialImageEvent'];
export type ImageGenCompletedEvent = Schemas['ImageGenCompletedEvent'];

// AIPerf's test fixtures: NIM image retrieval, SOLIDO RAG and the custom multimodal API.
export type ImageRetrievalRequest = Schemas['ImageRetrievalRequest'];
export type ImageRetrievalResponse = Schemas['ImageRetrievalResponse'];
export type BoundingBox = Schemas['BoundingBox'];
export type SolidoRagRequest = Schemas['SolidoRagRequest'];
export type SolidoRagResponse = Schemas['SolidoRagResponse'];
export type CustomMultimodalRequest = Schemas['CustomMultimodalRequest'];
export type CustomMultimodalResponse = Schemas['CustomMultimodalResponse'];

// Audio: OpenAI's transcription, from a multipart upload, its answers and its stream events.
export type CreateTranscriptionRequest = Schemas['CreateTranscriptionRequest'];
export type TranscriptionJson = Schemas['TranscriptionJson'];
export type TranscriptionVerboseJson = Schemas['TranscriptionVerboseJson'];
export type TranscriptionSegment = Schemas['TranscriptionSegment'];
export type TranscriptionWord = Schemas['TranscriptionWord'];
export type TranscriptionUsageTokens = Schemas['TranscriptionUsageTokens'];
export type TranscriptionUsageDuration = Schemas['TranscriptionUsageDuration'];
export type TranscriptTextDeltaEvent = Schemas['TranscriptTextDeltaEvent'];
export type TranscriptTextDoneEvent = Schemas['TranscriptTextDoneEvent'];
export type CreateImageEditRequest = Schemas['CreateImageEditRequest'];
export type TokenizeRequest = Schemas['TokenizeRequest'];
export type TokenizeResponse = Schemas['TokenizeResponse'];
export type DetokenizeRequest = Schemas['DetokenizeRequest'];
export type DetokenizeResponse = Schemas['DetokenizeResponse'];
export type VersionResponse = Schemas['VersionResponse'];

// LoRA adapters, as vLLM serves them: the lora_modules setting's items and the load/unload bodies.
export type LoraModule = Schemas['LoraModule'];
export type LoadLoraAdapterRequest = Schemas['LoadLoraAdapterRequest'];
export type UnloadLoraAdapterRequest = Schemas['UnloadLoraAdapterRequest'];

// OpenAI Responses: the request, its input items, the response object, its output items and stream events.
export type ResponseRequest = Schemas['CreateResponseRequest'];
export type ResponseInputItem = Schemas['ResponseInputItem'];
export type ResponseObject = Schemas['ResponseObject'];
export type ResponseUsage = Schemas['ResponseUsage'];
export type ResponseOutputItem = Schemas['ResponseOutputItem'];
export type ResponseOutputMessage = Schemas['ResponseOutputMessage'];
export type ResponseOutputText = Schemas['ResponseOutputText'];
export type ResponseReasoningItem = Schemas['ResponseReasoningItem'];
export type ResponseFunctionCall = Schemas['ResponseFunctionCall'];
export type ResponseItemStatus = Schemas['ResponseItemStatus'];
export type ResponseToolChoice = Schemas['ResponseToolChoice'];
export type ResponseStreamEvent = Schemas['ResponseStreamEvent'];
export type ResponseLifecycleEvent = Schemas['ResponseLifecycleEvent'];
export type ResponseOutputItemEvent = Schemas['ResponseOutputItemEvent'];
export type ResponseContentPartEvent = Schemas['ResponseContentPartEvent'];
export type ResponseOutputTextDeltaEvent = Schemas['ResponseOutputTextDeltaEvent'];
export type ResponseOutputTextDoneEvent = Schemas['ResponseOutputTextDoneEvent'];
export type ResponseReasoningSummaryPartEvent = Schemas['ResponseReasoningSummaryPartEvent'];
export type ResponseReasoningSummaryTextDeltaEvent = Schemas['ResponseReasoningSummaryTextDeltaEvent'];
export type ResponseReasoningSummaryTextDoneEvent = Schemas['ResponseReasoningSummaryTextDoneEvent'];
export type ResponseFunctionCallArgumentsDeltaEvent = Schemas['ResponseFunctionCallArgumentsDeltaEvent'];
export type ResponseFunctionCallArgumentsDoneEvent = Schemas['ResponseFunctionCallArgumentsDoneEvent'];
export type ResponseErrorEvent = Schemas['ResponseErrorEvent'];
// Anthropic Messages: the request, the message, its blocks, the stream's events and the error, in Anthropic's shapes.
export type MessageRequest = Schemas['CreateMessageRequest'];
export type CountMessageTokensRequest = Schemas['CountMessageTokensRequest'];
export type MessageTokensCount = Schemas['MessageTokensCount'];
export type MessageParam = Schemas['MessageParam'];
export type MessageSystem = Schemas['MessageSystem'];
export type MessageContentBlockParam = Schemas['MessageContentBlockParam'];
export type MessageCacheControl = Schemas['MessageCacheControl'];
export type MessageTool = Schemas['MessageTool'];
export type MessageToolChoice = Schemas['MessageToolChoice'];
export type Message = Schemas['Message'];
export type MessageContentBlock = Schemas['MessageContentBlock'];
export type MessageStopReason = Schemas['MessageStopReason'];
export type MessageUsage = Schemas['MessageUsage'];
export type MessageDeltaUsage = Schemas['MessageDeltaUsage'];
export type MessageStreamEvent = Schemas['MessageStreamEvent'];
export type ContentBlockDeltaEvent = Schemas['ContentBlockDeltaEvent'];
export type AnthropicErrorResponse = Schemas['AnthropicErrorResponse'];

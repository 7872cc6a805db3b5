// Builds the Koa app: small middleware, each with one job, then openapi-backend routing and validation
// against openapi.yaml, then one handler per operationId.
import Koa, { type Next } from 'koa';
import { OpenAPIBackend, type Operation } from 'openapi-backend';
import type { ErrorObject } from 'ajv';
import { contract, describeAjvError } from './contract.js';
import { preparedRequestValidators, routerOptions } from './requestValidators.js';
import { ApiError, shuttingDown, toApiError, isClientGone } from './http/errors.js';
import { ERROR_SHAPES, isErrorShapeName, type ErrorShape } from './http/errorShapes.js';
import { jsonBody } from './http/body.js';
import { answerJson } from './http/answer.js';
import { formObject, type SchemaNode } from './http/multipart.js';
import { requireKeys } from './http/auth.js';
import { isServerPath } from './http/paths.js';
import { recordRequests } from './http/record.js';
import { randomId, type AppContext, type RequestState } from './http/request.js';
import type { Deps, OperationHandler } from './handlers/deps.js';
// What the first requests of a benchmark need is imported with the app; every other operation's module (and
// what it alone uses: fast-png, the YAML parser, the telemetry pages) on its first request, or once the
// server has answered its first request (see `warm` below). Importing them all took ~100 ms of a start.
import createChatCompletion from './handlers/createChatCompletion.js';
import createCompletion from './handlers/createCompletion.js';
import listModels from './handlers/listModels.js';
import retrieveModel from './handlers/retrieveModel.js';
import configure from './handlers/configure.js';
import getHealth from './handlers/getHealth.js';
import getRoot from './handlers/getRoot.js';
import type { Operations } from './types.js';

type HandlerFactory = (deps: Deps) => OperationHandler;

/** Handler modules imported on their first request, or when the server warms up after its first answer. */
const laterModules: Array<() => Promise<unknown>> = [];

/** The factory of a handler whose module is imported when it is first needed. */
function later(load: () => Promise<{ default: HandlerFactory }>): HandlerFactory {
  let loaded: Promise<{ default: HandlerFactory }> | undefined;
  // A failed import (a file briefly unreadable) is tried again by the next request, not remembered.
  const once = (): Promise<{ default: HandlerFactory }> =>
    (loaded ??= load().catch((err: unknown) => {
      loaded = undefined;
      throw err;
    }));
  laterModules.push(once);
  return (deps) => {
    let handler: OperationHandler | undefined;
    return async (ctx, params) => {
      handler ??= (await once()).default(deps);
      return handler(ctx, params);
    };
  };
}

/** One handler factory per operationId of openapi.yaml; the type makes a missing one a compile error. */
const HANDLERS: Record<keyof Operations, HandlerFactory> = {
  createChatCompletion,
  createCompletion,
  listModels,
  retrieveModel,
  configure,
  getHealth,
  getRoot,
  getDocs: later(() => import('./handlers/getDocs.js')),
  getOpenApiYaml: later(() => import('./handlers/getOpenApiYaml.js')),
  getOpenApiJson: later(() => import('./handlers/getOpenApiJson.js')),
  // Rankings: NVIDIA NIM, Hugging Face TEI, Cohere v2 and v1.
  createRanking: later(() => import('./handlers/createRanking.js')),
  teiRerank: later(() => import('./handlers/teiRerank.js')),
  cohereRerank: later(() => import('./handlers/cohereRerank.js')),
  cohereRerankV1: later(() => import('./handlers/cohereRerankV1.js')),
  // Hugging Face TGI: /generate, /generate_stream, POST / and /info.
  tgiGenerate: later(() => import('./handlers/tgiGenerate.js')),
  tgiGenerateStream: later(() => import('./handlers/tgiGenerateStream.js')),
  tgiCompatGenerate: later(() => import('./handlers/tgiCompatGenerate.js')),
  tgiGetInfo: later(() => import('./handlers/tgiGetInfo.js')),
  // Embeddings: OpenAI's (and vLLM's chat shape), and the chat-shaped path.
  createEmbedding: later(() => import('./handlers/createEmbedding.js')),
  createChatEmbedding: later(() => import('./handlers/createChatEmbedding.js')),
  // Telemetry: this server's metrics, the engines' metrics pages and the DCGM exporters.
  getMetrics: later(() => import('./handlers/getMetrics.js')),
  getVllmMetrics: later(() => import('./handlers/getVllmMetrics.js')),
  getSglangMetrics: later(() => import('./handlers/getSglangMetrics.js')),
  getTrtllmMetrics: later(() => import('./handlers/getTrtllmMetrics.js')),
  getDynamoFrontendMetrics: later(() => import('./handlers/getDynamoFrontendMetrics.js')),
  getDynamoPrefillMetrics: later(() => import('./handlers/getDynamoPrefillMetrics.js')),
  getDynamoDecodeMetrics: later(() => import('./handlers/getDynamoDecodeMetrics.js')),
  getDcgmMetrics: later(() => import('./handlers/getDcgmMetrics.js')),
  // Images: OpenAI's image generation, and the PNG files behind its URLs.
  createImage: later(() => import('./handlers/createImage.js')),
  getImageFile: later(() => import('./handlers/getImageFile.js')),
  createImageEdit: later(() => import('./handlers/createImageEdit.js')),
  // AIPerf's test fixtures: NIM image retrieval, SOLIDO RAG, the custom multimodal API.
  nimImageRetrieval: later(() => import('./handlers/nimImageRetrieval.js')),
  solidoRagPrompt: later(() => import('./handlers/solidoRagPrompt.js')),
  customMultimodal: later(() => import('./handlers/customMultimodal.js')),
  // Audio: OpenAI's transcription of an uploaded file.
  createTranscription: later(() => import('./handlers/createTranscription.js')),
  // OpenAI Responses, and the responses it stored.
  createResponse: later(() => import('./handlers/createResponse.js')),
  getResponse: later(() => import('./handlers/getResponse.js')),
  // vLLM's own tokenizer routes.
  getVersion: later(() => import('./handlers/getVersion.js')),
  tokenize: later(() => import('./handlers/tokenize.js')),
  detokenize: later(() => import('./handlers/detokenize.js')),
  // vLLM's run-time LoRA adapter routes.
  loadLoraAdapter: later(() => import('./handlers/loadLoraAdapter.js')),
  unloadLoraAdapter: later(() => import('./handlers/unloadLoraAdapter.js')),
  // Anthropic's Messages API.
  createMessage: later(() => import('./handlers/createMessage.js')),
  countMessageTokens: later(() => import('./handlers/countMessageTokens.js')),
};

export async function createApp(deps: Deps): Promise<Koa<RequestState>> {
  const { dispatch, shapeOf } = await createRouter(deps);
  const app = new Koa<RequestState>();
  app.silent = true;
  // A client that leaves mid-answer surfaces here as a socket error (ECONNRESET, EPIPE): DEBUG, not ERROR.
  app.on('error', (err: unknown) => {
    if (isClientGone(err)) deps.log.debug(`client went away: ${(err as Error).message}`);
    else deps.log.error(`unexpected error: ${err instanceof Error ? err.stack : String(err)}`);
  });
  app.use(arrival(deps));
  app.use(accessLog(deps));
  app.use(errors(deps, shapeOf));
  const record = recordRequests(deps.store.current.record_requests);
  if (record) app.use(record);
  app.use(requireKeys);
  app.use(readiness(deps));
  app.use(jsonBody(deps.slices, deps.encodeWorker));
  app.use(dispatch);
  return app;
}

/** Stamps the arrival time (the origin of TTFT), the settings snapshot, the arrival number and the request id. */
function arrival(deps: Deps) {
  let sequence = 0;
  return function stampArrival(ctx: AppContext, next: Next): Promise<void> {
    ctx.state.start = performance.now();
    ctx.state.settings = deps.store.current;
    ctx.state.sequence = sequence++;
    const given = ctx.req.headers['x-request-id'];
    ctx.state.requestId = typeof given === 'string' && given !== '' && given.length <= 512 ? given : randomId('req-');
    ctx.res.setHeader('x-request-id', ctx.state.requestId);
    return next();
  };
}

/** With access logs on: one line per request when its response is over (streams included). */
function accessLog(deps: Deps) {
  return function logAccess(ctx: AppContext, next: Next): Promise<void> {
    if (ctx.state.settings.access_logs) {
      const { start } = ctx.state;
      ctx.res.once('close', () => {
        const status = ctx.res.headersSent ? ctx.res.statusCode : 499;
        deps.log.info(`${ctx.method} ${ctx.url} ${status} ${(performance.now() - start).toFixed(1)}ms`);
      });
    }
    return next();
  };
}

/** Until the server is ready (startup_delay, tokenizers loading) or once it is stopping, inference answers 503. */
function readiness(deps: Deps) {
  return function whileStarting(ctx: AppContext, next: Next): Promise<void> {
    if (deps.ready() || isServerPath(ctx.method, ctx.path)) return next();
    if (deps.stopping()) throw shuttingDown();
    throw new ApiError(503, 'The server is starting: the model is not ready yet.', null, 'model_not_ready').withHeaders({ 'retry-after': '1' });
  };
}

/**
 * Every error becomes an error body with its status; nothing else reaches the client. The body is in the
 * shape of the API the path belongs to (`x-error-shape`; OpenAI's by default), whichever stage refused it.
 */
function errors(deps: Deps, shapeOf: (path: string) => ErrorShape) {
  return async function mapErrors(ctx: AppContext, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      const e = toApiError(err);
      if (e.status >= 500) deps.log.error(`${ctx.method} ${ctx.path}: ${err instanceof Error ? err.stack : String(err)}`);
      if (ctx.respond === false || ctx.res.headersSent) return;
      const shape = shapeOf(ctx.path);
      ctx.status = shape.status?.(e) ?? e.status;
      ctx.set(e.headers);
      if (shape.headers) ctx.set(shape.headers(ctx.state.requestId));
      answerJson(ctx, shape.body(e, ctx.state.requestId));
    }
  };
}

type Dispatch = (ctx: AppContext) => unknown;

/** An operation's request body as the contract declares it, by media type. */
interface RequestBodyObject {
  content: Record<string, { schema?: SchemaNode } | undefined>;
}

/** A local reference of the contract ("#/components/schemas/X") to the schema it names. */
function resolveRef(ref: string): SchemaNode {
  let node: unknown = contract();
  for (const part of ref.replace(/^#\//, '').split('/')) node = (node as Record<string, unknown>)[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  return (node ?? {}) as SchemaNode;
}

interface Router {
  dispatch: Dispatch;
  /** The error shape of the API a path belongs to: its operations' `x-error-shape`, else OpenAI's. */
  shapeOf: (path: string) => ErrorShape;
}

/** How long after the app is built the validators start compiling if no request has been answered before. */
const WARM_AFTER_MS = 1000;
/** How often warming looks again for a moment with no request in flight. */
const WARM_RETRY_MS = 50;

const NO_QUERY: Readonly<Record<string, string>> = Object.freeze({});

/**
 * openapi-backend matches the operation and its compiled Ajv validators check the request; then the
 * operation's handler runs. handleRequest() would parse each request three times and run an empty security
 * stage; calling the router and the validators directly does the same checks once.
 */
async function createRouter(deps: Deps): Promise<Router> {
  const api = new OpenAPIBackend(routerOptions());
  await api.init();
  for (const [operationId, validators] of preparedRequestValidators()) api.validator.requestValidators[operationId] = validators;
  // openapi-backend rebuilds its operation list (lodash over every path) on each match and each validator
  // lookup; the contract never changes after init, so build it once.
  const operations = api.router.getOperations();
  api.router.getOperations = () => operations;

  // Path templates ("/v1/models/{model}") as matchers that return the decoded parameters.
  const pathParams = new Map<string, (path: string) => Record<string, string> | undefined>();
  for (const op of operations) {
    const names = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    if (!op.operationId || names.length === 0) continue;
    const pattern = new RegExp(`^${op.path.replace(/\{[^}]+\}/g, '([^/]+)')}$`);
    pathParams.set(op.operationId, (path) => {
      const m = pattern.exec(path);
      return m ? Object.fromEntries(names.map((n, i) => [n, m[i + 1]!])) : undefined;
    });
  }
  // Each operation's error shape (`x-error-shape`), by operationId and by path: an error raised before
  // routing (readiness, body limits) is written in the shape of the API whose path was asked for.
  const shapeById = new Map<string, ErrorShape>();
  const shapedPaths: Array<{ pattern: RegExp; shape: ErrorShape }> = [];
  for (const op of operations) {
    const name = (op as { 'x-error-shape'?: unknown })['x-error-shape'];
    if (name === undefined || !op.operationId) continue;
    if (!isErrorShapeName(name)) throw new Error(`openapi.yaml: ${op.operationId} has an unknown x-error-shape '${String(name)}'`);
    shapeById.set(op.operationId, ERROR_SHAPES[name]);
    shapedPaths.push({ pattern: new RegExp(`^${op.path.replaceAll('.', '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`), shape: ERROR_SHAPES[name] });
  }
  const shapeOf = (path: string): ErrorShape => shapedPaths.find((s) => s.pattern.test(path))?.shape ?? ERROR_SHAPES.openai;
  const handlers = new Map<string, OperationHandler>();
  for (const [operationId, factory] of Object.entries(HANDLERS)) handlers.set(operationId, factory(deps));
  // Compiling every validator takes 0.2-0.7 s: too long to wait for before the first answer. A request whose
  // operation's validators are not compiled yet compiles them on the spot (as openapi-backend does lazily); the
  // rest compile one operation per turn of the event loop, so that no turn holds the loop for longer than one,
  // then the handler modules not imported yet load, and all this only once the server has answered its first
  // request or has been up a second, and only while no inference request is in flight. Started at once, they took the CPU from the tokenizer's loading and
  // delayed the first answer by as much.
  const pending = operations.flatMap((op) => (op.operationId ? [op.operationId] : []));
  const modules = [...laterModules];
  const warm = (): void => {
    // Only while no inference request is in flight: a slice (a validator's compile takes up to ~30 ms) would
    // otherwise delay a stream's next token or a burst's admission. Under steady traffic nothing warms, and an
    // operation's first request compiles its own validators, as it would without any warming.
    if (deps.inflight.size > 0) {
      setTimeout(warm, WARM_RETRY_MS).unref();
      return;
    }
    const next = pending.shift();
    if (next !== undefined) api.validator.getRequestValidatorsForOperation(next);
    else {
      const load = modules.shift();
      if (load === undefined) return;
      // An import that fails is the request's to report, when one comes.
      void load().catch(() => undefined);
    }
    setImmediate(warm).unref();
  };
  let warming = false;
  const startWarming = (): void => {
    if (warming) return;
    warming = true;
    clearTimeout(idle);
    setImmediate(warm).unref();
  };
  const idle = setTimeout(startWarming, WARM_AFTER_MS).unref();

  /**
   * The body the operation's schema validates: a JSON body as read, a form as the object its fields stand for.
   * A body in a media type the operation does not take is a 415.
   */
  const bodyFor = (ctx: AppContext, operationId: string, requestBody: RequestBodyObject): unknown => {
    const form = requestBody.content['multipart/form-data'];
    const takesJson = requestBody.content['application/json'] !== undefined;
    if (ctx.state.form === undefined) {
      if (form !== undefined && !takesJson && ctx.state.body !== undefined) {
        throw new ApiError(415, `${operationId} takes a multipart/form-data body (an upload), not JSON.`, null, 'unsupported_media_type');
      }
      return ctx.state.body;
    }
    if (form?.schema === undefined) throw new ApiError(415, `${operationId} takes an application/json body, not a form.`, null, 'unsupported_media_type');
    return formObject(ctx.state.form, form.schema, resolveRef);
  };

  const dispatch: Dispatch = (ctx) => {
    const req = {
      method: ctx.method,
      path: modelPath(ctx.path),
      headers: ctx.headers as Record<string, string | string[]>,
      query: ctx.querystring,
      body: ctx.state.body,
    };
    let operation: Operation;
    try {
      operation = api.router.matchOperation(req, true);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('405')) {
        throw new ApiError(405, `Method ${ctx.method} is not allowed on ${ctx.path}.`, null, 'method_not_allowed');
      }
      throw new ApiError(404, `No route for ${ctx.method} ${ctx.path}.`, null, 'not_found');
    }
    const operationId = operation.operationId ?? '';
    if (operation.requestBody) ctx.state.body = bodyFor(ctx, operationId, operation.requestBody as RequestBodyObject);
    // Node has parsed and lower-cased the headers and Koa the query; only path parameters are left to take.
    const path = pathParams.get(operationId)?.(req.path) ?? {};
    // Koa parses the query on every access; inference requests have none.
    const query = ctx.querystring === '' ? NO_QUERY : ctx.query;
    const parameters = { path, query, header: ctx.headers, cookie: {}, requestBody: ctx.state.body };
    for (const validate of api.validator.getRequestValidatorsForOperation(operationId) ?? []) {
      if (!validate(parameters)) throw validationError(validate.errors ?? [], shapeById.get(operationId) ?? ERROR_SHAPES.openai);
    }
    const handle = handlers.get(operationId);
    if (!handle) throw new ApiError(501, `Operation ${operationId} has no handler.`, null, 'not_implemented');
    if (!warming) ctx.res.once('close', startWarming);
    return handle(ctx, path);
  };
  return { dispatch, shapeOf };
}

// Hub model ids hold a slash ("Qwen/Qwen3-0.6B"); clients send it raw in /v1/models/{model}.
function modelPath(path: string): string {
  const m = /^\/v1\/models\/(.+)$/.exec(path);
  return m ? `/v1/models/${encodeURIComponent(safeDecode(m[1]!))}` : path;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The first validation problem, with `param` naming the request field at fault, in the operation's error shape. */
function validationError(errs: ErrorObject[], shape: ErrorShape): ApiError {
  const e = errs.find((x) => x.instancePath.startsWith('/requestBody')) ?? errs[0];
  if (!e) return shape.invalid('The request is invalid.', null);
  const segments = e.instancePath.split('/').slice(2);
  const { missingProperty, additionalProperty } = e.params as { missingProperty?: string; additionalProperty?: string };
  const field = missingProperty ?? additionalProperty;
  if ((e.keyword === 'required' || e.keyword === 'additionalProperties') && field) segments.push(field);
  const param = segments.length ? segments.map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i ? `.${s}` : s)).join('') : null;
  if (e.instancePath === '' && e.keyword === 'required' && (!field || field === 'requestBody')) return shape.invalid('The request body is missing.', null);
  const what = e.keyword === 'required' ? 'is required' : e.keyword === 'additionalProperties' ? 'is not a known field' : describeAjvError(e);
  return shape.invalid(param ? `${param}: ${what}` : `The request body ${what}.`, param);
}

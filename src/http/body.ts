// Reads a JSON or multipart/form-data request body with a size limit; malformed bodies and other types become
// OpenAI-shaped errors.
import type { IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type { Next } from 'koa';
import { ApiError, badRequest } from './errors.js';
import type { AppContext } from './request.js';
import type { WorkSlices } from '../model/timing.js';
import { answerThenDrain } from './linger.js';
import { isMultipart, parseForm } from './multipart.js';
import { InvalidJson, type EncodeWorker } from '../model/encodeWorker.js';

/**
 * Reads the body of a request that may carry one, up to the max_body_bytes in force. A JSON body over
 * OFF_THREAD_BYTES is parsed in the encode worker, when there is one.
 */
export const jsonBody = (slices: WorkSlices, worker?: EncodeWorker) =>
  async function readJsonBody(ctx: AppContext, next: Next): Promise<void> {
  const method = ctx.method;
  if (method === 'GET' || method === 'HEAD' || method === 'DELETE' || method === 'OPTIONS') return next();
  // Under overload, reading and checking the body waits its turn: /health and the streams in flight go first.
  await slices.turn();
  const limitBytes = ctx.state.settings.max_body_bytes;
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > limitBytes) return answerThenDrain(ctx, tooLarge(limitBytes));
  const read = await readAll(ctx.req, limitBytes);
  if (read === TOO_LARGE) return answerThenDrain(ctx, tooLarge(limitBytes));
  const { chunks, size } = read;
  if (size === 0) return next();
  const type = ctx.get('content-type');
  // Uploads (audio, images) come as forms: the router turns the fields into the object its schema validates.
  if (isMultipart(type)) {
    ctx.state.form = await parseForm(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), type);
    return next();
  }
  // A client that names no type still means JSON; any other named type is refused.
  if (type && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new ApiError(415, `Unsupported content type '${type}': send application/json or multipart/form-data.`, null, 'unsupported_media_type');
  }
  try {
    ctx.state.body = size > OFF_THREAD_BYTES && worker ? await parseOffThread(chunks, worker) : JSON.parse(await decode(chunks, size));
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw badRequest(`The request body is not valid JSON: ${(err as Error).message}`, null, 'invalid_json');
  }
  return next();
}

/**
 * Bodies over this are parsed in the encode worker: JSON.parse of 16 MiB holds a thread 20–25 ms for ASCII and
 * 50–70 ms for other text, where /health and the streams in flight would wait; the copy of the parsed value back
 * costs this thread a few ms.
 */
const OFF_THREAD_BYTES = 1 << 20;

async function parseOffThread(chunks: readonly Buffer[], worker: EncodeWorker): Promise<unknown> {
  // A copy of its own (Buffer.concat allocates a new buffer at this size), so it can be handed over whole.
  const bytes = Buffer.concat(chunks);
  try {
    return await worker.parseJson(bytes);
  } catch (err) {
    if (err instanceof InvalidJson) throw err;
    if (err instanceof ApiError && err.status === 503) throw err;
    // The worker died or could not start: parse here, slower for others but right for this one.
    return JSON.parse(await decode(chunks, chunks.reduce((n, c) => n + c.length, 0)));
  }
}

function decode(chunks: readonly Buffer[], size: number): Promise<string> | string {
  if (size > DECODE_SLICE_BYTES) return decodeInSlices(chunks);
  return chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
}

const TOO_LARGE = Symbol('too large');

/**
 * Bodies over this, when no worker parses them, are decoded a slice at a time, each in a turn of its own, then
 * parsed in a turn of their own: 16 MiB of non-ASCII text take ~55 ms to decode, too long for /health to wait.
 */
const DECODE_SLICE_BYTES = 1 << 20;

async function decodeInSlices(chunks: readonly Buffer[]): Promise<string> {
  // A character cut between two chunks is held back by the decoder until its next bytes come.
  const decoder = new StringDecoder('utf8');
  let text = '';
  let since = 0;
  for (const chunk of chunks) {
    text += decoder.write(chunk);
    since += chunk.length;
    if (since >= DECODE_SLICE_BYTES) {
      since = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  text += decoder.end();
  await new Promise((resolve) => setImmediate(resolve));
  return text;
}

/** The whole body, or TOO_LARGE once it passes the limit (events: cheaper than an async iterator per request). */
function readAll(req: IncomingMessage, limit: number): Promise<{ chunks: Buffer[]; size: number } | typeof TOO_LARGE> {
  return new Promise((resolve, reject) => {
    // Gone already (while this request waited its turn): its 'error' and 'close' are past, and no data will come.
    if (req.destroyed) {
      reject(clientGone());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        resolve(TOO_LARGE);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve({ chunks, size }));
    // A client that leaves mid-body ('aborted', then 'close' without 'end') is not a server error: the
    // answer goes nowhere, and a half body must never be taken for a whole one.
    req.once('error', () => reject(clientGone()));
    req.once('close', () => (req.complete ? resolve({ chunks, size }) : reject(clientGone())));
  });
}

function clientGone(): ApiError {
  return new ApiError(400, 'The client closed the connection before the request body was complete.', null, 'incomplete_body');
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, `The request body is larger than ${limit} bytes.`, null, 'request_too_large');
}

// Large texts are encoded in a worker thread, so that a huge prompt never holds the event loop: the library's
// BPE takes about 11 s for one million 'a's (a single pre-tokenizer piece), and even prose runs near 2 s for
// 16 MiB; meanwhile /health and every stream in flight would stand still. The worker loads the same tokenizer
// files (lazily, on the first large text) and encodes one text at a time, in the order asked; small texts never
// come here, so normal traffic pays no round trip. A worker that dies fails the one request it was encoding,
// with a 500 in the API's shape; the next request starts a new one. Large JSON bodies are parsed there too
// (src/http/body.ts), for the same reason.
import { Worker } from 'node:worker_threads';
import { ApiError } from '../http/errors.js';
import type { Logger } from '../log.js';

/**
 * Texts longer than this many UTF-16 code units (64 KiB) are encoded in the worker. Up to it, prose costs the
 * thread about 1 ms with the piece encoder; past it, the round trip (well under a millisecond) is small beside
 * the encoding, and 16 MiB of prose would otherwise hold the thread for about 1 s.
 */
export const OFF_THREAD_CHARS = 32 * 1024;

/**
 * A run of this many characters without a change between whitespace and the rest is likely one piece of the
 * pre-tokenizer (a word, a line of CJK, a run of spaces), whose BPE costs grow faster than its length: 'a'
 * repeated 4,096 times takes the library about 50 ms. Such a text goes to the worker at any size.
 */
const LONG_RUN = 256;

/** Whether a text is encoded in the worker: long, or holding a run that may be one long piece. */
export function offThread(text: string): boolean {
  if (text.length > OFF_THREAD_CHARS) return true;
  if (text.length < LONG_RUN) return false;
  let run = 0;
  let wasSpace = false;
  for (let i = 0; i < text.length; i++) {
    const space = text.charCodeAt(i) <= 0x20;
    run = space === wasSpace ? run + 1 : 1;
    if (run >= LONG_RUN) return true;
    wasSpace = space;
  }
  return false;
}

/** Which tokenizer the worker encodes with: the files in a folder (as the registry read them), or --no-tokenizer's. */
export type EncoderSource = { kind: 'folder'; dir: string } | { kind: 'characters' };

/** A request to the worker: the ids of `text`, or only how many there are. */
export interface EncodeRequest {
  source: EncoderSource;
  text: string;
  countOnly: boolean;
}

/** A request to the worker: a large JSON request body (UTF-8 bytes) to parse. */
export interface ParseRequest {
  json: Uint8Array;
}

/**
 * What crosses to the worker: the text in parts, then what to do with their concatenation; or a JSON body,
 * its buffer transferred. Copying 16 MiB of text into one message holds this thread for ~20 ms (~45 ms for a
 * two-byte string); a part takes ~1 ms.
 */
export type EncodeMessage = { part: string } | { source: EncoderSource; countOnly: boolean } | ParseRequest;
const PART_CHARS = 1 << 19;

/**
 * The worker's answer: the ids (their buffer transferred), their count, a parsed body (`value`, or why it is
 * not JSON in `invalid`: JSON.parse's own message), or why it could not do what was asked.
 */
export type EncodeReply = { ids: Uint32Array } | { count: number } | { value: unknown } | { invalid: string } | { error: string };

type Answer = Exclude<EncodeReply, { error: string }>;

interface Job {
  request: EncodeRequest | ParseRequest;
  resolve(reply: Answer): void;
  reject(err: Error): void;
}

/** A JSON body that JSON.parse refused, with its message. */
export class InvalidJson extends Error {}

/** Ids copied from the worker's buffer into an array per slice: 4 million take ~40 ms in one go. */
const COPY_SLICE = 1 << 16;

export class EncodeWorker {
  constructor(private readonly log?: Logger) {}

  #worker: Worker | undefined;
  #current: Job | undefined;
  readonly #queue: Job[] = [];
  #closed = false;

  /** The ids of a text, as the tokenizer's encode gives them. */
  async encode(source: EncoderSource, text: string): Promise<readonly number[]> {
    const reply = await this.#ask({ source, text, countOnly: false });
    return 'ids' in reply ? toArray(reply.ids) : [];
  }

  /** How many ids a text has (nothing else crosses back). */
  async count(source: EncoderSource, text: string): Promise<number> {
    const reply = await this.#ask({ source, text, countOnly: true });
    return 'count' in reply ? reply.count : 'ids' in reply ? reply.ids.length : 0;
  }

  /**
   * JSON.parse of a large UTF-8 body, done in the worker: 16 MiB take this thread 20–70 ms to decode and parse,
   * and only the structured copy of the result (a few ms) here. The bytes are handed over (transferred when
   * `json` owns its whole buffer, else copied), so the caller must not use them afterwards. Rejects with
   * InvalidJson for a body that is not JSON.
   */
  async parseJson(json: Uint8Array): Promise<unknown> {
    const reply = await this.#ask({ json });
    if ('invalid' in reply) throw new InvalidJson(reply.invalid);
    return 'value' in reply ? reply.value : undefined;
  }

  /** Stops the worker; what was asked and not answered fails as the server's shutdown. */
  async close(): Promise<void> {
    this.#closed = true;
    const stopping = new ApiError(503, 'The server is shutting down.', null, 'server_shutting_down');
    for (const job of this.#queue.splice(0)) job.reject(stopping);
    this.#current?.reject(stopping);
    this.#current = undefined;
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #ask(request: EncodeRequest | ParseRequest): Promise<Answer> {
    if (this.#closed) return Promise.reject(new ApiError(503, 'The server is shutting down.', null, 'server_shutting_down'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      this.#next();
    });
  }

  /** Sends the next request once the worker is free: one at a time, so a crash takes only its own request. */
  #next(): void {
    if (this.#current !== undefined || this.#closed) return;
    const job = this.#queue.shift();
    if (job === undefined) return;
    this.#current = job;
    void this.#send(job, this.#started());
  }

  /** The text in parts, each in a turn of its own, then the request; stops if the job ended meanwhile. */
  async #send(job: Job, worker: Worker): Promise<void> {
    if ('json' in job.request) {
      const { json } = job.request;
      const whole = json.byteOffset === 0 && json.byteLength === json.buffer.byteLength && json.buffer instanceof ArrayBuffer;
      worker.postMessage({ json } satisfies EncodeMessage, whole ? [json.buffer as ArrayBuffer] : []);
      return;
    }
    const { text, source, countOnly } = job.request;
    for (let i = 0; i < text.length; i += PART_CHARS) {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.#current !== job) return;
      worker.postMessage({ part: text.slice(i, i + PART_CHARS) } satisfies EncodeMessage);
    }
    worker.postMessage({ source, countOnly } satisfies EncodeMessage);
  }

  #started(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./encodeWorkerEntry.js', import.meta.url));
    this.log?.info(`encode worker started: texts over ${OFF_THREAD_CHARS} characters are tokenized off the event loop`);
    // Never what keeps the process alive: the server's sockets do that.
    worker.unref();
    worker.on('message', (reply: EncodeReply) => {
      const job = this.#current;
      this.#current = undefined;
      if (job) {
        if ('error' in reply) job.reject(failed(reply.error));
        else job.resolve(reply);
      }
      this.#next();
    });
    // An uncaught error ends the worker ('exit' follows); a worker gone for any reason fails its request only.
    worker.on('error', (err) => this.#lost(worker, err.message));
    worker.on('exit', (code) => this.#lost(worker, `it exited with code ${code}`));
    this.#worker = worker;
    return worker;
  }

  #lost(worker: Worker, why: string): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    void worker.terminate();
    this.log?.error(`encode worker stopped: ${why}`);
    const job = this.#current;
    this.#current = undefined;
    job?.reject(failed(`the tokenizer worker stopped: ${why}`));
    this.#next();
  }
}

function failed(why: string): ApiError {
  return new ApiError(500, `The server could not tokenize the prompt: ${why}`, null, 'tokenizer_error', 'server_error');
}

async function toArray(ids: Uint32Array): Promise<number[]> {
  const out = new Array<number>(ids.length);
  for (let i = 0; i < ids.length; ) {
    const end = Math.min(i + COPY_SLICE, ids.length);
    for (; i < end; i++) out[i] = ids[i]!;
    if (i < ids.length) await new Promise((resolve) => setImmediate(resolve));
  }
  return out;
}

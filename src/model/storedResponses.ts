// Responses kept for GET /v1/responses/{id} and previous_response_id: in this process's memory, bounded.
// The least recently used are dropped beyond MAX_STORED responses or MAX_STORED_BYTES of their JSON (the
// conversation counted too), so a benchmark that stores every answer keeps a fixed footprint.
import { Lru } from './lru.js';
import type { ChatMessage, ResponseObject } from '../types.js';

export const MAX_STORED = 1000;
export const MAX_STORED_BYTES = 64 * 1024 * 1024;

export interface StoredResponse {
  readonly response: ResponseObject;
  /**
   * The conversation that a response continuing this one starts from: the earlier turns and this request's
   * input (not its instructions, which OpenAI does not carry over), then this response's output as turns.
   */
  readonly conversation: readonly ChatMessage[];
  /** The JSON size of the two, as the store weighs them. */
  readonly bytes: number;
}

export class ResponseStore {
  readonly #lru: Lru<string, StoredResponse>;

  constructor(maxStored = MAX_STORED, maxBytes = MAX_STORED_BYTES) {
    this.#lru = new Lru<string, StoredResponse>(maxStored, maxBytes, (s) => s.bytes);
  }

  put(response: ResponseObject, conversation: readonly ChatMessage[]): void {
    const bytes = JSON.stringify(response).length + JSON.stringify(conversation).length;
    this.#lru.set(response.id, { response, conversation, bytes });
  }

  get(id: string): StoredResponse | undefined {
    return this.#lru.get(id);
  }

  get size(): number {
    return this.#lru.size;
  }
}

/** One store per process: the handlers of POST and GET share it. */
export const storedResponses = new ResponseStore();

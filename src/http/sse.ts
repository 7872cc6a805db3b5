// The SSE writer: owns the raw response of one stream, with backpressure and disconnects.
import type { ServerResponse } from 'node:http';
import { DONE_FRAME } from './frame.js';

export class SseWriter {
  #closed = false;
  #ended = false;

  constructor(
    private readonly res: ServerResponse,
    headers: Record<string, string>,
    onClose: () => void,
  ) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      ...headers,
    });
    res.on('close', () => {
      this.#closed = true;
      if (!this.#ended) onClose();
    });
  }

  /** Sends the headers now, so the client sees the 200 before a first token that is not due yet. */
  flushHeaders(): void {
    this.res.flushHeaders();
  }

  /** True once the client has gone; writes are then dropped. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Returns false when the socket's buffer is full: wait for `onDrain` before writing more. */
  write(chunk: string): boolean {
    if (this.#closed || this.#ended) return false;
    return this.res.write(chunk);
  }

  onDrain(resume: () => void): void {
    if (this.#closed) return;
    this.res.once('drain', resume);
  }

  /** Drops the connection without ending the response, as a crashed server would. */
  destroy(): void {
    this.#ended = true;
    this.res.destroy();
  }

  /** Ends the stream with `[DONE]` at once: clients wait for the close. */
  end(lastFrames = ''): void {
    if (this.#closed || this.#ended) return;
    this.#ended = true;
    this.res.end(lastFrames + DONE_FRAME);
  }
}

// The SSE writer: owns the raw response of one stream, with backpressure and disconnects.
import type { ServerResponse } from 'node:http';
import { DONE_FRAME } from './frame.js';

export class SseWriter {
  #closed = false;
  #ended = false;

  /**
   * @param done what closes the stream after its last frame: OpenAI's `data: [DONE]`, or '' for an API whose
   *   streams end with the connection (TGI)
   */
  constructor(
    private readonly res: ServerResponse,
    headers: Record<string, string>,
    onClose: () => void,
    private readonly done: string = DONE_FRAME,
  ) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      ...headers,
    });
    // The client may have left before this stream began (while its body was read, or while it waited):
    // its 'close' is then past, and the stream must end at once rather than run for no one.
    if (res.destroyed) {
      this.#closed = true;
      onClose();
      return;
    }
    res.on('close', () => {
      this.#closed = true;
      if (!this.#ended) onClose();
    });
  }

  /** Sends the headers now, so the client sees the 200 before a first token that is not due yet. */
  flushHeaders(): void {
    if (!this.#closed) this.res.flushHeaders();
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

  /** Sends `lastFrames`, then drops the connection without ending the response, as a crashed server would. */
  destroy(lastFrames = ''): void {
    if (this.#closed || this.#ended) return;
    this.#ended = true;
    // The 200 goes out even when the cut comes before the first token, as from a server that dies mid-stream.
    // (headersSent only says they were written into the response, not onto the socket; flushing twice is harmless.)
    if (lastFrames !== '') this.res.write(lastFrames);
    else this.res.flushHeaders();
    // Not res.destroy(): that discards what is still queued (the headers, the frames before the cut), and
    // the client must see them first. destroySoon closes the socket once everything written has left.
    // Node 24 holds a response's writes of this tick in the response itself (corked until the next tick), not
    // yet in the socket: hand them to the socket first, or the socket ends before they reach it.
    while (this.res.writableCorked > 0) this.res.uncork();
    const socket = this.res.socket;
    if (socket) socket.destroySoon();
    else this.res.destroy();
  }

  /** Ends the stream at once, with its closing text (`[DONE]`): clients wait for the close. */
  end(lastFrames = ''): void {
    if (this.#closed || this.#ended) return;
    this.#ended = true;
    this.res.end(lastFrames + this.done);
  }
}

// An error answered before the request body has fully arrived (a body over max_body_bytes). Closing the
// socket at once would reset a client that writes its whole body before it reads (Python's urllib, many
// others): it sees a broken pipe, never the status. So, as nginx's lingering close does, the answer goes out
// at once, and the rest of the body is read and thrown away, within bounds of bytes and time, before the
// connection closes.
import type { AppContext } from './request.js';
import type { ApiError } from './errors.js';

/** Bytes of a refused body read and discarded at most, after the answer. */
export const LINGER_BYTES = 256 * 2 ** 20;
/** How long a refused body may keep arriving after the answer. */
export const LINGER_MS = 30_000;
/** How long the client may pause its refused body before the connection closes. */
export const LINGER_IDLE_MS = 2_000;

export function answerThenDrain(ctx: AppContext, err: ApiError): void {
  const { req, res } = ctx;
  ctx.respond = false;
  const body = JSON.stringify(err.body);
  res.writeHead(err.status, {
    ...err.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    // The connection is not reused: the rest of a refused body is no request.
    connection: 'close',
  });
  // The whole answer is written now; the response ends (and the socket closes) once the body is drained.
  res.write(body);
  if (req.complete || req.destroyed) {
    res.end();
    return;
  }
  let left = LINGER_BYTES;
  let ended = false;
  const finish = (): void => {
    if (ended) return;
    ended = true;
    clearTimeout(whole);
    clearTimeout(idle);
    req.off('data', discard);
    res.end();
  };
  const discard = (chunk: Buffer): void => {
    left -= chunk.length;
    if (left < 0) finish();
    else idle.refresh();
  };
  const whole = setTimeout(finish, LINGER_MS);
  const idle = setTimeout(finish, LINGER_IDLE_MS);
  req.on('data', discard);
  req.once('end', finish);
  req.once('close', finish);
  req.resume();
}

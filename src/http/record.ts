// record_requests: every request received, appended to a file as one JSON line, so a test can assert on
// exactly what its client sent (headers, body) without a proxy. Set at start only: a file path that any
// client could change with /configure would let it write anywhere the server may.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Next } from 'koa';
import type { AppContext } from './request.js';
import { toApiError } from './errors.js';

/** Headers whose values are credentials: recorded as present, never with their value. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'api-key']);

export interface RecordedRequest {
  /** Arrival, as an ISO time. */
  time: string;
  /** Arrival number, from 0, in this process. */
  sequence: number;
  request_id: string;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | string[]>;
  /** The parsed JSON body; null without one, or when it could not be read (the answer says why). */
  body: unknown;
  /** The status answered (a stream's is known once it has started). */
  status: number;
}

/** The middleware that records, or undefined when record_requests is not set. */
export function recordRequests(file: string | null): ((ctx: AppContext, next: Next) => Promise<void>) | undefined {
  if (file === null) return undefined;
  // Opened once, in append mode: each line is one write, so lines of concurrent requests (and of workers
  // sharing the file) never interleave; written synchronously, so no line is lost when the process stops.
  const fd = openSync(file, 'a');
  process.once('exit', () => closeSync(fd));
  return async function record(ctx: AppContext, next: Next): Promise<void> {
    const time = new Date().toISOString();
    let refused: number | undefined;
    try {
      await next();
    } catch (err) {
      refused = toApiError(err).status;
      throw err;
    } finally {
      const authHeader = ctx.state.settings.auth_header_name.toLowerCase();
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(ctx.req.headers)) {
        if (v !== undefined) headers[k] = SECRET_HEADERS.has(k) || k === authHeader ? '<redacted>' : v;
      }
      const line: RecordedRequest = {
        time,
        sequence: ctx.state.sequence,
        request_id: ctx.state.requestId,
        method: ctx.method,
        path: ctx.path,
        query: ctx.querystring,
        headers,
        body: ctx.state.body ?? null,
        // A stream (or a refused body being drained) answers on the raw response: its status is there, or 200.
        status: refused ?? (ctx.respond === false ? (ctx.res.headersSent ? ctx.res.statusCode : 200) : ctx.status),
      };
      writeSync(fd, `${JSON.stringify(line)}\n`);
    }
  };
}

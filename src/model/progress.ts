// Progress of tokenizer files downloaded from the hub: a fetch wrapper, handed to the hub client, that counts
// the bytes of a file's data as they arrive. On a terminal a status line is redrawn in place while files come in;
// in every case each finished file gets one log line (file, bytes, time), so logs and CI output stay short.
import type { Logger } from '../log.js';

/** Where the live line goes: a terminal (process.stderr when it is one), or anything else (no live line). */
export interface ProgressOutput {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

interface Download {
  readonly label: string;
  received: number;
  total: number | undefined;
}

// Redrawing more often than this costs more than it tells.
const REDRAW_MS = 100;
const CLEAR_LINE = '\r\x1b[K';

/** Downloads running now, all shown on the one live line. */
const active = new Set<Download>();
let drawnAt = 0;

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

function describe(d: Download): string {
  if (d.total === undefined || d.total === 0) return `${d.label} ${formatBytes(d.received)}`;
  const pct = Math.min(100, Math.floor((d.received / d.total) * 100));
  return `${d.label} ${formatBytes(d.received)} / ${formatBytes(d.total)} ${pct}%`;
}

function draw(out: ProgressOutput, force: boolean): void {
  const now = performance.now();
  if (!force && now - drawnAt < REDRAW_MS) return;
  drawnAt = now;
  const width = Math.max(20, (out.columns ?? 80) - 1);
  const line = `downloading ${[...active].map(describe).join(', ')}`;
  out.write(CLEAR_LINE + (line.length > width ? `${line.slice(0, width - 1)}…` : line));
}

/** The file's size: from `Content-Range: bytes a-b/size` when there is one, else from Content-Length. */
function sizeOf(res: Response): number | undefined {
  const range = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
  const size = Number(range ? range[1] : (res.headers.get('x-linked-size') ?? res.headers.get('content-length') ?? NaN));
  return Number.isFinite(size) ? size : undefined;
}

function rangeOf(input: Parameters<typeof fetch>[0], init: Parameters<typeof fetch>[1]): string | null {
  if (init?.headers) return new Headers(init.headers).get('range');
  return input instanceof Request ? input.headers.get('range') : null;
}

/**
 * Runs one file's download with a fetch that reports its progress: `run` passes the given fetch to the hub
 * client (downloadFileToCacheDir's `fetch` parameter). `label` names the file, such as "org/model/tokenizer.json".
 */
export async function withDownloadProgress<T>(
  log: Logger,
  label: string,
  run: (fetch: typeof globalThis.fetch) => Promise<T>,
  out: ProgressOutput = process.stderr,
): Promise<T> {
  const live = out.isTTY === true && log.enabled('INFO');
  const d: Download = { label, received: 0, total: undefined };
  let data = false;
  const t0 = performance.now();

  const counting: typeof globalThis.fetch = async (input, init) => {
    const res = await fetch(input, init);
    // The hub client first asks for byte 0 alone to learn the size: that answer is the total, not data.
    if (rangeOf(input, init) === 'bytes=0-0') {
      if (res.ok) d.total ??= sizeOf(res);
      return res;
    }
    // Metadata (paths-info, xet reconstruction plans) is JSON; the file's bytes are anything else.
    if (!res.ok || !res.body || /json/i.test(res.headers.get('content-type') ?? '')) return res;
    d.total ??= sizeOf(res);
    data = true;
    if (live) active.add(d);
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        d.received += chunk.byteLength;
        if (live) draw(out, false);
        controller.enqueue(chunk);
      },
    });
    const counted = new Response(res.body.pipeThrough(counter), { status: res.status, statusText: res.statusText, headers: res.headers });
    // A constructed Response has no URL; the hub client names it in its errors.
    Object.defineProperty(counted, 'url', { value: res.url });
    return counted;
  };

  // Clears the live line, writes the file's one log line, then redraws the line for downloads still running.
  const finish = (ok: boolean): void => {
    const shown = live && active.delete(d);
    if (shown) out.write(CLEAR_LINE);
    if (ok && data) log.info(`fetched ${label} from the hub: ${formatBytes(d.received)} (${d.received} bytes) in ${(performance.now() - t0).toFixed(0)} ms`);
    if (shown && active.size > 0) draw(out, true);
  };
  try {
    const result = await run(counting);
    finish(true);
    return result;
  } catch (err) {
    finish(false);
    throw err;
  }
}

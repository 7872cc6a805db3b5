// Images made from a prompt: each one a real PNG (fast-png's encoder) of the asked size, drawn from a hash of the
// prompt, so the same prompt always gives the same bytes and different prompts give different pictures. The
// drawing depends on the hash alone: an image named by (hash, index, size, background, detail) can be drawn
// again anywhere (another worker, after a restart), which is how the `url` answers are served.
import { createHash } from 'node:crypto';
import { encode } from 'fast-png';
import { Lru } from './lru.js';

export type Background = 'opaque' | 'transparent';

/** What one image is drawn from; everything a client could tell apart. */
export interface ImageKey {
  /** Hex SHA-256 of the prompt (the first 32 digits). */
  readonly hash: string;
  /** The image's place among the request's `n` (each is a different picture). */
  readonly index: number;
  readonly width: number;
  readonly height: number;
  readonly background: Background;
  /**
   * Side in pixels of the blocks the picture is drawn in: 1 for the final image, larger for a streamed partial
   * image (a coarser preview of the same picture).
   */
  readonly block: number;
}

export const promptHash = (prompt: string): string => createHash('sha256').update(prompt).digest('hex').slice(0, 32);

/** Encoded images kept for prompts asked again (benchmarks repeat theirs): at most 64 images and 64 MiB. */
const cache = new Lru<string, Uint8Array>(64, 64 * 2 ** 20, (png) => png.length);

const keyString = (k: ImageKey): string => `${k.hash}-${k.index}-${k.width}x${k.height}-${k.background}-${k.block}`;

/** The PNG of one image, drawn and encoded once while it stays in the cache. */
export function pngOf(k: ImageKey): Uint8Array {
  const key = keyString(k);
  let png = cache.get(key);
  if (!png) {
    png = encodeImage(k);
    cache.set(key, png);
  }
  return png;
}

// zlib level 1: a drawn gradient compresses about as well as with the default level, in less time.
const ZLIB = { level: 1 } as const;

function encodeImage(k: ImageKey): Uint8Array {
  const channels = k.background === 'transparent' ? 4 : 3;
  return encode({ width: k.width, height: k.height, data: draw(k, channels), channels, depth: 8 }, { zlib: ZLIB });
}

/** Colours and geometry from 32 bytes of hash: two gradient ends, a disc's colour, centre and radius, a stripe period. */
function palette(k: ImageKey): Uint8Array {
  return createHash('sha256').update(`${k.hash}/${k.index}`).digest();
}

/**
 * A diagonal gradient between two colours with soft stripes, and a disc in a third colour. With a transparent
 * background only the disc is opaque. Pixels are drawn per block (the block's top-left pixel's colour).
 */
function draw(k: ImageKey, channels: number): Uint8Array {
  const { width: w, height: h, block } = k;
  const p = palette(k);
  const a = [p[0]!, p[1]!, p[2]!];
  const b = [p[3]!, p[4]!, p[5]!];
  const disc = [p[6]!, p[7]!, p[8]!];
  const cx = (p[9]! / 255) * w;
  const cy = (p[10]! / 255) * h;
  const r = (0.15 + (p[11]! / 255) * 0.3) * Math.min(w, h);
  const period = 16 + (p[12]! % 48);
  const tilt = p[13]! / 255; // how much of the gradient runs across (x) against down (y)
  const out = new Uint8Array(w * h * channels);
  const rowColour = new Uint8Array(w * channels);
  for (let by = 0; by < h; by += block) {
    const y = by;
    for (let bx = 0; bx < w; bx += block) {
      const x = bx;
      const t = (tilt * x) / w + ((1 - tilt) * y) / h;
      const stripe = 0.08 * Math.sin(((x + y) / period) * Math.PI);
      const f = Math.min(1, Math.max(0, t + stripe));
      const dx = x - cx;
      const dy = y - cy;
      const inDisc = dx * dx + dy * dy <= r * r;
      for (let c = 0; c < 3; c++) {
        const v = inDisc ? disc[c]! : a[c]! + (b[c]! - a[c]!) * f;
        rowColour[x * channels + c] = v;
      }
      if (channels === 4) rowColour[x * channels + 3] = inDisc ? 255 : 0;
      // The rest of the block's row repeats its first pixel.
      for (let i = 1; i < block && x + i < w; i++) rowColour.copyWithin((x + i) * channels, x * channels, (x + 1) * channels);
    }
    // Every row of the block is the same.
    for (let i = 0; i < block && y + i < h; i++) out.set(rowColour, (y + i) * w * channels);
  }
  return out;
}

/** Block sides of the partial images of a stream asking for `count` of them, coarse to fine: the last is 8 px. */
export function partialBlocks(count: number): number[] {
  return Array.from({ length: count }, (_, i) => 8 * 2 ** (count - 1 - i));
}

/** An image's name in its URL: everything it is drawn from, so any worker can draw it again. */
export function imageFileName(k: ImageKey): string {
  return `${k.hash}-${k.index}-${k.width}x${k.height}-${k.background}.png`;
}

const FILE_NAME = /^([0-9a-f]{32})-(\d{1,2})-(\d{1,5})x(\d{1,5})-(opaque|transparent)\.png$/;

/** The image a file name stands for (the final image), or undefined for a name this server never gave. */
export function parseImageFileName(name: string, valid: (width: number, height: number) => boolean): ImageKey | undefined {
  const m = FILE_NAME.exec(name);
  if (!m) return undefined;
  const index = Number(m[2]);
  const width = Number(m[3]);
  const height = Number(m[4]);
  if (index > 9 || !valid(width, height)) return undefined;
  return { hash: m[1]!, index, width, height, background: m[5] as Background, block: 1 };
}

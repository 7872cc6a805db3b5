// What a page-elements detector (NIM image retrieval) would find in an image, made up deterministically from
// the image's URL: 1 to 5 boxes, each in one category, corners in 0..1 and a confidence in 0.7..1, rounded to 4
// decimals as the later AIPerf mock rounds them. The same URL always gives the same boxes.
import { createHash } from 'node:crypto';
import { seeded } from './random.js';
import type { BoundingBox } from '../types.js';

export const CATEGORIES = ['title', 'table', 'figure', 'text', 'header', 'footer'] as const;

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

export function boundingBoxes(url: string): Record<string, BoundingBox[]> {
  const r = seeded(createHash('sha256').update(url).digest().readUInt32BE(0));
  const between = (lo: number, hi: number): number => lo + (hi - lo) * r.next();
  const boxes: Record<string, BoundingBox[]> = {};
  const count = 1 + Math.floor(r.next() * 5);
  for (let i = 0; i < count; i++) {
    const category = CATEGORIES[Math.floor(r.next() * CATEGORIES.length)]!;
    const x_min = round4(between(0, 0.5));
    const y_min = round4(between(0, 0.5));
    const box: BoundingBox = {
      x_min,
      y_min,
      x_max: round4(between(x_min + 0.05, 1)),
      y_max: round4(between(y_min + 0.05, 1)),
      confidence: round4(between(0.7, 1)),
    };
    (boxes[category] ??= []).push(box);
  }
  return boxes;
}

/** Bytes an image URL stands for, in MiB: base64 spends about 1.37 characters per byte (with line overhead). */
export const urlSizeMb = (url: string): number => url.length / (1024 * 1024 * 1.37);

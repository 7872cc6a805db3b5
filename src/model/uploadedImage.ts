// What this server reads of an uploaded image: its kind from its first bytes and, for a PNG, its size from the
// IHDR chunk. Enough to refuse a file that is no image and to answer an edit at the size it was given.
export type ImageKind = 'png' | 'jpeg' | 'webp';

export function imageKind(b: Buffer): ImageKind | undefined {
  if (b.length >= 8 && b.readUInt32BE(0) === 0x89504e47 && b.readUInt32BE(4) === 0x0d0a1a0a) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

/** A PNG's width and height (its IHDR is always the first chunk), or undefined when the header is cut short. */
export function pngSize(b: Buffer): [number, number] | undefined {
  if (imageKind(b) !== 'png' || b.length < 24 || b.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

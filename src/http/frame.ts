// Server-Sent Events framing, and pre-serialized frames for the per-token path: a frame whose only
// varying part is one text is JSON-serialized once with a placeholder, then filled by concatenation.

export const DONE_FRAME = 'data: [DONE]\n\n';

export function frame(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

const PLACEHOLDER = '\u0000\u0001text\u0001\u0000';
const PLACEHOLDER_JSON = JSON.stringify(PLACEHOLDER);

/**
 * A frame made from a typed payload in which every text slot holds `slot()`; `fill(text)` returns the
 * same bytes that `frame(payload with text in every slot)` would.
 */
export class FrameTemplate {
  readonly #parts: string[];

  constructor(payload: unknown) {
    this.#parts = frame(payload).split(PLACEHOLDER_JSON);
    if (this.#parts.length < 2) throw new Error('FrameTemplate: payload has no text slot');
  }

  static slot(): string {
    return PLACEHOLDER;
  }

  fill(text: string): string {
    return this.fillJson(JSON.stringify(text));
  }

  /** Like fill, with the text already as a JSON string literal. */
  fillJson(json: string): string {
    const p = this.#parts;
    if (p.length === 2) return p[0] + json + p[1];
    return p.join(json);
  }
}

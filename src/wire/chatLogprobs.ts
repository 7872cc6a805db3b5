// Chat's logprobs on the wire: the `logprobs` object of a choice, as objects for a whole answer and as JSON joined
// from per-token parts for a stream's middle chunks (the per-token path with logprobs on).
import { frame, FrameTemplate } from '../http/frame.js';
import { tokenText, type LogprobModel } from '../model/logprobs.js';
import type { TokenPieces } from '../model/detokenizer.js';
import type { ChatChunk, ChatLogprobs, ChatTokenLogprob, ChatTopLogprob } from '../types.js';

/** Chat's logprobs of a choice: as objects for the whole answer, and as JSON for a stream's one-token chunks. */
export interface ChatLogprobsOf {
  /** The entries of the tokens `ids` at positions `from`, `from + 1`, …. */
  of(ids: readonly number[], from: number): ChatLogprobs;
  /** of([id], position) as JSON, joined from per-token parts serialized once (the per-token path). */
  json(id: number, position: number): string;
}

/** A token entry's JSON around its logprob: `{"token":…,"logprob":` and `,"bytes":[…]`. */
type EntryParts = [string, string];

/**
 * Per vocabulary and id, kept for the server's life: alternatives are drawn from the whole vocabulary, so a
 * per-request cache would serialize thousands of entries afresh for every stream. At most one pair per id.
 */
const entryParts = new WeakMap<TokenPieces, Map<number, EntryParts>>();

function entryPartsOf(pieces: TokenPieces): Map<number, EntryParts> {
  let m = entryParts.get(pieces);
  if (!m) {
    m = new Map();
    entryParts.set(pieces, m);
  }
  return m;
}

export function chatLogprobs(pieces: TokenPieces, model: LogprobModel, top: number): ChatLogprobsOf {
  const entry = (id: number, logprob: number): ChatTopLogprob => {
    const b = pieces.bytes(id);
    return { token: tokenText(pieces, id), logprob, bytes: Array.from(b) };
  };
  const token = (id: number, position: number): ChatTokenLogprob => {
    const at = model.at(position, id, top);
    return { ...entry(id, at.logprob), top_logprobs: at.top.map((t) => entry(t.id, t.logprob)) };
  };
  const parts = entryPartsOf(pieces);
  const partsOf = (id: number): EntryParts => {
    let p = parts.get(id);
    if (!p) {
      p = [`{"token":${JSON.stringify(tokenText(pieces, id))},"logprob":`, `,"bytes":${JSON.stringify(Array.from(pieces.bytes(id)))}`];
      parts.set(id, p);
    }
    return p;
  };
  return {
    of: (ids, from) => ({ content: ids.map((id, k) => token(id, from + k)), refusal: null }),
    json(id, position) {
      const at = model.at(position, id, top);
      const [head, tail] = partsOf(id);
      let out = `{"content":[${head}${JSON.stringify(at.logprob)}${tail},"top_logprobs":[`;
      for (let i = 0; i < at.top.length; i++) {
        const t = at.top[i]!;
        const [h, b] = partsOf(t.id);
        out += `${i === 0 ? '' : ','}${h}${JSON.stringify(t.logprob)}${b}}`;
      }
      return `${out}]}],"refusal":null}`;
    },
  };
}

/** The chunk of a middle token with logprobs: the text-only template, with the logprobs' JSON in their place. */
export class LogprobsFrame {
  readonly #before: string[];
  readonly #after: string;

  constructor(payload: ChatChunk) {
    const [before, after, ...rest] = frame(payload).split('"logprobs":null');
    if (before === undefined || after === undefined || rest.length > 0) throw new Error('LogprobsFrame: payload must hold one null logprobs');
    this.#before = before.split(JSON.stringify(FrameTemplate.slot()));
    this.#after = after;
  }

  fill(textJson: string, logprobsJson: string): string {
    return `${this.#before.join(textJson)}"logprobs":${logprobsJson}${this.#after}`;
  }
}

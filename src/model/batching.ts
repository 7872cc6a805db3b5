// Continuous batching (enable_continuous_batching): one step clock shared by the streams running on this
// process. Every step gives each running sequence one token; a decode step lasts itl + itl_per_running ×
// running sequences (read when the step is planned), and a step that carries a newly admitted request's
// prefill lasts ttft_per_input_token × its uncached prompt tokens longer, which delays the others' next token
// by as much. A new request joins at admission + ttft; its prefill goes into the step after the one in progress
// then, so its TTFT is ttft + the rest of that step + its prefill step. Steps are planned one ahead, when a stream
// asks for its next token, so a prefill admitted meanwhile lands in the very next step.
import type { Pace } from './timing.js';
import type { Settings } from '../types.js';

export type BatchingSettings = Pick<Settings, 'itl' | 'itl_per_running'>;

/** How long ago a planned step may still be looked up (a paused stream's catch-up); older ones are dropped. */
const KEEP_MS = 30_000;
/** Most decode steps planned at once to reach a joining request's start. */
const MAX_FILL = 4096;

export class StepClock {
  /** Ends of the planned steps, ascending; each step starts at the previous end (or later, after idling). */
  readonly #ends: number[] = [];
  #running = 0;

  constructor(private readonly settings: () => Readonly<BatchingSettings>) {}

  /** Sequences in the batch now. */
  get running(): number {
    return this.#running;
  }

  /** The step a sequence's token comes at after `t` (its previous token): planned now if none is yet. */
  stepAfter(t: number): number {
    const ends = this.#ends;
    // Usually the answer is the last or next to last step: search from the end.
    let i = ends.length;
    while (i > 0 && ends[i - 1]! > t) i--;
    if (i < ends.length) return ends[i]!;
    return this.#plan(t, 0);
  }

  /**
   * `sequences` join the batch at `t` with a prefill of `prefill` ms: the end of the step that carries it,
   * when their first token comes. They count as running from now until `leave`.
   */
  join(t: number, sequences: number, prefill: number): number {
    // A request joins at admission + ttft, usually later than the steps planned so far: the running streams
    // keep stepping until then (their steps are planned now, so that the prefill step does not open a gap
    // in their streams), and the prefill goes into the step after the one in progress at t.
    this.#decodeUntil(t);
    this.#running += sequences;
    return this.#plan(t, prefill);
  }

  leave(sequences: number): void {
    this.#running -= sequences;
  }

  /** Plans decode steps of the running sequences from the last planned step until one ends at or after t. */
  #decodeUntil(t: number): void {
    const last = this.#ends.at(-1);
    if (this.#running === 0 || last === undefined || last >= t) return;
    const s = this.settings();
    const step = s.itl + s.itl_per_running * this.#running;
    // Steps too many to plan (a gap longer than kept steps, or steps of a few µs) leave the prefill step at t.
    if (step <= 0 || last < t - KEEP_MS || (t - last) / step > MAX_FILL) return;
    for (let end = last + step; ; end += step) {
      this.#ends.push(end);
      if (end >= t) return;
    }
  }

  #plan(t: number, prefill: number): number {
    const s = this.settings();
    const last = this.#ends.at(-1) ?? -Infinity;
    const end = Math.max(last, t) + s.itl + s.itl_per_running * this.#running + prefill;
    this.#ends.push(end);
    // Forget steps long past (bounded memory under steady load).
    if (this.#ends.length > 1024 && this.#ends[0]! < t - KEEP_MS) this.#ends.splice(0, 512);
    return end;
  }
}

/** Frames whose deadlines a stream may look back on: the clock asks one batch of frames past what it sent. */
const WINDOW = 1024;

/**
 * A stream's pace in the batch: its first token at `first` (what `join` answered), each next token at the end
 * of the step after the previous one's.
 */
export function batchedPace(clock: StepClock, first: number, count: number): Pace {
  const known = new Float64Array(Math.min(WINDOW, Math.max(1, count)));
  known[0] = first;
  let next = 1;
  return {
    count,
    due(k) {
      while (next <= k) {
        known[next % known.length] = clock.stepAfter(known[(next - 1) % known.length]!);
        next++;
      }
      return known[k % known.length]!;
    },
  };
}

// The Prometheus text exposition format (version 0.0.4), written the way each real exporter writes it:
// Python's prometheus_client (vLLM, SGLang, TRT-LLM, the later AIPerf mock), Rust's prometheus crate
// (Dynamo) and Go's templates (DCGM exporter) differ only in how they print numbers.
import type { Hist } from './buckets.js';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Style = 'python' | 'rust' | 'go';
export type Labels = ReadonlyArray<readonly [string, string]>;
export type Kind = 'counter' | 'gauge' | 'histogram';

/** Python's float repr (shortest round-trip digits, exponent below 1e-4 and from 1e16), as prometheus_client's floatToGoString prints it. */
function pythonFloat(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = v.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  const fixed = Number.isInteger(v) ? `${v}.0` : String(v);
  // Go switches to an exponent sooner than Python: prometheus_client follows Go from 1e6 on (with its "e+0").
  const dot = fixed.indexOf('.');
  if (v > 0 && dot > 6) return `${`${fixed[0]}.${fixed.slice(1, dot)}${fixed.slice(dot + 1)}`.replace(/[0.]+$/, '')}e+0${dot - 1}`;
  return fixed;
}

/** Rust's f64 Display: the shortest digits that round-trip, never an exponent, no trailing ".0". */
function rustFloat(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  const plain = String(v);
  if (!plain.includes('e')) return plain;
  // JS would print an exponent here: spell its digits out.
  const [mantissa, expText] = Math.abs(v).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  const spelled =
    exp < 0 ? `0.${'0'.repeat(-exp - 1)}${digits}` : digits.length <= exp + 1 ? digits.padEnd(exp + 1, '0') : `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  return v < 0 ? `-${spelled}` : spelled;
}

export function formatValue(v: number, style: Style): string {
  return style === 'python' ? pythonFloat(v) : style === 'rust' ? rustFloat(v) : String(v);
}

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** A page under construction: families in the order they are added. */
export class Exposition {
  readonly #lines: string[] = [];

  constructor(readonly style: Style) {}

  /** `# HELP` and `# TYPE` of one family, then its samples. */
  family(name: string, help: string, kind: Kind, write: () => void): this {
    const start = this.#lines.length;
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${kind}`);
    write();
    // A family with no sample (no model seen yet) is left out, as the real exporters leave out unused label sets.
    if (this.#lines.length === start + 2) this.#lines.length = start;
    return this;
  }

  sample(name: string, labels: Labels, value: number | string): void {
    const l = labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
    this.#lines.push(`${name}${l} ${typeof value === 'string' ? value : formatValue(value, this.style)}`);
  }

  /**
   * A histogram's samples at `bounds`: cumulative buckets (`le` at `lePosition` among the labels, last by
   * default), then count and sum (Python's order) or sum and count (Rust's and Go's).
   */
  histogram(name: string, labels: Labels, h: Hist, bounds: readonly number[], lePosition = labels.length): void {
    const cumulative = h.cumulative(bounds);
    const withLe = (le: string): Labels => [...labels.slice(0, lePosition), ['le', le], ...labels.slice(lePosition)];
    bounds.forEach((b, i) => this.sample(`${name}_bucket`, withLe(formatValue(b, this.style)), cumulative[i]!));
    this.sample(`${name}_bucket`, withLe('+Inf'), h.count);
    if (this.style === 'python') {
      this.sample(`${name}_count`, labels, h.count);
      this.sample(`${name}_sum`, labels, h.sum);
    } else {
      this.sample(`${name}_sum`, labels, h.sum);
      this.sample(`${name}_count`, labels, h.count);
    }
  }

  text(): string {
    return this.#lines.length ? `${this.#lines.join('\n')}\n` : '';
  }
}

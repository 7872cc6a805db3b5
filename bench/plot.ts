// A small SVG line chart for the benchmark's sweep: panels side by side, each with lines over a log₂ x axis.
// Written by hand because it is a few dozen lines of text, and a plotting package would pull a canvas or a
// browser into the benchmark.

export interface Line {
  label: string;
  color: string;
  dashed: boolean;
  /** Points in x order; a missing y (no sample) breaks the line. */
  points: ReadonlyArray<readonly [number, number | null]>;
}

export interface Panel {
  title: string;
  yLabel: string;
  /** A log₁₀ y axis, for values that span orders of magnitude (TTFT behind a queue). */
  logY?: boolean;
  lines: readonly Line[];
}

const W = 460;
const H = 340;
const PAD = { left: 62, right: 16, top: 34, bottom: 96 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A round step for about `count` ticks up to `max`. */
function step(max: number, count: number): number {
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

/** The y axis: where a value is drawn (0 at the bottom, 1 at the top) and the ticks to label. */
interface YAxis {
  at(y: number): number;
  ticks: number[];
}

function linearAxis(ys: readonly number[]): YAxis {
  const top = Math.max(1, ...ys) * 1.08;
  const ystep = step(top, 5);
  const yMax = Math.ceil(top / ystep) * ystep;
  const ticks: number[] = [];
  for (let y = 0; y <= yMax + 1e-9; y += ystep) ticks.push(y);
  return { at: (y) => y / yMax, ticks };
}

/** Decades from below the least value to above the greatest, ticks at 1, 2 and 5 of each. */
function logAxis(ys: readonly number[]): YAxis {
  const positive = ys.filter((y) => y > 0);
  const lo = Math.floor(Math.log10(Math.min(...positive, 1e9)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...positive, 1e-9))));
  const ticks = [];
  for (let e = lo; e <= hi; e++) for (const m of [1, 2, 5]) if (e < hi || m === 1) ticks.push(m * 10 ** e);
  return { at: (y) => (Math.log10(Math.max(y, 10 ** lo)) - lo) / (hi - lo), ticks };
}

function panel(p: Panel, xs: readonly number[], dx: number, xLabel: string): string {
  const ys = p.lines.flatMap((l) => l.points.flatMap(([, y]) => (y === null ? [] : [y])));
  const axis = p.logY ? logAxis(ys) : linearAxis(ys);
  const lx = Math.log2(xs[0]!);
  const rx = Math.log2(xs[xs.length - 1]!);
  const px = (x: number): number => dx + PAD.left + ((Math.log2(x) - lx) / Math.max(1e-9, rx - lx)) * (W - PAD.left - PAD.right);
  const py = (y: number): number => PAD.top + (1 - axis.at(y)) * (H - PAD.top - PAD.bottom);
  const out: string[] = [];
  out.push(`<text x="${dx + W / 2}" y="20" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`);
  for (const y of axis.ticks) {
    out.push(`<line x1="${dx + PAD.left}" x2="${dx + W - PAD.right}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${dx + PAD.left - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${+y.toFixed(2)}</text>`);
  }
  for (const x of xs) {
    out.push(`<line x1="${px(x).toFixed(1)}" x2="${px(x).toFixed(1)}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#eee"/>`);
    out.push(`<text x="${px(x).toFixed(1)}" y="${H - PAD.bottom + 16}" text-anchor="middle">${x}</text>`);
  }
  out.push(`<text x="${dx + (W + PAD.left) / 2}" y="${H - PAD.bottom + 34}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(`<text transform="translate(${dx + 16} ${(PAD.top + H - PAD.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(p.yLabel)}</text>`);
  for (const l of p.lines) {
    let d = '';
    let pen = 'M';
    for (const [x, y] of l.points) {
      if (y === null) {
        pen = 'M';
        continue;
      }
      d += `${pen}${px(x).toFixed(1)},${py(y).toFixed(1)} `;
      pen = 'L';
    }
    const dash = l.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<path d="${d.trim()}" fill="none" stroke="${l.color}" stroke-width="2"${dash}/>`);
    for (const [x, y] of l.points) if (y !== null) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2.5" fill="${l.color}"/>`);
  }
  p.lines.forEach((l, i) => {
    const y = H - PAD.bottom + 52 + Math.floor(i / 2) * 16;
    const x = dx + PAD.left + (i % 2) * 190;
    const dash = l.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(`<line x1="${x}" x2="${x + 24}" y1="${y - 4}" y2="${y - 4}" stroke="${l.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${x + 30}" y="${y}">${esc(l.label)}</text>`);
  });
  return out.join('\n');
}

/** The panels side by side over the same x values (concurrency), with a caption of a line or more under them. */
export function lineChartSvg(panels: readonly Panel[], xs: readonly number[], xLabel: string, caption: readonly string[]): string {
  const width = W * panels.length;
  const height = H + 16 * caption.length + 8;
  const body = panels.map((p, i) => panel(p, xs, i * W, xLabel)).join('\n');
  const lines = caption.map((c, i) => `<text x="${width / 2}" y="${H + 16 * (i + 1)}" text-anchor="middle" fill="#555">${esc(c)}</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    body,
    ...lines,
    '</svg>',
    '',
  ].join('\n');
}

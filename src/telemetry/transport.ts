// With --workers, every page shows the sum over all workers. The primary already sums prom-client registries
// (its cluster aggregator, which /metrics has always used); each worker exposes its whole Snapshot there as
// one gauge family whose samples are its numbers, one per label `k` (the cell, the field). Summed by label,
// the family is the sum of the snapshots, which a worker reads back from the primary's text.
import { Cell, SCALARS, type Snapshot } from './cell.js';
import { QUANTITY_NAMES, type Quantity } from './buckets.js';

export const TRANSPORT_METRIC = 'aiperf_mock_cluster_counts';

interface Sample {
  labels: { k: string };
  value: number;
}

// One key per number: JSON, so any model name round-trips and no two cells share a key.
type Key = [kind: 'busy'] | [kind: 'cell', endpoint: string, stream: boolean, model: string, field: string];
const key = (k: Key): { k: string } => ({ k: JSON.stringify(k) });

/** The snapshot as samples of one summable gauge family (zeros left out). */
export function encodeSnapshot(s: Snapshot): Sample[] {
  const out: Sample[] = [{ labels: key(['busy']), value: s.busy }];
  for (const c of s.cells) {
    const put = (field: string, value: number): void => {
      if (value !== 0) out.push({ labels: key(['cell', c.endpoint, c.stream, c.model, field]), value });
    };
    // Every cell shows up, even with no count yet, so a model seen once keeps its rows.
    out.push({ labels: key(['cell', c.endpoint, c.stream, c.model, 'requests']), value: c.requests });
    for (const f of SCALARS) if (f !== 'requests') put(f, c[f]);
    for (const [k, v] of c.failures) put(`f:${k}`, v);
    for (const q of QUANTITY_NAMES) {
      const h = c.hist[q];
      h.counts.forEach((n, i) => put(`h:${q}:${i}`, n));
      put(`s:${q}`, h.sum);
      put(`n:${q}`, h.count);
    }
  }
  return out;
}

const unescape = (v: string): string => v.replace(/\\(.)/g, (_m, ch: string) => (ch === 'n' ? '\n' : ch));

/** The summed snapshot, from the primary's text of the transport family. */
export function decodeSnapshot(text: string): Snapshot {
  const cells = new Map<string, Cell>();
  let busy = 0;
  const prefix = `${TRANSPORT_METRIC}{k="`;
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const end = line.lastIndexOf('"} ');
    if (end < prefix.length) continue;
    const k = JSON.parse(unescape(line.slice(prefix.length, end))) as Key;
    const value = Number(line.slice(end + 3));
    if (k[0] === 'busy') {
      busy += value;
      continue;
    }
    const [, endpoint, stream, model, field] = k;
    const id = JSON.stringify([endpoint, stream, model]);
    let c = cells.get(id);
    if (!c) cells.set(id, (c = new Cell(endpoint, model, stream)));
    setField(c, field, value);
  }
  return { cells: [...cells.values()], busy };
}

function setField(c: Cell, field: string, value: number): void {
  const [kind, a, b] = field.split(':') as [string, string | undefined, string | undefined];
  if (kind === 'f') c.failures.set(field.slice(2), value);
  else if (kind === 'h' && isQuantity(a)) c.hist[a].counts[Number(b)] = value;
  else if (kind === 's' && isQuantity(a)) c.hist[a].sum = value;
  else if (kind === 'n' && isQuantity(a)) c.hist[a].count = value;
  else if ((SCALARS as readonly string[]).includes(field)) c[field as (typeof SCALARS)[number]] = value;
}

const isQuantity = (q: string | undefined): q is Quantity => (QUANTITY_NAMES as string[]).includes(q ?? '');

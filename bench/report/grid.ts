// The result table for one thread count as rows of strings, rendered by text.ts and markdown.ts.
import { AGREEMENT_TOLERANCE } from '../compare.js';
import type { Measurement, PeerInfo, Row, RunResult } from '../results.js';
import { formatPct, formatRatio, formatSci, formatTime, sig } from './format.js';

export interface Grid {
  title: string;
  headers: string[];
  /** 'l' or 'r' per column. */
  align: ('l' | 'r')[];
  rows: string[][];
  footnotes: string[];
}

const OP_LABEL = { forward: 'fwd', 'backward-data': 'bwd-data', 'backward-weight': 'bwd-weight' } as const;

function timeCell(m: Measurement | undefined): string {
  if (!m) return '';
  if (m.status === 'n/a') return 'n/a';
  if (m.status === 'error') return 'error';
  return formatTime(m.timing!.medianMs) + (m.timing!.samples === 1 ? '†' : '') + (m.reused ? '*' : '');
}

function ratioCell(peer: Measurement | undefined, convnd: Measurement | undefined): string {
  if (peer?.status !== 'ok' || convnd?.status !== 'ok') return '';
  return formatRatio(peer.timing!.medianMs / convnd.timing!.medianMs);
}

function checkCell(row: Row, peers: PeerInfo[]): string {
  const own = row.results.convnd;
  if (row.op !== 'forward') {
    if (own?.check === undefined) return '';
    return `${own.check <= AGREEMENT_TOLERANCE ? 'adj ok' : 'ADJ FAIL'} ${formatSci(own.check)}`;
  }
  const checked = peers.filter((p) => p.key !== 'convnd' && row.results[p.key]?.check !== undefined);
  if (checked.length === 0) return '';
  const bad = checked.filter((p) => !(row.results[p.key].check! <= AGREEMENT_TOLERANCE));
  if (bad.length) return bad.map((p) => `${p.label} DIFF ${formatSci(row.results[p.key].check!)}`).join('; ');
  return `ok ${formatSci(Math.max(...checked.map((p) => row.results[p.key].check!)))}`;
}

export function buildGrid(result: RunResult, threads: number): Grid {
  const others = result.peers.filter((p) => p.key !== 'convnd');
  const headers = ['case', 'op', 'convnd', 'GF/s', '% peak', 'GB/s', '% copy bw'];
  const align: ('l' | 'r')[] = ['l', 'l', 'r', 'r', 'r', 'r', 'r'];
  for (const p of others) {
    headers.push(p.label, `vs ${p.label}`);
    align.push('r', 'r');
  }
  headers.push('check');
  align.push('l');

  const rows: string[][] = [];
  let reused = false;
  for (const row of result.rows.filter((r) => r.threads === threads)) {
    const c = row.results.convnd;
    const ok = c?.status === 'ok';
    const cells = [
      row.op === 'forward' ? row.case : '',
      OP_LABEL[row.op],
      timeCell(c),
      ok ? sig(c.gflops!) : '',
      ok && c.pctPeak !== undefined ? formatPct(c.pctPeak) : '',
      ok ? sig(c.gbs!) : '',
      ok && c.pctBandwidth !== undefined ? formatPct(c.pctBandwidth) : '',
    ];
    for (const p of others) {
      const m = row.results[p.key];
      if (m?.reused) reused = true;
      cells.push(timeCell(m), ratioCell(m, c));
    }
    cells.push(checkCell(row, result.peers));
    rows.push(cells);
  }

  const peak = result.peakGflops[String(threads)];
  const footnotes = [
    `convnd's measured FMA peak on ${threads} thread(s): ${sig(peak)} GF/s; single-thread copy bandwidth: ${sig(result.copyBandwidthGBs)} GB/s.`,
    'Times are medians. "vs X" = X time / convnd time (above 1 = convnd faster). GF/s counts 2 flops per multiply-add ' +
      '(pooling: 1 per window tap); GB/s = (input + output + weights) bytes / time (max pooling\'s backward: x, dy and dx).',
    `check: forward = max |X - convnd| / max |convnd| over the peers (ok below ${formatSci(AGREEMENT_TOLERANCE)}); ` +
      'backward = adjoint test <x,dx> = <w,dw> = <conv(x,w),dy> (pooling: <x,dx> = <pool(x),dy>).',
  ];
  const single = result.rows.some((r) => r.threads === threads && Object.values(r.results).some((m) => m.timing?.samples === 1));
  if (single) footnotes.push('† a single call (the first call took longer than the slow-call limit, so it was not repeated).');
  if (reused) footnotes.push('* measured once on the thread count the library really uses (see notes), repeated here.');
  return { title: `${threads} thread${threads === 1 ? '' : 's'}`, headers, align, rows, footnotes };
}

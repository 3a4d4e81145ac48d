// A hand-written SVG bar chart: per thread count and forward case, how many times faster convnd is than each peer.
import { AGREEMENT_TOLERANCE } from '../compare.js';
import type { RunResult } from '../results.js';
import { formatRatio } from './format.js';

const COLORS = ['#2b6cb0', '#dd6b20', '#2f855a', '#9b2c2c'];
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface Bar { peer: number; ratio: number; reused: boolean; wrong: boolean }
interface Group { name: string; bars: Bar[] }

function groups(result: RunResult, threads: number, peerKeys: string[]): Group[] {
  const out: Group[] = [];
  for (const row of result.rows) {
    if (row.threads !== threads || row.op !== 'forward') continue;
    const a = row.results.convnd;
    if (a?.status !== 'ok') continue;
    const bars: Bar[] = [];
    peerKeys.forEach((key, peer) => {
      const b = row.results[key];
      if (b?.status === 'ok')
        bars.push({
          peer, ratio: b.timing!.medianMs / a.timing!.medianMs, reused: Boolean(b.reused),
          wrong: b.check !== undefined && !(b.check <= AGREEMENT_TOLERANCE),
        });
    });
    out.push({ name: row.case, bars });
  }
  return out;
}

export function renderSvg(result: RunResult): string {
  const peers = result.peers.filter((p) => p.key !== 'convnd');
  const keys = peers.map((p) => p.key);
  const panels = result.args.threads.map((t) => ({ threads: t, groups: groups(result, t, keys) }));
  const ratios = panels.flatMap((p) => p.groups.flatMap((g) => g.bars.map((b) => b.ratio)));
  const lo = Math.max(-6, Math.min(-1, Math.floor(Math.log2(Math.min(1, ...ratios)))));
  const hi = Math.min(8, Math.max(1, Math.ceil(Math.log2(Math.max(1, ...ratios)))));

  const width = 960;
  const left = 250;
  const right = 40;
  const plotW = width - left - right;
  const barH = 9;
  const groupGap = 8;
  const x = (r: number): number => left + ((Math.log2(r) - lo) / (hi - lo)) * plotW;
  const parts: string[] = [];
  let y = 30;
  parts.push(`<text x="10" y="${y}" font-size="16" font-weight="600">convnd speedup over each library: library time / convnd time (forward, median)</text>`);
  y += 18;
  parts.push(`<text x="10" y="${y}" font-size="12" fill="#444">log scale; right of 1× = convnd faster. Pale bars: the library ran single-threaded (same measurement as 1 thread). "≠": its output disagreed with convnd's.</text>`);
  y += 24;
  peers.forEach((p, i) => {
    const lx = left + i * 180;
    parts.push(`<rect x="${lx}" y="${y - 10}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`);
    parts.push(`<text x="${lx + 18}" y="${y}" font-size="12">${xml(`${p.label} ${p.version}`)}</text>`);
  });
  y += 16;

  for (const panel of panels) {
    y += 18;
    parts.push(`<text x="10" y="${y}" font-size="14" font-weight="600">${panel.threads} thread${panel.threads === 1 ? '' : 's'}</text>`);
    y += 10;
    const top = y;
    const h = panel.groups.reduce((s, g) => s + Math.max(1, g.bars.length) * barH + groupGap, 0);
    for (let e = lo; e <= hi; e++) {
      const gx = x(2 ** e);
      parts.push(`<line x1="${gx}" y1="${top}" x2="${gx}" y2="${top + h}" stroke="${e === 0 ? '#222' : '#ddd'}" stroke-width="${e === 0 ? 1.5 : 1}"/>`);
      parts.push(`<text x="${gx}" y="${top + h + 14}" font-size="11" text-anchor="middle">${e >= 0 ? 2 ** e : `1/${2 ** -e}`}×</text>`);
    }
    for (const g of panel.groups) {
      const gh = Math.max(1, g.bars.length) * barH;
      parts.push(`<text x="${left - 8}" y="${y + gh / 2 + 4}" font-size="11" text-anchor="end">${xml(g.name)}</text>`);
      if (g.bars.length === 0) parts.push(`<text x="${x(1) + 6}" y="${y + 8}" font-size="10" fill="#888">no peer</text>`);
      for (const [i, b] of g.bars.entries()) {
        const by = y + i * barH;
        const r = Math.min(2 ** hi, Math.max(2 ** lo, b.ratio));
        const x0 = Math.min(x(1), x(r));
        const w = Math.max(1, Math.abs(x(r) - x(1)));
        parts.push(`<rect x="${x0.toFixed(1)}" y="${by}" width="${w.toFixed(1)}" height="${barH - 1}" fill="${COLORS[b.peer % COLORS.length]}"${b.reused ? ' fill-opacity="0.55"' : ''}><title>${xml(`${peers[b.peer].label}: ${formatRatio(b.ratio)}`)}</title></rect>`);
        const tx = b.ratio >= 1 ? x0 + w + 3 : x0 - 3;
        const label = formatRatio(b.ratio) + (b.wrong ? ' ≠' : '');
        parts.push(`<text x="${tx.toFixed(1)}" y="${by + barH - 1.5}" font-size="9" text-anchor="${b.ratio >= 1 ? 'start' : 'end'}"${b.wrong ? ' fill="#c00"' : ''}>${xml(label)}</text>`);
      }
      y += gh + groupGap;
    }
    y += 24;
  }
  const m = result.machine;
  parts.push(`<text x="10" y="${y}" font-size="11" fill="#555">${xml(`${m.cpu}, ${m.cores} cores, Node.js ${m.node}, convnd ${m.convnd.version} (${m.convnd.isa}), ${result.date}`)}</text>`);
  y += 12;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" ${FONT}>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

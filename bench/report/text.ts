// Plain-text rendering of a grid for the terminal.
import type { Grid } from './grid.js';

const pad = (s: string, width: number, align: 'l' | 'r'): string =>
  align === 'l' ? s.padEnd(width) : s.padStart(width);

export function renderText(grid: Grid): string {
  const widths = grid.headers.map((h, i) => Math.max(h.length, ...grid.rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((s, i) => pad(s, widths[i], grid.align[i])).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [
    `== ${grid.title} ==`,
    line(grid.headers),
    rule,
    ...grid.rows.map(line),
    ...grid.footnotes.map((f) => `  ${f}`),
    '',
  ].join('\n');
}

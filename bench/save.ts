// Writes bench/results/<date>.json (every raw number) and bench/results/<date>.svg.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { renderSvg } from './report/svg.js';
import type { RunResult } from './results.js';

export const RESULTS_DIR = path.join(__dirname, 'results');

/** The run's ISO date made safe for file names: 2025-01-31T12-34-56Z. */
export const fileStamp = (isoDate: string): string => isoDate.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');

export function saveResults(result: RunResult): { json: string; svg: string } {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const base = path.join(RESULTS_DIR, fileStamp(result.date));
  const json = `${base}.json`;
  const svg = `${base}.svg`;
  writeFileSync(json, JSON.stringify(result, null, 2) + '\n');
  writeFileSync(svg, renderSvg(result));
  return { json, svg };
}

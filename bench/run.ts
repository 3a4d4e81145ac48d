// `npm run bench`: convnd against onnxruntime-node and TensorFlow.js (wasm) on the same shapes.
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type BenchArgs, matchesFilter, parseArgs, USAGE } from './args.js';
import { CASES } from './cases.js';
import { runAll } from './driver.js';
import { copyBandwidthGBs, machineInfo } from './machine.js';
import { loadPeers } from './peers/load.js';
import { clearProgress, progress } from './progress.js';
import { buildGrid } from './report/grid.js';
import { renderMarkdown, writeBenchmarksMd } from './report/markdown.js';
import { renderText } from './report/text.js';
import type { RunResult } from './results.js';
import { saveResults } from './save.js';

async function main(): Promise<void> {
  const started = performance.now();
  const date = new Date().toISOString();
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  const args = parseArgs(process.argv.slice(2), cores);
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const result = args.from ? (JSON.parse(readFileSync(args.from, 'utf8')) as RunResult) : await measureAll(args, date, started);
  report(result, { ...args, save: args.save && !args.from });
}

async function measureAll(args: BenchArgs, date: string, started: number): Promise<RunResult> {
  const cases = CASES.filter((c) => matchesFilter(c.name, args.filter));
  if (cases.length === 0)
    throw new Error(`no case matches --filter ${args.filter.join(',')}; cases:\n  ${CASES.map((c) => c.name).join('\n  ')}`);

  const machine = machineInfo();
  progress('measuring copy bandwidth');
  const bandwidth = copyBandwidthGBs(args.quick ? 200 : 500);
  progress('loading onnxruntime-node and tfjs-wasm');
  const loaded = await loadPeers(machine.convnd.version, Math.max(...args.threads));
  const driven = await runAll(cases, loaded.peers, args, bandwidth);
  clearProgress();

  const result: RunResult = {
    date, args, machine,
    peakGflops: driven.peakGflops,
    copyBandwidthGBs: bandwidth,
    peers: loaded.peers.map((p) => ({ key: p.key, label: p.label, version: p.version })),
    missingPeers: loaded.missing,
    notes: loaded.notes,
    warnings: driven.warnings,
    rows: driven.rows,
    durationSeconds: (performance.now() - started) / 1000,
  };
  return result;
}

/** Prints the tables, and saves / renders markdown as the options ask. */
function report(result: RunResult, args: BenchArgs): void {
  const m = result.machine;
  console.log(`${m.cpu}, ${m.cores} cores, Node.js ${m.node}; convnd ${m.convnd.version} (${m.convnd.isa}); ` +
    result.peers.filter((p) => p.key !== 'convnd').map((p) => `${p.label} ${p.version}`).join(', '));
  for (const p of result.missingPeers) console.log(`not measured: ${p.key}: ${p.reason}`);
  for (const n of result.notes) console.log(`note: ${n}`);
  console.log('');
  for (const threads of result.args.threads) console.log(renderText(buildGrid(result, threads)));
  if (result.warnings.length) console.log(`${result.warnings.length} warning(s):\n${result.warnings.map((w) => `  ${w}`).join('\n')}\n`);

  if (args.save) {
    const files = saveResults(result);
    console.log(`wrote ${path.relative(process.cwd(), files.json)} and ${path.relative(process.cwd(), files.svg)}`);
  }
  const md = renderMarkdown(result);
  if (args.markdown) console.log(`\n${md}`);
  if (args.writeMd) {
    const file = path.join(__dirname, '..', 'BENCHMARKS.md');
    writeBenchmarksMd(file, md);
    console.log(`updated ${path.relative(process.cwd(), file)}`);
  }
  console.log(`${args.from ? `rendered ${args.from}, a run that took` : 'done in'} ${result.durationSeconds.toFixed(0)} s`);
}

main().then(
  () => process.exit(0), // the wasm backend and ORT keep handles open; the run is over
  (e: unknown) => {
    clearProgress();
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);

// Runs every case and op on every peer at every thread count, timing and cross-checking them.
import type { BenchArgs } from './args.js';
import { type Case, opsOf, type Op } from './cases.js';
import { adjointMismatch, AGREEMENT_TOLERANCE, relativeMaxDiff } from './compare.js';
import { type CaseData, makeCaseData } from './data.js';
import { peakGflops } from './machine.js';
import type { Peer, Prepared } from './peers/types.js';
import { progress, warn } from './progress.js';
import type { Measurement, Row } from './results.js';
import { measureInterleaved } from './timing.js';
import { outputShape, workOf } from './work.js';

export interface DriverOutput {
  rows: Row[];
  peakGflops: Record<string, number>;
  warnings: string[];
}

const OP_SHORT: Record<Op, string> = { forward: 'fwd', 'backward-data': 'bwd-data', 'backward-weight': 'bwd-weight' };

export async function runAll(
  cases: readonly Case[], peers: readonly Peer[], args: BenchArgs, copyBandwidthGBs: number,
): Promise<DriverOutput> {
  const out: DriverOutput = { rows: [], peakGflops: {}, warnings: [] };
  const say = (msg: string): void => { out.warnings.push(msg); warn(msg); };
  // Timings of peers whose effective thread count repeats (tfjs-wasm under Node.js), by case/op/peer/threads.
  const cache = new Map<string, Measurement>();
  const steps = args.threads.length * cases.reduce((n, c) => n + opsOf(c, args.backward).length, 0);
  let step = 0;

  // Each case and op is measured at every thread count in turn, seconds apart. Measured a whole
  // section of cases apart (minutes), the ratio between thread counts took whatever phase the
  // machine was in for each section (this VM's speed drifts by tens of percent): the 1x1 layer's
  // data gradient ran 1.90x as fast on two threads as on one in one run, 1.01x and 1.05x in two others.
  const peakMs = args.quick ? 150 : 500;
  for (const threads of args.threads) {
    progress(`measuring the FMA peak on ${threads} thread(s)`);
    out.peakGflops[String(threads)] = peakGflops(threads, peakMs);
  }

  for (const [index, c] of cases.entries()) {
    const yShape = outputShape(c);
    const data: CaseData = makeCaseData(c.x, c.kind === 'conv' ? c.w : null, yShape, 1000 + index);
    let forwardY: Float32Array | null = null;

    for (const op of opsOf(c, args.backward)) {
      for (const threads of args.threads) {
        const peak = out.peakGflops[String(threads)];
        step++;
        const work = workOf(c, op);
        const row: Row = {
          case: c.name, note: c.note, op, threads,
          shape: { x: c.x, w: c.kind === 'conv' ? c.w : null, y: yShape },
          flops: work.flops, bytes: work.bytes, fma: work.fma, results: {},
        };
        // Peers to time now: not n/a, and not a repeat of a measurement already taken.
        const active: { peer: Peer; eff: number; key: string }[] = [];
        for (const peer of peers) {
          const why = peer.unsupported(c, op);
          if (why) { row.results[peer.key] = { status: 'n/a', reason: why }; continue; }
          const eff = peer.effectiveThreads(threads);
          const key = `${peer.key}|${c.name}|${op}|${eff}`;
          const cached = cache.get(key);
          if (cached) { row.results[peer.key] = { ...cached, reused: true }; continue; }
          active.push({ peer, eff, key });
        }
        progress(`[${step}/${steps}] ${threads}T ${c.name} ${OP_SHORT[op]}: ${active.map((a) => a.peer.label).join(', ')}`);
        const measured = await measureTogether(active.map((a) => a.peer), c, op, data, threads, args.budgetMs);
        let reference: Float32Array | null = null;
        for (const [i, { peer, eff, key }] of active.entries()) {
          const m = measured[i];
          m.threads = eff;
          if (m.status === 'ok' && m.timing) {
            const s = m.timing.medianMs / 1e3;
            m.gflops = work.flops / s / 1e9;
            m.gbs = work.bytes / s / 1e9;
            if (work.fma && eff === threads) m.pctPeak = (100 * m.gflops) / peak;
            m.pctBandwidth = (100 * m.gbs) / copyBandwidthGBs;
          }
          if (m.status === 'error') say(`${peer.label} failed on '${c.name}' ${op}: ${m.reason}`);
          // The cross-check: peers against convnd's forward output; convnd's backward by the adjoint identity.
          if (m.status === 'ok' && m.output) {
            if (peer.key === 'convnd') {
              reference = m.output;
              if (op === 'forward') forwardY = m.output.slice();
              else if (forwardY) {
                // Pooling is linear in x for fixed winners (max) or outright (average), so the
                // same identity <x, dx> = <pool(x), dy> checks its backward.
                const input = op === 'backward-data' ? data.x : data.w!;
                m.check = adjointMismatch(input, m.output, forwardY, data.dy);
                if (!(m.check <= AGREEMENT_TOLERANCE))
                  say(`convnd ${op} on '${c.name}' (${threads}T) fails the adjoint test: mismatch ${fmt(m.check)}`);
              }
            } else if (reference) {
              m.check = relativeMaxDiff(m.output, reference);
            }
          }
          delete m.output;
          row.results[peer.key] = m;
          if (eff !== threads || args.threads.some((t) => t !== threads && peer.effectiveThreads(t) === eff))
            cache.set(key, { ...m });
        }
        reportDisagreements(row, peers, say);
        out.rows.push(row);
      }
    }
  }

  // Measured again after the cases: one measurement can land in a slow phase of the machine
  // (a 2-thread peak of 122 GF/s against 175-194 in other runs), and the yardstick is what the
  // cores can do, so the shares of peak use the higher of the two.
  for (const threads of args.threads) {
    progress(`measuring the FMA peak on ${threads} thread(s) again`);
    const key = String(threads);
    const peak = Math.max(out.peakGflops[key], peakGflops(threads, peakMs));
    out.peakGflops[key] = peak;
    for (const row of out.rows.filter((r) => r.threads === threads))
      for (const m of Object.values(row.results))
        if (m.pctPeak !== undefined && m.gflops !== undefined) m.pctPeak = (100 * m.gflops) / peak;
  }
  const single = out.peakGflops['1'];
  for (const threads of args.threads) {
    const peak = out.peakGflops[String(threads)];
    if (threads > 1 && single !== undefined && peak < 0.75 * threads * single)
      say(`the FMA peak on ${threads} threads (${peak.toFixed(1)} GF/s) is far below ${threads}x the 1-thread peak ` +
        `(${single.toFixed(1)} GF/s): other work is competing for the cores, so the ${threads}-thread numbers are unreliable`);
  }
  return out;
}

/** Warns about each peer whose output differs from convnd's, naming the peers that agree with convnd. */
function reportDisagreements(row: Row, peers: readonly Peer[], say: (msg: string) => void): void {
  const checked = peers.filter((p) => p.key !== 'convnd' && row.results[p.key]?.check !== undefined && !row.results[p.key].reused);
  const agree = checked.filter((p) => row.results[p.key].check! <= AGREEMENT_TOLERANCE).map((p) => p.label);
  for (const p of checked) {
    const check = row.results[p.key].check!;
    if (check <= AGREEMENT_TOLERANCE) continue;
    say(`${p.label} and convnd disagree on '${row.case}' (${row.threads}T): max |diff| / max |y| = ${fmt(check)}` +
      (agree.length ? ` (${agree.join(', ')} agree${agree.length === 1 ? 's' : ''} with convnd)` : ''));
  }
}

const fmt = (v: number): string => (Number.isFinite(v) ? v.toExponential(1) : String(v));

/**
 * Prepares every peer's call, times them together in interleaved rounds (see timing.ts), and collects
 * each one's output for the cross-check. A peer that fails is reported as an error; the others go on.
 */
async function measureTogether(
  peers: readonly Peer[], c: Case, op: Op, data: CaseData, threads: number, budgetMs: number,
): Promise<(Measurement & { output?: Float32Array })[]> {
  const results: (Measurement & { output?: Float32Array })[] = [];
  const prepared: (Prepared | null)[] = [];
  for (const peer of peers) {
    try {
      prepared.push(await peer.prepare(c, op, data, threads));
      results.push({ status: 'ok' });
    } catch (e) {
      prepared.push(null);
      results.push({ status: 'error', reason: message(e) });
    }
  }
  try {
    const ready = prepared.flatMap((p, i) => (p ? [{ p, i }] : []));
    const timings = await measureInterleaved(ready.map(({ p }) => () => p.run()), { budgetMs });
    for (const [j, { p, i }] of ready.entries()) {
      const t = timings[j];
      if (t instanceof Error) { results[i] = { status: 'error', reason: message(t) }; continue; }
      try {
        results[i] = { status: 'ok', timing: t, output: await p.output() };
      } catch (e) {
        results[i] = { status: 'error', reason: message(e) };
      }
    }
  } finally {
    for (const p of prepared) if (p) await p.dispose();
  }
  return results;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

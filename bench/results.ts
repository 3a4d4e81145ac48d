// The shape of one benchmark run, as kept in bench/results/<date>.json and rendered by report/.
import type { BenchArgs } from './args.js';
import type { Op } from './cases.js';
import type { MachineInfo } from './machine.js';
import type { Timing } from './timing.js';

export interface Measurement {
  status: 'ok' | 'n/a' | 'error';
  /** Why n/a, or the error message. */
  reason?: string;
  /** Threads the library really ran on. */
  threads?: number;
  timing?: Timing;
  gflops?: number;
  gbs?: number;
  /** % of the measured FMA peak at this row's thread count (convolutions only). */
  pctPeak?: number;
  /** % of the measured single-thread copy bandwidth. */
  pctBandwidth?: number;
  /** Peer vs convnd: max |difference| / max |convnd output|. For convnd's backward rows: the adjoint-test mismatch. */
  check?: number;
  /** True when the timing was taken at another requested thread count with the same effective threads. */
  reused?: boolean;
}

export interface Row {
  case: string;
  note: string;
  op: Op;
  threads: number;
  shape: { x: number[]; w: number[] | null; y: number[] };
  flops: number;
  bytes: number;
  fma: boolean;
  /** Keyed by peer key ('convnd', 'ort', 'tfjs'). */
  results: Record<string, Measurement>;
}

export interface PeerInfo {
  key: string;
  label: string;
  version: string;
}

export interface RunResult {
  date: string;
  args: BenchArgs;
  machine: MachineInfo;
  /** convnd's FMA peak by thread count, GF/s (native().peakGflops). */
  peakGflops: Record<string, number>;
  /** Single-thread Float32Array copy bandwidth (read + write), GB/s. */
  copyBandwidthGBs: number;
  peers: PeerInfo[];
  missingPeers: { key: string; reason: string }[];
  notes: string[];
  warnings: string[];
  rows: Row[];
  durationSeconds: number;
}

// What the numbers are measured against: the machine, its FMA peak per thread count and its copy bandwidth.
import * as os from 'node:os';
import { backendInfo, type BackendInfo } from '../lib/index.js';
import { native } from '../lib/native.js';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  arch: string;
  node: string;
  /** 1, 5 and 15 minute load averages when the run started (other work on the machine skews the numbers). */
  loadAverage: number[];
  convnd: BackendInfo;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.type()} ${os.release()}`,
    arch: process.arch,
    node: process.version,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    convnd: backendInfo(),
  };
}

/** FMA rate of convnd's active kernel set on `threads` threads, measured by the addon's own loop, GF/s. */
export function peakGflops(threads: number, milliseconds: number): number {
  return native().peakGflops(threads, milliseconds);
}

/**
 * Copy bandwidth of one thread: the best of several Float32Array copies of 64 MiB (well past the caches),
 * counting both the bytes read and the bytes written, GB/s.
 */
export function copyBandwidthGBs(milliseconds: number): number {
  const n = 16 * 2 ** 20;
  const src = new Float32Array(n).fill(1);
  const dst = new Float32Array(n);
  dst.set(src); // fault the pages in before timing
  let best = Infinity;
  const stop = performance.now() + milliseconds;
  for (let i = 0; i < 3 || performance.now() < stop; i++) {
    const t0 = performance.now();
    dst.set(src);
    best = Math.min(best, performance.now() - t0);
    if (i > 200) break;
  }
  return (2 * 4 * n) / (best * 1e6);
}

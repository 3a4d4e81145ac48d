import { addonFile, native, packageRoot } from './native.js';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { checkInteger } from './validate.js';

export type Isa = 'avx512' | 'avx2' | 'neon' | 'scalar';

export interface BackendInfo {
  /** The kernel set in use, picked from the CPU at load time (lowered by env CONVND_ISA). */
  isa: Isa;
  /** Kernel sets this CPU supports, best first. */
  supported: Isa[];
  threads: number;
  version: string;
  /** True when the binary came from prebuilds/ rather than a local build. */
  prebuilt: boolean;
}

export function backendInfo(): BackendInfo {
  const info = native().backendInfo();
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return {
    isa: info.isa as Isa,
    supported: info.supported as Isa[],
    threads: info.threads,
    version: pkg.version,
    prebuilt: addonFile().split(path.sep).includes('prebuilds'),
  };
}

/** Threads the addon's own pool uses (default: the machine's cores, or env CONVND_NUM_THREADS). */
export function setNumThreads(n: number): void {
  native().setNumThreads(checkInteger('setNumThreads', 'n', n, 1, 256));
}

export function getNumThreads(): number {
  return native().backendInfo().threads;
}

// What every library under test provides to the benchmark driver.
import type { Case, Op } from '../cases.js';
import type { CaseData } from '../data.js';

export interface Prepared {
  /** One call of the operation, with every input already in the library's own layout and memory. */
  run(): void | Promise<void>;
  /** The result of the last run, in convnd's layout ([N, C, ...spatial]), for the cross-check. */
  output(): Float32Array | Promise<Float32Array>;
  dispose(): void | Promise<void>;
}

export interface Peer {
  /** Short key used in the JSON and the tables. */
  key: string;
  label: string;
  version: string;
  /** Threads the library really runs on when asked for `threads`. */
  effectiveThreads(threads: number): number;
  /** Null when the library can run this case and op, else why not (shown as n/a). */
  unsupported(c: Case, op: Op): string | null;
  prepare(c: Case, op: Op, data: CaseData, threads: number): Promise<Prepared>;
}

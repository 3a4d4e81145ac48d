// The PyTorch float64 oracle (test/fixtures/torch-oracle.json, copied from shared/fixtures)
// and the tolerances its README prescribes.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import { backendInfo, type Tensor } from '../../lib/index.js';

export interface Stored { shape: number[]; data: number[] }
export interface OracleCase {
  op: 'conv' | 'convTranspose' | 'maxPool' | 'minPool' | 'avgPool';
  opts: Record<string, unknown>;
  [name: string]: unknown;
}

export const oracleCases: OracleCase[] = (
  JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'torch-oracle.json'), 'utf8')) as { cases: OracleCase[] }
).cases;

export function stored(c: OracleCase, name: string): Tensor {
  const t = c[name] as Stored;
  return { data: Float32Array.from(t.data), shape: t.shape };
}

export function has(c: OracleCase, name: string): boolean {
  return c[name] !== undefined;
}

export function describeCase(c: OracleCase, i: number): string {
  const x = c.x as Stored;
  return `#${i} ${c.op} x[${x.shape.join(',')}] ${JSON.stringify(c.opts)}`;
}

/** Convolution tensors: |got - want| <= 1e-5 * scale + 1e-6, scale = sum of |terms|. */
export function expectConvClose(got: Tensor, c: OracleCase, name: string): void {
  const want = c[name] as Stored;
  const scale = c[`${name}_scale`] as Stored;
  expect(got.shape).toEqual(want.shape);
  let worst = -Infinity, at = -1;
  for (let i = 0; i < want.data.length; i++) {
    const excess = Math.abs(got.data[i] - want.data[i]) - (1e-5 * scale.data[i] + 1e-6);
    if (!(excess <= worst) || Number.isNaN(excess)) { worst = Number.isNaN(excess) ? Infinity : excess; at = i; }
  }
  expect(worst, `${name}[${at}]: got ${got.data[at]}, want ${want.data[at]}`).toBeLessThanOrEqual(0);
}

/** Pooling: |got - want| <= tol * (|want| + 1). */
export function expectPoolClose(got: Tensor, c: OracleCase, name: string, tol: number): void {
  const want = c[name] as Stored;
  expect(got.shape).toEqual(want.shape);
  for (let i = 0; i < want.data.length; i++) {
    const ok = Math.abs(got.data[i] - want.data[i]) <= tol * (Math.abs(want.data[i]) + 1);
    if (!ok) expect(got.data[i], `${name}[${i}]`).toBeCloseTo(want.data[i], 5);
  }
}

/** The kernel set this test run is for, and whether this CPU has it. */
export function requestedIsa(): { isa: string; available: boolean } {
  const isa = process.env.CONVND_ISA ?? backendInfo().isa;
  return { isa, available: backendInfo().isa === isa };
}

// Normalisation of the per-axis options (stride, padding, dilation, kernel, output padding)
// shared by convolution and pooling.
import { checkInteger, MAX_EXTENT, rangeError, typeError } from './validate.js';

/** One value for every axis, or one per axis. */
export type PerAxis = number | readonly number[];
/** Symmetric, per axis, explicit [before, after] per axis, or a named rule. */
export type Padding = PerAxis | readonly (readonly [number, number])[] | 'valid' | 'same' | 'full';

export function perAxis(fn: string, arg: string, v: unknown, rank: number, fallback: number, min: number): number[] {
  if (v === undefined) return new Array<number>(rank).fill(fallback);
  if (typeof v === 'number') return new Array<number>(rank).fill(checkInteger(fn, arg, v, min, MAX_EXTENT));
  if (!Array.isArray(v)) throw typeError(fn, arg, `a number or an array of ${rank}`, v);
  if (v.length !== rank) throw rangeError(fn, `${arg} must have ${rank} entries (one per spatial axis), got ${v.length}`);
  return v.map((e: unknown, i) => checkInteger(fn, `${arg}[${i}]`, e, min, MAX_EXTENT));
}

export interface AxisPadding {
  before: number[];
  after: number[];
}

/** Geometry needed to resolve 'same' and 'full'. */
export interface PaddingContext {
  input: readonly number[];
  kernel: readonly number[];
  stride: readonly number[];
  dilation: readonly number[];
}

export function resolvePadding(fn: string, v: unknown, rank: number, ctx: PaddingContext | null): AxisPadding {
  if (v === undefined) return { before: new Array<number>(rank).fill(0), after: new Array<number>(rank).fill(0) };
  if (typeof v === 'string') {
    if (v === 'valid') return resolvePadding(fn, 0, rank, ctx);
    if ((v === 'same' || v === 'full') && ctx) {
      const before: number[] = [], after: number[] = [];
      for (let a = 0; a < rank; a++) {
        const span = ctx.dilation[a] * (ctx.kernel[a] - 1);
        if (v === 'full') {
          before.push(span);
          after.push(span);
        } else {
          // ONNX SAME_UPPER / TensorFlow 'SAME': output ceil(in / stride), extra padding after.
          const out = Math.ceil(ctx.input[a] / ctx.stride[a]);
          const total = Math.max((out - 1) * ctx.stride[a] + span + 1 - ctx.input[a], 0);
          before.push(Math.floor(total / 2));
          after.push(total - Math.floor(total / 2));
        }
      }
      for (let a = 0; a < rank; a++)
        if (before[a] > MAX_EXTENT || after[a] > MAX_EXTENT)
          throw rangeError(fn, `padding '${v}' along spatial axis ${a} would be ${before[a]}+${after[a]}, more than 2^40 (dilation ${ctx.dilation[a]} x kernel ${ctx.kernel[a]} is too large)`);
      return { before, after };
    }
    if (v === 'same' || v === 'full') throw rangeError(fn, `padding '${v}' is not defined here; use a number, one per axis, or [before, after] pairs`);
    throw rangeError(fn, `padding must be a number, an array, 'valid', 'same' or 'full', got ${JSON.stringify(v)}`);
  }
  if (Array.isArray(v) && v.length > 0 && Array.isArray(v[0])) {
    if (v.length !== rank) throw rangeError(fn, `padding must have ${rank} [before, after] pairs, got ${v.length}`);
    const before: number[] = [], after: number[] = [];
    v.forEach((pair: unknown, a) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw typeError(fn, `padding[${a}]`, 'a [before, after] pair', pair);
      before.push(checkInteger(fn, `padding[${a}][0]`, pair[0], 0, MAX_EXTENT));
      after.push(checkInteger(fn, `padding[${a}][1]`, pair[1], 0, MAX_EXTENT));
    });
    return { before, after };
  }
  const sym = perAxis(fn, 'padding', v, rank, 0, 0);
  return { before: sym, after: [...sym] };
}

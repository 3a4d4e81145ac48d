// Deterministic random inputs and the layout changes peers need (channels-last for TensorFlow.js).
import { product } from './work.js';

/** Uniform values in [-scale, scale) from a small xorshift generator, so every run sees the same data. */
export function randomArray(length: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(length);
  let s = (seed * 0x9e3779b9) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = (s / 4294967296 * 2 - 1) * scale;
  }
  return out;
}

/** out[i_perm[0], i_perm[1], ...] = data[i_0, i_1, ...]: axis k of the result is axis perm[k] of the input. */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): { data: Float32Array; shape: number[] } {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  for (let a = rank - 1, s = 1; a >= 0; a--) { inStrides[a] = s; s *= shape[a]; }
  // Walk the output in order; src advances by the input stride of the permuted axis.
  const stride = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  const last = rank - 1;
  const innerLen = outShape[last];
  const innerStride = stride[last];
  let src = 0;
  for (let o = 0; o < out.length; o += innerLen) {
    for (let i = 0, s = src; i < innerLen; i++, s += innerStride) out[o + i] = data[s];
    // Advance the outer index (all axes but the last).
    for (let a = last - 1; a >= 0; a--) {
      idx[a]++;
      src += stride[a];
      if (idx[a] < outShape[a]) break;
      src -= stride[a] * outShape[a];
      idx[a] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/** [N, C, ...spatial] -> [N, ...spatial, C]. */
export function toChannelsLast(data: Float32Array, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  const perm = [0, ...shape.slice(2).map((_, i) => i + 2), 1];
  return permute(data, shape, perm);
}

/** [N, ...spatial, C] -> [N, C, ...spatial]. */
export function toChannelsFirst(data: Float32Array, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  const rank = shape.length;
  const perm = [0, rank - 1, ...shape.slice(1, rank - 1).map((_, i) => i + 1)];
  return permute(data, shape, perm);
}

/** Convolution weight [K, C, ...kernel] -> TensorFlow's [...kernel, C, K]. */
export function weightToKernelFirst(data: Float32Array, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  const perm = [...shape.slice(2).map((_, i) => i + 2), 1, 0];
  return permute(data, shape, perm);
}

export interface CaseData {
  x: Float32Array;
  w: Float32Array | null;
  /** Output gradient for the backward passes (output-shaped). */
  dy: Float32Array;
}

export function makeCaseData(x: readonly number[], w: readonly number[] | null, y: readonly number[], seed: number): CaseData {
  // Weights scaled by 1/sqrt(fan-in) keep outputs O(1), so relative errors are meaningful.
  const fanIn = w ? product(w.slice(1)) : 1;
  return {
    x: randomArray(product(x), seed),
    w: w ? randomArray(product(w), seed + 1, 1 / Math.sqrt(fanIn)) : null,
    dy: randomArray(product(y), seed + 2),
  };
}

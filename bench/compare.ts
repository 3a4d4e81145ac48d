// Cross-check of a peer's output against convnd's: max |a - b| relative to max |b|.

export const AGREEMENT_TOLERANCE = 1e-3;

export function relativeMaxDiff(peer: Float32Array, reference: Float32Array): number {
  if (peer.length !== reference.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(peer[i] - reference[i]);
    if (Number.isNaN(d)) return NaN;
    if (d > diff) diff = d;
    const r = Math.abs(reference[i]);
    if (r > scale) scale = r;
  }
  return diff / (scale || 1);
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Adjoint test of a backward pass: for y = conv(x, w), both <x, dx> and <w, dw> must equal <y, dy>.
 * Returns the mismatch relative to the size such a dot product of random data has.
 */
export function adjointMismatch(input: Float32Array, grad: Float32Array, y: Float32Array, dy: Float32Array): number {
  if (input.length !== grad.length || y.length !== dy.length) return Infinity;
  const expected = dot(y, dy);
  const got = dot(input, grad);
  const typical = Math.sqrt(dot(y, y) * dot(dy, dy) / Math.max(1, y.length));
  return Math.abs(got - expected) / Math.max(Math.abs(expected), typical, Number.MIN_VALUE);
}

// Number formatting shared by the text, markdown and SVG reports.

/** A duration with 3 significant digits: µs below 1 ms, ms up to 10 s. */
export function formatTime(ms: number): string {
  if (ms < 1) return `${sig(ms * 1000)} µs`;
  if (ms < 10000) return `${sig(ms)} ms`;
  return `${sig(ms / 1000)} s`;
}

/** 3 significant digits, no exponent for the ranges the benchmark produces. */
export function sig(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

export const formatRatio = (r: number): string => `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;

export const formatPct = (p: number): string => `${p >= 10 ? p.toFixed(0) : p.toFixed(1)}%`;

export const formatSci = (v: number): string => (Number.isFinite(v) ? v.toExponential(0) : String(v));

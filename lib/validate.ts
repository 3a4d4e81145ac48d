// Argument checks shared by every public function. Each failure names the function, the
// argument and what was expected, and is a TypeError (wrong kind of value) or a RangeError
// (right kind, wrong size or value).

export function typeError(fn: string, arg: string, expected: string, got?: unknown): TypeError {
  return new TypeError(`${fn}: ${arg} must be ${expected}${got === undefined ? '' : `, got ${describe(got)}`}`);
}

export function rangeError(fn: string, message: string): RangeError {
  return new RangeError(`${fn}: ${message}`);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `${v.constructor?.name ?? 'typed array'} of length ${(v as Float32Array).length}`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  return typeof v;
}

// The intrinsic %TypedArray%.prototype getters read a typed array's internal slots, so an
// object faking Symbol.toStringTag or an own `length` / `buffer` property cannot fool them.
const typedArrayProto = Object.getPrototypeOf(Int8Array.prototype) as object;
function intrinsicGetter(name: PropertyKey): (this: unknown) => unknown {
  return Object.getOwnPropertyDescriptor(typedArrayProto, name)!.get as (this: unknown) => unknown;
}
const tagOf = intrinsicGetter(Symbol.toStringTag);
const lengthGetter = intrinsicGetter('length');
const bufferGetter = intrinsicGetter('buffer');
const byteOffsetGetter = intrinsicGetter('byteOffset');
const byteLengthGetter = intrinsicGetter('byteLength');

/** A genuine Float32Array (from any realm); a look-alike object is not one. */
export function isFloat32Array(v: unknown): v is Float32Array {
  return ArrayBuffer.isView(v) && tagOf.call(v) === 'Float32Array';
}

/** The element count of a Float32Array from its internal slot (0 when detached). */
export function lengthOf(a: Float32Array): number {
  return lengthGetter.call(a) as number;
}

/** The ArrayBuffer (or SharedArrayBuffer) behind a Float32Array, from its internal slot. */
export function bufferOf(a: Float32Array): unknown {
  return bufferGetter.call(a);
}

/** The byte range [start, end) a Float32Array covers in its buffer, from its internal slots. */
export function byteRangeOf(a: Float32Array): { start: number; end: number } {
  const start = byteOffsetGetter.call(a) as number;
  return { start, end: start + (byteLengthGetter.call(a) as number) };
}

/** A Float32Array (from any realm). A detached one has length 0 and fails its length check. */
export function checkFloat32Array(fn: string, arg: string, v: unknown): Float32Array {
  if (!isFloat32Array(v)) throw typeError(fn, arg, 'a Float32Array', v);
  return v;
}

/** An integer between min and max (inclusive). */
export function checkInteger(fn: string, arg: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number') throw typeError(fn, arg, 'a number', v);
  if (!Number.isInteger(v)) throw rangeError(fn, `${arg} must be an integer, got ${v}`);
  if (v < min || v > max) throw rangeError(fn, `${arg} must be ${max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`}, got ${v}`);
  return v;
}

export function checkBoolean(fn: string, arg: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw typeError(fn, arg, 'a boolean', v);
  return v;
}

export function checkOptionsObject(fn: string, arg: string, v: unknown): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw typeError(fn, arg, 'an options object', v);
  return snapshot(fn, arg, v) as Record<string, unknown>;
}

/**
 * A plain copy of caller-supplied plain objects and arrays, `depth` levels deep (typed arrays,
 * AbortSignals and other class instances are kept as they are), so that getters, proxies and
 * later mutation can neither break nor change the checks. A read that throws is a TypeError.
 */
export function snapshot(fn: string, arg: string, v: unknown, depth = 3): unknown {
  try {
    return copyPlain(v, depth);
  } catch (e) {
    throw new TypeError(`${fn}: ${arg} could not be read (${e instanceof Error ? e.message : String(e)})`);
  }
}

function copyPlain(v: unknown, depth: number): unknown {
  if (v === null || typeof v !== 'object' || depth === 0 || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) {
    // A plain loop: Array.from with a callback costs about a microsecond a call.
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < out.length; i++) out[i] = copyPlain(v[i], depth - 1);
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) out[key] = copyPlain((v as Record<string, unknown>)[key], depth - 1);
  return out;
}

/** Largest stride, dilation, padding or pooling kernel extent (the addon's limit). */
export const MAX_EXTENT = 2 ** 40;
/** The addon indexes along the innermost spatial axis with 32-bit offsets. */
export const MAX_INNERMOST = 2 ** 28;

/** The addon's limits on the innermost spatial axis, checked here so the error names `fn`. */
export function checkInnermost(fn: string, axis: number, input: number, kernel: number, dilation: number, output: number): void {
  if (input > MAX_INNERMOST || output > MAX_INNERMOST || kernel * dilation > MAX_INNERMOST)
    throw rangeError(fn, `the innermost spatial axis (${axis}) is limited to 2^28 elements: input ${input}, output ${output}, kernel ${kernel} x dilation ${dilation}`);
}

/** Largest tensor the library handles (typed arrays are capped well below this in V8). */
export const MAX_ELEMENTS = 2 ** 40;

/** Element count of a shape, rejecting more than 2^40 (or past 2^53, where numbers stop being exact). */
export function checkElements(fn: string, what: string, sizes: readonly number[]): number {
  const n = checkedProduct(fn, what, sizes);
  if (n > MAX_ELEMENTS) throw rangeError(fn, `${what} has more than 2^40 elements (shape [${sizes.join(', ')}])`);
  return n;
}

/** Product of sizes, rejecting anything past 2^53 (where JavaScript numbers stop being exact). */
export function checkedProduct(fn: string, what: string, sizes: readonly number[]): number {
  let p = 1;
  for (const s of sizes) {
    p *= s;
    if (p > Number.MAX_SAFE_INTEGER) throw rangeError(fn, `${what} has more than 2^53 elements (shape [${sizes.join(', ')}])`);
  }
  return p;
}

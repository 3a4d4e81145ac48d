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

export function isFloat32Array(v: unknown): v is Float32Array {
  return Object.prototype.toString.call(v) === '[object Float32Array]';
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
  return v as Record<string, unknown>;
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

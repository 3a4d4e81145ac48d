import { bufferOf, byteRangeOf, checkElements, checkFloat32Array, isFloat32Array, lengthOf, rangeError, snapshot, typeError } from './validate.js';

/** A dense row-major (C order) float32 tensor. */
export interface Tensor {
  data: Float32Array;
  shape: number[];
}

/** Anything with a Float32Array `data` and a `shape` whose product is `data.length`. */
export interface TensorLike {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

function shapeName(arg: string): string {
  return arg.endsWith('Shape') ? arg : `${arg}.shape`;
}

/** t[key], where reading it (a getter, a proxy) may throw: a TypeError naming the argument. */
function readField(fn: string, arg: string, t: object, key: string): unknown {
  try {
    return (t as Record<string, unknown>)[key];
  } catch (e) {
    throw new TypeError(`${fn}: ${arg}.${key} could not be read (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** A checked copy of a shape: the caller's array may change afterwards without effect. */
export function checkShape(fn: string, arg: string, shapeArg: unknown): number[] {
  const shape = snapshot(fn, shapeName(arg), shapeArg, 1);  // a fresh array, ours to return
  if (!Array.isArray(shape)) throw typeError(fn, shapeName(arg), 'an array of positive integers', shape);
  for (let i = 0; i < shape.length; i++) {
    const s: unknown = shape[i];
    if (typeof s !== 'number') throw typeError(fn, `${shapeName(arg)}[${i}]`, 'a number', s);
    if (!Number.isInteger(s) || s < 1) throw rangeError(fn, `${shapeName(arg)}[${i}] must be a positive integer, got ${s}`);
  }
  checkElements(fn, arg, shape as number[]);
  return shape as number[];
}

/** Creates a tensor, copying `data` into a new Float32Array unless it already is one. */
export function tensor(data: Float32Array | ArrayLike<number>, shape: readonly number[]): Tensor {
  try {
    return makeTensor(data, shape);
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) throw e;
    // A getter or proxy behind `data` threw while it was read.
    throw new TypeError(`tensor: data could not be read (${e instanceof Error ? e.message : String(e)})`);
  }
}

function makeTensor(data: Float32Array | ArrayLike<number>, shape: readonly number[]): Tensor {
  const dims = checkShape('tensor', 'tensor', shape);
  if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<number>).length !== 'number')
    throw typeError('tensor', 'data', 'a Float32Array or an array of numbers', data);
  const n = dims.reduce((a, b) => a * b, 1);
  // Compare lengths before copying: a huge array-like must not be converted first.
  const length = isFloat32Array(data) ? lengthOf(data) : (data as ArrayLike<number>).length;
  if (length !== n) throw rangeError('tensor', `data holds ${length} elements but shape [${dims.join(', ')}] needs ${n}`);
  if (isFloat32Array(data)) return { data, shape: dims };
  const source = data as ArrayLike<unknown>;
  const arr = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = source[i];
    if (typeof v !== 'number') throw typeError('tensor', `data[${i}]`, 'a number', v);
    arr[i] = v;
  }
  return { data: arr, shape: dims };
}

/** Validates a tensor argument and returns its data and a copy of its shape. */
export function checkTensor(fn: string, arg: string, t: unknown): Tensor {
  if (t === null || typeof t !== 'object') throw typeError(fn, arg, 'a tensor { data: Float32Array, shape: number[] }', t);
  // Each field is read once; checkShape copies the shape.
  const array = checkFloat32Array(fn, `${arg}.data`, readField(fn, arg, t, 'data'));
  const dims = checkShape(fn, arg, readField(fn, arg, t, 'shape'));
  const n = dims.reduce((a, b) => a * b, 1);
  const length = lengthOf(array);
  if (length !== n)
    throw rangeError(fn, `${arg}.data holds ${length} elements but ${arg}.shape [${dims.join(', ')}] needs ${n}`);
  return { data: array, shape: dims };
}

/** The caller's `out` array, checked, or null when none was given. */
export function callerOutput(fn: string, out: unknown, length: number, name = 'out'): Float32Array | null {
  if (out === undefined || out === null) return null;
  const arr = checkFloat32Array(fn, name, out);
  if (lengthOf(arr) !== length) throw rangeError(fn, `${name} must hold exactly ${length} elements, got ${lengthOf(arr)}`);
  return arr;
}

export function allocateOutput(fn: string, length: number): Float32Array {
  try {
    return new Float32Array(length);
  } catch {
    throw rangeError(fn, `cannot allocate an output of ${length} elements`);
  }
}

/** The output buffer: the caller's `out` (checked) or a new array. */
export function outputArray(fn: string, out: unknown, length: number): Float32Array {
  return callerOutput(fn, out, length) ?? allocateOutput(fn, length);
}

/** True when two arrays share any bytes. */
export function overlaps(a: Float32Array, b: Float32Array): boolean {
  if (bufferOf(a) !== bufferOf(b)) return false;
  const p = byteRangeOf(a), q = byteRangeOf(b);
  return p.start < q.end && q.start < p.end;
}

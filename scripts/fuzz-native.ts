// Fuzzes the raw native entry points, below the TypeScript checks: malformed descriptors,
// wrong or lying buffers, odd values. Every call must return or throw a TypeError/RangeError;
// a crash takes this process down, which the caller (test/fuzz.test.ts, or a person running
// `npx tsx scripts/fuzz-native.ts 10000`) sees as a non-zero exit.
import { native } from '../lib/native.js';

const calls = Number(process.argv[2] ?? 10_000);
const seed = Number(process.argv[3] ?? 1);
const addon = native();

let state = seed >>> 0;
function rand(): number {
  state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
  state ^= state >>> 13;
  return (state >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const small = () => Math.floor(rand() * 6);

// Mostly plausible small integers, sometimes anything at all.
function field(): unknown {
  const r = rand();
  if (r < 0.7) return small();
  return pick([-1, 0, 1, 2 ** 31, 2 ** 40, 2 ** 53, 2 ** 60, -(2 ** 31), 0.5, NaN, Infinity, -Infinity, '3', null, undefined, {}, 1e308]);
}

// Mostly a Float64Array (the addon's descriptor type) of plausible or odd values, sometimes the
// wrong length or not a Float64Array at all.
function descriptor(length: number): unknown {
  if (rand() < 0.05) return pick([null, 'desc', 42, {}, [1, 2, 3], new Float32Array(length), new Array(length).fill(1)]);
  const n = rand() < 0.9 ? length : length + pick([-1, 1, -length]);
  return Float64Array.from({ length: Math.max(0, n) }, () => Number(field()));
}

function convDescriptor(): Float64Array {
  // A valid small problem whose buffers can be made to match, with odd but legal geometry.
  const d = [1 + small() % 2, 1 + small(), 1 + small(), 1];
  const g = pick([1, d[1]]);
  d[3] = d[1] % g === 0 && d[2] % g === 0 ? g : 1;
  const axes = [1, 1, 1].map(() => ({ in: 1 + small(), k: 1 + small() % 3, out: 1 + small(), s: 1 + small() % 3, dl: 1 + small() % 2, p: small() }));
  return Float64Array.of(...d, ...axes.map((a) => a.in), ...axes.map((a) => a.k), ...axes.map((a) => a.out), ...axes.map((a) => a.s), ...axes.map((a) => a.dl), ...axes.map((a) => a.p));
}

function array(length: number): unknown {
  const r = rand();
  if (r < 0.75) return new Float32Array(length);
  if (r < 0.8) return new Float32Array(Math.max(0, length + pick([-1, 1, 7])));
  if (r < 0.85) return new Float64Array(length);
  if (r < 0.9) return Array.from({ length }, () => 0);
  if (r < 0.93) {
    const b = new Float32Array(length);
    structuredClone(b.buffer, { transfer: [b.buffer] });  // detached
    return b;
  }
  if (r < 0.96) return new Float32Array(new SharedArrayBuffer(4 * length));
  return pick([null, undefined, 0, 'x', {}]);
}

type Entry = (...args: unknown[]) => unknown;
let thrown = 0, returned = 0;
for (let i = 0; i < calls; i++) {
  const op = pick(['convForward', 'convBackwardData', 'convBackwardWeight', 'convBackwardBias', 'poolForward', 'poolBackward'] as const);
  const valid = rand() < 0.5;
  const desc = op.startsWith('conv') ? (valid ? convDescriptor() : descriptor(22)) : descriptor(24);
  const d = desc instanceof Float64Array ? Array.from(desc) : [];
  const vol = (o: number) => (d[o] ?? 1) * (d[o + 1] ?? 1) * (d[o + 2] ?? 1);
  const xLen = (d[0] ?? 1) * (d[1] ?? 1) * vol(4), yLen = (d[0] ?? 1) * (d[2] ?? 1) * vol(10);
  const wLen = (d[2] ?? 1) * Math.floor((d[1] ?? 1) / (d[3] || 1)) * vol(7);
  const fit = (n: number) => (Number.isSafeInteger(n) && n >= 0 && n < 1e6 ? n : 3);
  const args: Record<typeof op, unknown[]> = {
    convForward: [array(fit(xLen)), array(fit(wLen)), rand() < 0.5 ? null : array(fit(d[2] ?? 1)), array(fit(yLen)), desc],
    convBackwardData: [array(fit(yLen)), array(fit(wLen)), null, array(fit(xLen)), desc],
    convBackwardWeight: [array(fit(yLen)), array(fit(xLen)), array(fit(wLen)), desc],
    convBackwardBias: [array(fit(yLen)), array(fit(d[2] ?? 1)), desc],
    poolForward: [array(small()), array(small()), desc],
    poolBackward: [array(small()), array(small()), array(small()), desc],
  };
  const fn = (addon as unknown as Record<string, Entry>)[op];
  try {
    fn(...args[op]);
    returned++;
  } catch (e) {
    if (!(e instanceof TypeError || e instanceof RangeError)) {
      console.error(`call ${i}: ${op} threw ${String(e)}`);
      process.exit(2);
    }
    thrown++;
  }
}
console.log(`fuzz: ${calls} calls, ${returned} returned, ${thrown} threw TypeError/RangeError, 0 crashes`);

// NaN and infinities propagate as IEEE arithmetic does, and only to the outputs whose window
// holds them; pooling follows API.md (a NaN wins, padding never wins).
import { describe, expect, it } from 'vitest';
import { avgPool, conv, convBackward, maxPool, maxPoolBackward, minPool } from '../../lib/index.js';
import { requestedIsa } from '../helpers/oracle.js';
import { randomTensor, rng } from '../helpers/random.js';

const { isa, available } = requestedIsa();

describe.skipIf(!available)(`special values on ${isa}`, () => {
  const H = 20, W = 37;
  const at = (c: number, h: number, w: number) => (c * H + h) * W + w;

  it('a NaN in x reaches exactly the outputs whose window covers it', () => {
    const r = rng(5);
    const x = randomTensor(r, [1, 4, H, W]);
    const w = randomTensor(r, [9, 4, 3, 3]);
    x.data[at(2, 7, 30)] = NaN;
    const y = conv(x, w, { padding: 1 });
    for (let k = 0; k < 9; k++)
      for (let h = 0; h < H; h++)
        for (let c = 0; c < W; c++) {
          const covered = Math.abs(h - 7) <= 1 && Math.abs(c - 30) <= 1;
          expect(Number.isNaN(y.data[(k * H + h) * W + c]), `y[${k},${h},${c}]`).toBe(covered);
        }
  });

  it('infinities give infinities of the right sign, and inf - inf gives NaN', () => {
    const x = { data: new Float32Array(1 * 1 * 1 * 8).fill(1), shape: [1, 1, 1, 8] };
    x.data[3] = Infinity;
    x.data[6] = -Infinity;
    const w = { data: Float32Array.of(1, 1), shape: [1, 1, 1, 2] };
    const y = conv(x, w);
    expect(Array.from(y.data)).toEqual([2, 2, Infinity, Infinity, 2, -Infinity, -Infinity]);
    const both = { data: Float32Array.of(Infinity, -Infinity, 1), shape: [1, 1, 1, 3] };
    expect(Number.isNaN(conv(both, w).data[0])).toBe(true);
  });

  it('an infinity in an input cell no window reads leaves every gradient finite', () => {
    // Stride 2 over 601 cells uses cells 0-599 only; cell 600 sits where a long row's last tile
    // would read it for a position past the end.
    const x = { data: new Float32Array(601).fill(1), shape: [1, 1, 601] };
    x.data[600] = Infinity;
    for (const channels of [1, 20]) {
      const xs = { data: new Float32Array(601 * channels), shape: [1, channels, 601] };
      for (let c = 0; c < channels; c++) xs.data.set(x.data, c * 601);
      const w = { data: new Float32Array(channels * channels * 2).fill(0.5), shape: [channels, channels, 2] };
      const dy = { data: new Float32Array(channels * 300).fill(1), shape: [1, channels, 300] };
      const g = convBackward(dy, xs, w, { stride: 2 });
      expect(g.dw!.data.every(Number.isFinite), `dw with ${channels} channels`).toBe(true);
      expect(Array.from(g.dw!.data.slice(0, 2))).toEqual([300, 300]);
    }
  });

  it('an infinity in a cell no window reads leaves the whole-plane weight gradient finite', () => {
    // Kernel 2, stride 2 along H and W over 5 x 9 cells read rows 0-3 and columns 0-7: a cell
    // in column 8 of a read row and one in the unread row 4 hold infinities. Two groups of one
    // channel each take the dot path over whole planes.
    const x = { data: new Float32Array(2 * 5 * 9).fill(1), shape: [1, 2, 5, 9] };
    x.data[2 * 9 + 8] = Infinity;
    x.data[45 + 4 * 9] = -Infinity;
    const w = { data: new Float32Array(2 * 1 * 2 * 2).fill(0.5), shape: [2, 1, 2, 2] };
    const dy = { data: new Float32Array(2 * 2 * 4).fill(1), shape: [1, 2, 2, 4] };
    const g = convBackward(dy, x, w, { stride: 2, groups: 2 });
    expect(Array.from(g.dw!.data)).toEqual(new Array(8).fill(8));
  });

  it('gradients carry NaN from dy only where the chain rule puts it', () => {
    const r = rng(6);
    const x = randomTensor(r, [1, 2, 6, 6]);
    const w = randomTensor(r, [3, 2, 3, 3]);
    const dy = randomTensor(r, [1, 3, 6, 6]);
    dy.data[0] = NaN;  // dy[0, 0, 0, 0]
    const g = convBackward(dy, x, w, { padding: 1 });
    // dx[c, h, w] uses dy[:, h-1..h+1, w-1..w+1]: NaN only near the corner.
    expect(Number.isNaN(g.dx!.data[0]) && Number.isNaN(g.dx!.data[7])).toBe(true);
    expect(Number.isNaN(g.dx!.data[3 * 6 + 3])).toBe(false);
    expect(Number.isNaN(g.db!.data[0]) && !Number.isNaN(g.db!.data[1])).toBe(true);
  });

  it('pooling: a NaN wins max and min, -inf and +inf are ordinary extremes, padding never wins', () => {
    const x = { data: Float32Array.of(1, NaN, 3, -Infinity, -Infinity, -Infinity, 5, Infinity), shape: [1, 1, 8] };
    expect(Array.from(maxPool(x, { kernel: 2 }).data)).toEqual([NaN, 3, -Infinity, Infinity]);
    expect(Array.from(minPool(x, { kernel: 2 }).data)).toEqual([NaN, -Infinity, -Infinity, 5]);
    // All -inf with padding: the padded cell does not win, an input cell does.
    const low = { data: Float32Array.of(-Infinity, -Infinity), shape: [1, 1, 2] };
    expect(Array.from(maxPool(low, { kernel: 2, padding: 1 }).data)).toEqual([-Infinity, -Infinity]);
    const dx = maxPoolBackward({ data: Float32Array.of(1, 2), shape: [1, 1, 2] }, low, { kernel: 2, padding: 1 });
    expect(Array.from(dx.data)).toEqual([1, 2]);
    expect(Number.isNaN(avgPool(x, { kernel: 2 }).data[0])).toBe(true);
  });

  it('max pool backward routes to the first NaN', () => {
    const x = { data: Float32Array.of(0, NaN, NaN, 4), shape: [1, 1, 4] };
    const dx = maxPoolBackward({ data: Float32Array.of(1), shape: [1, 1, 1] }, x, { kernel: 4 });
    expect(Array.from(dx.data)).toEqual([0, 1, 0, 0]);
  });
});

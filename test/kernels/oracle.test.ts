// Every case of the PyTorch oracle, on the kernel set named by CONVND_ISA.
import { describe, expect, it } from 'vitest';
import {
  avgPool, avgPoolBackward, conv, convBackward, convTranspose, maxPool, maxPoolBackward, minPool, minPoolBackward,
} from '../../lib/index.js';
import { describeCase, expectConvClose, expectPoolClose, has, oracleCases, requestedIsa, stored } from '../helpers/oracle.js';

const { isa, available } = requestedIsa();
const pools = { maxPool: [maxPool, maxPoolBackward], minPool: [minPool, minPoolBackward], avgPool: [avgPool, avgPoolBackward] } as const;

describe.skipIf(!available)(`PyTorch oracle on ${isa}`, () => {
  it('covers every op of the fixture file', () => {
    const ops = new Set(oracleCases.map((c) => c.op));
    expect([...ops].sort()).toEqual(['avgPool', 'conv', 'convTranspose', 'maxPool', 'minPool']);
  });

  oracleCases.forEach((c, i) => {
    it(describeCase(c, i), () => {
      if (c.op === 'conv') {
        const x = stored(c, 'x'), w = stored(c, 'w');
        const bias = has(c, 'b') ? stored(c, 'b') : null;
        expectConvClose(conv(x, w, { ...c.opts, bias }), c, 'y');
        const grads = convBackward(stored(c, 'dy'), x, w, c.opts);
        expectConvClose(grads.dx!, c, 'dx');
        expectConvClose(grads.dw!, c, 'dw');
        if (has(c, 'db')) expectConvClose(grads.db!, c, 'db');
      } else if (c.op === 'convTranspose') {
        const bias = has(c, 'b') ? stored(c, 'b') : null;
        expectConvClose(convTranspose(stored(c, 'x'), stored(c, 'w'), { ...c.opts, bias }), c, 'y');
      } else {
        const [forward, backward] = pools[c.op];
        const x = stored(c, 'x');
        const opts = c.opts as unknown as Parameters<typeof forward>[1];
        expectPoolClose(forward(x, opts), c, 'y', 1e-6);
        expectPoolClose(backward(stored(c, 'dy'), x, opts), c, 'dx', 1e-5);
      }
    });
  });
});

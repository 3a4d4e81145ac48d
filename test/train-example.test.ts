// A shortened run of examples/train-tiny-cnn.ts: the layers, chained with a hand-written ReLU
// and loss, must actually learn (a broken gradient anywhere leaves the loss near log(4) = 1.39).
import { describe, expect, it } from 'vitest';
import { train } from '../examples/train-tiny-cnn.js';

describe('examples/train-tiny-cnn', () => {
  it('lowers the training loss clearly within a few seconds', () => {
    const results = train({ epochs: 4, trainSize: 1000, testSize: 300, seed: 7 });
    expect(results).toHaveLength(4);
    const first = results[0], last = results[results.length - 1];
    expect(first.loss).toBeGreaterThan(0);
    expect(last.loss).toBeLessThan(0.6 * first.loss);
    // Four classes: chance is 25%.
    expect(last.accuracy).toBeGreaterThan(0.6);
    for (const r of results) expect(Number.isFinite(r.loss)).toBe(true);
  });

  it('is reproducible for a given seed', () => {
    const a = train({ epochs: 1, trainSize: 200, testSize: 50, seed: 3 });
    const b = train({ epochs: 1, trainSize: 200, testSize: 50, seed: 3 });
    expect(a[0].loss).toBe(b[0].loss);
    expect(a[0].accuracy).toBe(b[0].accuracy);
  });
});

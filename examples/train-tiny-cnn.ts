// Trains a tiny CNN, built from convnd's layers, to tell the orientation of a noisy bar in a
// 16x16 grayscale image (horizontal, vertical, "\" or "/"), with plain SGD + momentum.
//
//   npx tsx examples/train-tiny-cnn.ts
//
// Everything not in convnd (data, ReLU, softmax cross-entropy, the optimiser) is written out
// below in a few lines each. Outside this repository, import from 'convnd' instead.
import * as path from 'node:path';
import { Conv2d, MaxPool2d, type Layer, type Parameter, type Tensor, type TensorLike } from '../lib/index.js';

const SIZE = 16;
const CLASSES = ['horizontal', 'vertical', 'diagonal \\', 'diagonal /'];
/** Pixel step along the bar for each class. */
const DIRECTIONS: [number, number][] = [[0, 1], [1, 0], [1, 1], [1, -1]];

/** mulberry32: a small seeded generator of numbers in [0, 1), so that runs are reproducible. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box-Muller). */
function gaussian(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

interface Dataset {
  images: Float32Array; // [n, 1, 16, 16]
  labels: Int32Array;
  n: number;
}

/**
 * n images, each a bar of random class, length (5-11 px), thickness (1-2 px), brightness and
 * position, on Gaussian noise, plus a bright distractor pixel so that "brightest pixel" is not a cue.
 */
export function makeBars(n: number, rng: () => number): Dataset {
  const images = new Float32Array(n * SIZE * SIZE);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const img = images.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE);
    for (let p = 0; p < img.length; p++) img[p] = 0.5 * gaussian(rng);
    const label = Math.floor(rng() * CLASSES.length);
    labels[i] = label;
    const [dr, dc] = DIRECTIONS[label];
    const half = Math.floor((5 + rng() * 6) / 2);
    const thick = rng() < 0.5 ? 1 : 2;
    const brightness = 0.8 + 0.6 * rng();
    // Keep the whole bar inside the image.
    const r0 = half + Math.floor(rng() * (SIZE - 2 * half - 1));
    const c0 = half + Math.floor(rng() * (SIZE - 2 * half - 1));
    for (let t = -half; t <= half; t++)
      for (let w = 0; w < thick; w++) {
        // Thicken across the bar: down for horizontal bars, right for the others.
        const r = r0 + t * dr + (label === 0 ? w : 0), c = c0 + t * dc + (label === 0 ? 0 : w);
        if (r >= 0 && r < SIZE && c >= 0 && c < SIZE) img[r * SIZE + c] = brightness + 0.1 * gaussian(rng);
      }
    img[Math.floor(rng() * SIZE) * SIZE + Math.floor(rng() * SIZE)] = 1.5;
  }
  return { images, labels, n };
}

/** max(x, 0); backward passes the gradient where the input was positive. */
class ReLU implements Layer {
  private positive: Uint8Array | null = null;
  forward(x: TensorLike): Tensor {
    const y = new Float32Array(x.data.length);
    this.positive = new Uint8Array(x.data.length);
    for (let i = 0; i < y.length; i++) if (x.data[i] > 0) { y[i] = x.data[i]; this.positive[i] = 1; }
    return { data: y, shape: [...x.shape] };
  }
  backward(dy: TensorLike): Tensor {
    if (!this.positive) throw new Error('ReLU.backward: call forward first');
    const dx = new Float32Array(dy.data.length);
    for (let i = 0; i < dx.length; i++) if (this.positive[i]) dx[i] = dy.data[i];
    return { data: dx, shape: [...dy.shape] };
  }
  parameters(): Parameter[] { return []; }
  zeroGrad(): void {}
}

/**
 * Mean softmax cross-entropy over the batch of logits [N, K] (any trailing 1x1 axes allowed),
 * its gradient with respect to the logits (softmax - onehot) / N, and the number of correct argmaxes.
 */
function softmaxCrossEntropy(logits: Tensor, labels: Int32Array): { loss: number; dlogits: Tensor; correct: number } {
  const n = logits.shape[0], k = logits.shape[1];
  const grad = new Float32Array(logits.data.length);
  let loss = 0, correct = 0;
  for (let i = 0; i < n; i++) {
    const row = logits.data.subarray(i * k, (i + 1) * k);
    const max = Math.max(...row);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(row[j] - max);
    loss += Math.log(sum) + max - row[labels[i]];
    if (row.indexOf(max) === labels[i]) correct++;
    for (let j = 0; j < k; j++) grad[i * k + j] = (Math.exp(row[j] - max) / sum - (j === labels[i] ? 1 : 0)) / n;
  }
  return { loss: loss / n, dlogits: { data: grad, shape: [...logits.shape] }, correct };
}

/**
 * conv(1->8) relu pool, conv(8->16) relu pool, then a 1x1 conv to one score map per class and a
 * global max: "is there a bar of this orientation anywhere". (A global average works too but
 * sits on the log(4) plateau for much longer, as it dilutes the one place where the bar is.)
 */
function makeModel(rng: () => number): Layer[] {
  return [
    new Conv2d(1, 8, 3, { padding: 1, rng }), new ReLU(), new MaxPool2d(2), // -> [8, 8, 8]
    new Conv2d(8, 16, 3, { padding: 1, rng }), new ReLU(), new MaxPool2d(2), // -> [16, 4, 4]
    new Conv2d(16, CLASSES.length, 1, { rng }), new MaxPool2d(4), // -> [K, 1, 1]
  ];
}

const forward = (model: Layer[], x: Tensor) => model.reduce((t, layer) => layer.forward(t), x);
const backward = (model: Layer[], dy: Tensor) => model.reduceRight((g, layer) => layer.backward(g), dy);

/** SGD with momentum: v = momentum * v + grad; value -= lr * v. */
function makeSgd(params: Parameter[], momentum: number): (lr: number) => void {
  const velocity = params.map((p) => new Float32Array(p.value.data.length));
  return (lr) => params.forEach((p, k) => {
    const v = velocity[k], w = p.value.data, g = p.grad.data;
    for (let i = 0; i < w.length; i++) { v[i] = momentum * v[i] + g[i]; w[i] -= lr * v[i]; }
  });
}

/** Copies the images at `indices` into one [B, 1, 16, 16] batch. */
function batchOf(data: Dataset, indices: ArrayLike<number>): { x: Tensor; labels: Int32Array } {
  const px = SIZE * SIZE, b = indices.length;
  const x = new Float32Array(b * px), labels = new Int32Array(b);
  for (let i = 0; i < b; i++) {
    x.set(data.images.subarray(indices[i] * px, (indices[i] + 1) * px), i * px);
    labels[i] = data.labels[indices[i]];
  }
  return { x: { data: x, shape: [b, 1, SIZE, SIZE] }, labels };
}

function accuracy(model: Layer[], data: Dataset): number {
  let correct = 0;
  for (let start = 0; start < data.n; start += 256) {
    const idx = Array.from({ length: Math.min(256, data.n - start) }, (_, i) => start + i);
    const { x, labels } = batchOf(data, idx);
    correct += softmaxCrossEntropy(forward(model, x), labels).correct;
  }
  return correct / data.n;
}

export interface TrainOptions {
  epochs?: number;
  trainSize?: number;
  testSize?: number;
  seed?: number;
  batchSize?: number;
  lr?: number;
  momentum?: number;
  log?: (line: string) => void;
}

export interface EpochResult {
  epoch: number;
  /** Mean training loss over the epoch. */
  loss: number;
  /** Accuracy on the held-out test set after the epoch. */
  accuracy: number;
  trainAccuracy: number;
  seconds: number;
}

export function train(options: TrainOptions = {}): EpochResult[] {
  const { epochs = 6, trainSize = 3000, testSize = 1000, seed = 1, batchSize = 32, lr = 0.05, momentum = 0.9, log = () => {} } = options;
  const rng = seededRandom(seed);
  const trainSet = makeBars(trainSize, rng);
  const testSet = makeBars(testSize, rng);
  const model = makeModel(rng);
  const params = model.flatMap((layer) => layer.parameters());
  const step = makeSgd(params, momentum);
  const order = Int32Array.from({ length: trainSize }, (_, i) => i);
  const results: EpochResult[] = [];
  const start = performance.now();

  for (let epoch = 1; epoch <= epochs; epoch++) {
    // Fisher-Yates shuffle with the seeded generator.
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    // Halving the step every two epochs lets the weights settle instead of hopping around a minimum.
    const epochLr = lr * 0.5 ** Math.floor((epoch - 1) / 2);
    let lossSum = 0, correct = 0;
    for (let b = 0; b < trainSize; b += batchSize) {
      const { x, labels } = batchOf(trainSet, order.subarray(b, Math.min(b + batchSize, trainSize)));
      const out = softmaxCrossEntropy(forward(model, x), labels);
      lossSum += out.loss * labels.length;
      correct += out.correct;
      // Layers accumulate gradients, so clear them before each step's backward pass.
      model.forEach((layer) => layer.zeroGrad());
      backward(model, out.dlogits);
      step(epochLr);
    }
    const result = {
      epoch, loss: lossSum / trainSize, accuracy: accuracy(model, testSet), trainAccuracy: correct / trainSize,
      seconds: (performance.now() - start) / 1000,
    };
    results.push(result);
    log(`epoch ${epoch}: loss ${result.loss.toFixed(4)}  train acc ${(100 * result.trainAccuracy).toFixed(1)}%  ` +
      `test acc ${(100 * result.accuracy).toFixed(1)}%  (${result.seconds.toFixed(1)} s)`);
  }
  return results;
}

// Run only when executed directly (npx tsx examples/train-tiny-cnn.ts), not when a test imports
// train(). This file is CommonJS to TypeScript (package.json has no "type": "module"), so
// import.meta is unavailable; __filename is defined both under tsx and under vitest.
if (path.resolve(process.argv[1] ?? '') === __filename) {
  const results = train({ log: console.log });
  const last = results[results.length - 1];
  console.log(`final test accuracy ${(100 * last.accuracy).toFixed(1)}% in ${last.seconds.toFixed(1)} s`);
}

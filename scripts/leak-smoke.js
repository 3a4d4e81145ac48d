// A small workload for leak checkers (valgrind memcheck, LeakSanitizer): every native entry
// point, sync and async, with and without `out`, plus the async paths that free a job without
// a normal result (cancellation, a detached input or `out`), and a worker thread that makes
// async calls and then exits, taking its environment's async state with it. (A worker that
// exits while its calls are still queued crashes convnd 0.1.0, so this one waits for them.)
// Plain JavaScript over dist/ (run `npm run build:ts` first), so the checker
// sees only node and the addon. Small shapes and few rounds: under valgrind node runs ~50x slower.
//
//   valgrind --leak-check=full node scripts/leak-smoke.js     (see scripts/leak-check.sh)
'use strict';
const path = require('node:path');
const { Worker, isMainThread, parentPort } = require('node:worker_threads');
const convnd = require(path.resolve(__dirname, '..', 'dist', 'cjs', 'index.js'));

const ROUNDS = Number(process.env.LEAK_SMOKE_ROUNDS || 20);

function filled(shape, seed) {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(seed * 100 + i);
  return { data, shape };
}

const x = filled([2, 4, 8, 8], 1);
const w = filled([4, 4, 3, 3], 2);
const bias = filled([4], 3).data;
const dy = filled([2, 4, 8, 8], 4);
const pdy = filled([2, 4, 4, 4], 5);
const opts = { padding: 1, bias };
const pool = { kernel: 2 };

function syncRound() {
  convnd.conv(x, w, opts);
  convnd.conv(x, w, { ...opts, out: new Float32Array(x.data.length) });
  convnd.convBackward(dy, x, w, opts);
  convnd.convBackward(dy, x, w, { ...opts, out: { dx: new Float32Array(x.data.length), dw: new Float32Array(w.data.length), db: new Float32Array(4) } });
  convnd.convTranspose(x, w, opts);
  convnd.conv3d(filled([1, 2, 4, 4, 4], 6), filled([2, 2, 3, 3, 3], 7), { padding: 'same' });
  for (const p of [convnd.maxPool, convnd.minPool, convnd.avgPool]) p(x, pool);
  for (const p of [convnd.maxPoolBackward, convnd.minPoolBackward, convnd.avgPoolBackward]) p(pdy, x, pool);
  // Errors thrown by validation must not leave anything behind either.
  try { convnd.conv(x, filled([4, 3, 3, 3], 8)); } catch { /* expected RangeError */ }
}

async function asyncRound() {
  const jobs = [
    convnd.convAsync(x, w, opts),
    convnd.convAsync(x, w, { ...opts, out: new Float32Array(x.data.length) }),
    convnd.convBackwardAsync(dy, x, w, opts),
    convnd.convBackwardAsync(dy, x, w, { ...opts, out: { dx: new Float32Array(x.data.length) } }),
    convnd.convTransposeAsync(x, w, opts),
    convnd.maxPoolAsync(x, pool), convnd.minPoolAsync(x, { ...pool, out: new Float32Array(pdy.data.length) }), convnd.avgPoolAsync(x, pool),
    convnd.maxPoolBackwardAsync(pdy, x, pool), convnd.avgPoolBackwardAsync(pdy, x, { ...pool, out: new Float32Array(x.data.length) }),
  ];
  // Cancelled in the queue (or finished first: either way it must be freed).
  const ctl = new AbortController();
  jobs.push(convnd.convAsync(x, w, { ...opts, signal: ctl.signal }).catch((e) => { if (e.name !== 'AbortError') throw e; }));
  ctl.abort();
  // An input and an `out` detached before settling: rejected, result freed.
  const xs = { data: Float32Array.from(x.data), shape: x.shape };
  jobs.push(convnd.convAsync(xs, w, opts).then(() => { throw new Error('detached input resolved'); }, () => {}));
  structuredClone(xs.data.buffer, { transfer: [xs.data.buffer] });
  const out = new Float32Array(x.data.length);
  jobs.push(convnd.convAsync(x, w, { ...opts, out }).then(() => { throw new Error('detached out resolved'); }, () => {}));
  structuredClone(out.buffer, { transfer: [out.buffer] });
  await Promise.all(jobs);
}

/** In a worker: a few rounds, then a natural exit, which tears down its environment's async state. */
async function workerBody() {
  for (let r = 0; r < 3; r++) await asyncRound();
  parentPort.postMessage('done');
}

async function main() {
  for (let r = 0; r < ROUNDS; r++) {
    syncRound();
    await asyncRound();
  }
  await new Promise((resolve, reject) => {
    const worker = new Worker(__filename);
    worker.once('error', reject);
    worker.once('exit', resolve);
  });
  // The main thread still works after the worker's environment is gone.
  await asyncRound();
  console.log(`leak-smoke: ${ROUNDS} rounds of every op, sync and async, and a worker's: done`);
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  workerBody().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

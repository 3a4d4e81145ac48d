// Runs in a worker_thread: loads the built package, runs sync and async convolutions and
// reports whether they matched a direct computation.
const { parentPort, workerData } = require('node:worker_threads');
const { conv, convAsync } = require(workerData.entry);

async function main() {
  const x = { data: new Float32Array(2 * 3 * 9 * 9).map((_, i) => ((i * 7) % 11) - 5), shape: [2, 3, 9, 9] };
  const w = { data: new Float32Array(4 * 3 * 3 * 3).map((_, i) => ((i * 5) % 7) - 3), shape: [4, 3, 3, 3] };
  const want = conv(x, w, { padding: 1 });
  let ok = true;
  for (let round = 0; round < workerData.rounds; round++) {
    const results = await Promise.all(Array.from({ length: 8 }, () => convAsync(x, w, { padding: 1 })));
    for (const r of results) ok &&= r.data.every((v, i) => v === want.data[i]);
    ok &&= conv(x, w, { padding: 1 }).data.every((v, i) => v === want.data[i]);
  }
  parentPort.postMessage({ ok });
}
main().catch((e) => parentPort.postMessage({ ok: false, error: String(e) }));

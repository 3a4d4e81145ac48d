// Runs in a child process of its own (node --expose-gc leak-rounds.cjs <entry>), so that its
// resident size holds only this script's calls: no test runner heap, no other test's workers.
// Prints how far RSS moved over many rounds of mixed sync and async calls after a warm-up.
const { conv, convAsync, maxPoolAsync } = require(process.argv[2]);

function tensor(shape) {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => ((i * 7) % 13) / 13 - 0.5);
  return { data, shape };
}
const x = tensor([2, 8, 16, 16]);
const w = tensor([8, 8, 3, 3]);
const opts = { padding: 1 };

async function round() {
  for (let i = 0; i < 200; i++) {
    conv(x, w, opts);
    await convAsync(x, w, opts);
    await Promise.all([maxPoolAsync(x, { kernel: 2 }), convAsync(x, w, opts)]);
  }
}

async function settledRss() {
  global.gc();
  await new Promise((resolve) => setImmediate(resolve));
  global.gc();
  return process.memoryUsage().rss;
}

async function main() {
  // Warm-up: the pool's threads, their scratch buffers and V8's heap reach their working size.
  for (let i = 0; i < 3; i++) await round();
  const before = await settledRss();
  for (let i = 0; i < 10; i++) await round();
  process.stdout.write(JSON.stringify({ grown: (await settledRss()) - before }));
}
main().catch((e) => { console.error(e); process.exit(1); });

// A worker that queues async convolutions and leaves before they finish: by process.exit()
// or (when `hold` is set) by waiting to be terminated from outside.
const { parentPort, workerData } = require('node:worker_threads');
const { convAsync } = require(workerData.entry);

const x = { data: new Float32Array(16 * 96 * 96).fill(1), shape: [1, 16, 96, 96] };
const w = { data: new Float32Array(16 * 16 * 9).fill(0.5), shape: [16, 16, 3, 3] };
for (let i = 0; i < 20; i++) convAsync(x, w, { padding: 1 }).catch(() => {});
parentPort.postMessage('queued');
if (workerData.hold) setInterval(() => {}, 1000);
else process.exit(0);

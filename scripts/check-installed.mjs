// Checks an installed convnd as a user's project sees it: copy this file into the project and run
//   node check-installed.mjs <torch-oracle.json> <cases> <expect prebuilt: true|false> [expect isa]
// It loads the package both via `import` and via `require`, checks where the binary came from and
// runs <cases> oracle cases (spread over conv, convTranspose and the poolings) through each,
// with the tolerances of test/fixtures/README.md.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as esm from 'convnd';

const [oraclePath, count, wantPrebuilt, wantIsa] = process.argv.slice(2);
const cjs = createRequire(import.meta.url)('convnd');

// Round-robin over the ops, so that a small subset still covers every one.
const byOp = new Map();
for (const c of JSON.parse(readFileSync(oraclePath, 'utf8')).cases) byOp.set(c.op, [...(byOp.get(c.op) ?? []), c]);
const cases = [];
for (let i = 0; cases.length < Number(count) && i < 1000; i++)
  for (const list of byOp.values()) if (i < list.length && cases.length < Number(count)) cases.push(list[i]);

const t = (s) => ({ data: Float32Array.from(s.data), shape: s.shape });
function close(lib, label, got, c, name, tol) {
  const want = c[name];
  if (JSON.stringify(got.shape) !== JSON.stringify(want.shape))
    throw new Error(`${lib}: ${label} ${name}: shape ${got.shape}, want ${want.shape}`);
  const scale = c[`${name}_scale`]?.data;
  want.data.forEach((w, i) => {
    const bound = scale ? 1e-5 * scale[i] + 1e-6 : tol * (Math.abs(w) + 1);
    if (!(Math.abs(got.data[i] - w) <= bound))
      throw new Error(`${lib}: ${label} ${name}[${i}] = ${got.data[i]}, want ${w} (tolerance ${bound})`);
  });
}

function check(lib, api) {
  const info = api.backendInfo();
  if (String(info.prebuilt) !== wantPrebuilt) throw new Error(`${lib}: prebuilt is ${info.prebuilt}, want ${wantPrebuilt}`);
  if (wantIsa && info.isa !== wantIsa) throw new Error(`${lib}: isa is ${info.isa}, want ${wantIsa}`);
  for (const [i, c] of cases.entries()) {
    const label = `case ${i} (${c.op} x[${c.x.shape}])`;
    const bias = c.b ? t(c.b) : null;
    if (c.op === 'conv') {
      close(lib, label, api.conv(t(c.x), t(c.w), { ...c.opts, bias }), c, 'y');
      const g = api.convBackward(t(c.dy), t(c.x), t(c.w), c.opts);
      for (const name of ['dx', 'dw', 'db']) if (c[name]) close(lib, label, g[name], c, name);
    } else if (c.op === 'convTranspose') {
      close(lib, label, api.convTranspose(t(c.x), t(c.w), { ...c.opts, bias }), c, 'y');
    } else {
      close(lib, label, api[c.op](t(c.x), c.opts), c, 'y', 1e-6);
      close(lib, label, api[`${c.op}Backward`](t(c.dy), t(c.x), c.opts), c, 'dx', 1e-5);
    }
  }
  console.log(`${lib}: ${cases.length} oracle cases (${[...new Set(cases.map((c) => c.op))].join(', ')}) pass;`, JSON.stringify(info));
}

check('import', esm);
check('require', cjs);

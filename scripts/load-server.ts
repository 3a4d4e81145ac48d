// `npm run load`: drives examples/server.ts with autocannon over loopback, bounded in time, and
// prints throughput, latency and the error count (which must be zero, else exit 1).
//
//   npm run load                                              # 32 connections, 10 s, 256x256 PGM, blur
//   npm run load -- --connections 8 --duration 5 --filter edges --size 128
//   npm run load -- --amount 20000                            # stop after 20,000 requests instead
//
// The server runs in its own process (started as `examples/server.ts` on 127.0.0.1, port 0), so
// that autocannon's own JavaScript does not share the server's event loop.
import { type ChildProcess, spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import autocannon from 'autocannon';

interface Args { connections: number; duration: number; amount: number; size: number; filter: string }

function parseArgs(argv: string[]): Args {
  const args: Args = { connections: 32, duration: 10, amount: 0, size: 256, filter: 'blur' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '') as keyof Args;
    const text = argv[i + 1];
    if (!(key in args) || text === undefined) throw new Error(`usage: load-server [--connections N] [--duration S] [--amount N] [--size PX] [--filter NAME]; bad ${argv[i]}`);
    if (key === 'filter') args.filter = text;
    else if (Number(text) > 0) args[key] = Number(text);
    else throw new Error(`--${key} expects a positive number, got ${text}`);
  }
  return args;
}

/** A size x size 8-bit PGM with some structure (a blur or edge filter has something to do). */
function testImage(size: number): Buffer {
  const header = Buffer.from(`P5\n${size} ${size}\n255\n`, 'latin1');
  const px = Buffer.alloc(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) px[y * size + x] = ((x >> 4) + (y >> 4)) % 2 ? 200 : (x * y) % 97;
  return Buffer.concat([header, px]);
}

/** Starts the example server in a child process and resolves with its URL once it listens. */
function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const entry = path.resolve(__dirname, '..', 'examples', 'server.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.once('exit', (code) => reject(new Error(`the server exited (code ${code}) before listening:\n${out}`)));
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    // The server closes on SIGTERM; a last resort only if it does not within 5 s.
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(force); resolve(); });
    child.kill('SIGTERM');
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const body = testImage(args.size);
  const { child, url } = await startServer();
  try {
    const target = new URL(`filter/${args.filter}`, url).href;
    // One request first: a wrong filter or a broken server should fail here, not as 20,000 errors.
    const probe = await fetch(target, { method: 'POST', body: new Uint8Array(body) });
    if (probe.status !== 200) throw new Error(`probe request: ${probe.status} ${await probe.text()}`);
    await probe.arrayBuffer();

    const result = await autocannon({
      url: target, method: 'POST', body, headers: { 'content-type': 'image/x-portable-graymap' },
      connections: args.connections, ...(args.amount ? { amount: args.amount } : { duration: args.duration }),
    });

    const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
    console.log(`convnd example server under load: POST /filter/${args.filter}, ${args.size}x${args.size} PGM (${body.length} bytes), ${args.connections} connections, loopback`);
    console.log(`${new Date().toISOString()}  ${cpu}, ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    const completed = result['2xx'] + result.non2xx;
    console.log(`requests: ${completed} in ${result.duration.toFixed(1)} s = ${(completed / result.duration).toFixed(0)} req/s (autocannon mean ${result.requests.average.toFixed(0)} req/s)`);
    console.log(`latency ms: p50 ${result.latency.p50}  p90 ${result.latency.p90}  p99 ${result.latency.p99}  max ${result.latency.max}`);
    const failures = result.errors + result.timeouts + result.non2xx;
    console.log(`errors: ${result.errors}  timeouts: ${result.timeouts}  non-2xx: ${result.non2xx}`);
    if (failures > 0) {
      console.log('FAIL: some requests failed');
      process.exitCode = 1;
    } else {
      console.log('PASS: every request answered 200');
    }
  } finally {
    await stopServer(child);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

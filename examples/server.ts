// A small image-filter service on node:http (no framework): POST an image, get it back filtered
// by a convolution computed with convAsync, so the event loop keeps serving other requests
// while the addon's threads do the arithmetic.
//
//   npx tsx examples/server.ts                      # an ephemeral port on 127.0.0.1; prints the URL
//   PORT=8080 HOST=0.0.0.0 npx tsx examples/server.ts
//   curl --data-binary @photo.pgm http://127.0.0.1:8080/filter/blur -o blurred.pgm
//   curl --data-binary @planes.f32 'http://127.0.0.1:8080/filter/edges?width=640&height=480' -o edges.f32
//
// Routes: GET / lists the filters; POST /filter/<name> takes a binary PGM (P5) or PPM (P6) with
// 8-bit samples and answers with the same format and size, or, when ?width=&height= are given, a
// raw float32 body (planar [C, H, W], ?channels=1|3) answered in kind.
// Errors: 400 bad image or parameters, 404 unknown path or filter, 405 wrong method, 413 body over
// the limit (8 MiB), 503 too many requests in progress; each with a JSON { error } body.
// Outside this repository, import from 'convnd' instead of '../lib/index.js'.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { readBody, tooLarge } from './server/body.js';
import { HttpError } from './server/errors.js';
import { applyFilter, FILTERS } from './server/filters.js';
import { encodePnm, parsePnm } from './server/pnm.js';
import { encodeRaw, parseRaw } from './server/raw.js';

export interface ServerOptions {
  /** Largest request body accepted, bytes (default 8 MiB). */
  maxBodyBytes?: number;
  /** Requests handled at once before answering 503; bounds the memory bodies and copies take. */
  maxInFlight?: number;
}

/** A server, not yet listening: call .listen(port, host). */
export function createServer(options: ServerOptions = {}): http.Server {
  const limits = { body: options.maxBodyBytes ?? 8 * 2 ** 20, inFlight: options.maxInFlight ?? 64 };
  const state = { inFlight: 0 };
  const server = http.createServer((req, res) => {
    handle(req, res, limits, state).catch((e: unknown) => sendError(res, e));
  });
  // A client that sends 'Expect: 100-continue' with a body over the limit is refused before it
  // uploads anything; any other gets its 100 and is handled as usual.
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (Number(req.headers['content-length']) > limits.body) return sendError(res, tooLarge(limits.body));
    res.writeContinue();
    server.emit('request', req, res);
  });
  // A client that trickles its upload must not hold a slot for ever.
  server.requestTimeout = 30_000;
  return server;
}

async function handle(
  req: http.IncomingMessage, res: http.ServerResponse,
  limits: { body: number; inFlight: number }, state: { inFlight: number },
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/') {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'use GET /', { allow: 'GET, HEAD' });
    return sendJson(res, 200, {
      usage: 'POST /filter/<name> with a binary PGM/PPM body, or raw float32 planes with ?width=&height=[&channels=]',
      filters: Object.fromEntries(Object.entries(FILTERS).map(([name, f]) => [name, f.description])),
    });
  }
  const match = /^\/filter\/([^/]+)$/.exec(url.pathname);
  if (!match) throw new HttpError(404, `no route ${url.pathname}; try GET /`);
  const name = match[1];
  // Own properties only: 'constructor' or '__proto__' must not pass for a filter.
  const filter = Object.hasOwn(FILTERS, name) ? FILTERS[name] : undefined;
  if (!filter) throw new HttpError(404, `unknown filter '${name}'; known: ${Object.keys(FILTERS).join(', ')}`);
  if (req.method !== 'POST') throw new HttpError(405, `use POST /filter/${name}`, { allow: 'POST' });
  if (state.inFlight >= limits.inFlight) throw new HttpError(503, 'too many requests in progress; retry shortly', { 'retry-after': '1' });

  state.inFlight++;
  try {
    const body = await readBody(req, limits.body);
    if (body.length === 0) throw new HttpError(400, 'empty body: send a PGM/PPM image or raw float32 samples');
    const raw = url.searchParams.has('width') || url.searchParams.has('height');
    const image = raw ? parseRaw(body, url.searchParams) : parsePnm(body);
    // A client that leaves while its job waits in the queue should not cost any computation.
    const abort = new AbortController();
    res.once('close', () => { if (!res.writableFinished) abort.abort(); });
    const planes = await applyFilter(filter, image, abort.signal);
    const out = raw ? encodeRaw(planes) : encodePnm({ ...image, planes });
    res.writeHead(200, {
      'content-type': raw ? 'application/octet-stream' : image.channels === 1 ? 'image/x-portable-graymap' : 'image/x-portable-pixmap',
      'content-length': out.length,
      ...(raw ? { 'x-image-shape': `${image.channels},${image.height},${image.width}` } : {}),
    });
    res.end(out);
  } finally {
    state.inFlight--;
  }
}

function sendJson(res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value) + '\n';
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: http.ServerResponse, e: unknown): void {
  if ((e as Error)?.name === 'AbortError') return; // the client is gone: nobody to answer
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (e instanceof HttpError) return sendJson(res, e.status, { error: e.message }, e.headers);
  // Anything else is a bug in this server or in convnd: say so without leaking details.
  console.error(e);
  sendJson(res, 500, { error: 'internal error' });
}

// Run only when executed directly, not when a test imports createServer() (this file is
// CommonJS to TypeScript, so import.meta is unavailable; __filename works under tsx and vitest).
if (path.resolve(process.argv[1] ?? '') === __filename) {
  const server = createServer();
  const host = process.env.HOST ?? '127.0.0.1';
  server.listen(Number(process.env.PORT ?? 0), host, () => {
    const { port } = server.address() as AddressInfo;
    console.log(`convnd filter server listening on http://${host.includes(':') ? `[${host}]` : host}:${port}/`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

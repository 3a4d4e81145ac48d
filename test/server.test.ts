// examples/server.ts over real HTTP on 127.0.0.1: its filtered images must equal a direct sync
// convolution of the same pixels (with kernels written out here, not taken from the server),
// and bad requests must get the right 4xx.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conv } from '../lib/index.js';
import { createServer } from '../examples/server.js';

let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer({ maxBodyBytes: 4096 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
});

const W = 13, H = 9;

/** A deterministic 8-bit test pattern: gradients, a bright block and some saturated pixels. */
function pattern(channels: number): Uint8Array {
  const px = new Uint8Array(W * H * channels);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < channels; c++)
        px[(y * W + x) * channels + c] = x >= 4 && x < 8 && y >= 3 && y < 6 ? 255 : (x * 19 + y * 23 + c * 61) % 256;
  return px;
}

function pnm(magic: 'P5' | 'P6', px: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${magic}\n# test image\n${W} ${H}\n255\n`, 'latin1'), px]);
}

/** Splits a P5/P6 response into its header fields and raster, checking the header's form. */
function parseResponse(body: Buffer): { magic: string; width: number; height: number; maxval: number; raster: Buffer } {
  const m = /^(P[56])\n(\d+) (\d+)\n(\d+)\n/.exec(body.toString('latin1', 0, 40));
  expect(m).not.toBeNull();
  return { magic: m![1], width: Number(m![2]), height: Number(m![3]), maxval: Number(m![4]), raster: body.subarray(m![0].length) };
}

/** The expected raster: each channel convolved on its own (sync conv, 'same' padding), plus offset, rounded and clamped. */
function expected(px: Uint8Array, channels: number, kernel: number[], size: number, offset = 0): Uint8Array {
  const out = new Uint8Array(px.length);
  for (let c = 0; c < channels; c++) {
    const plane = new Float32Array(W * H);
    for (let i = 0; i < W * H; i++) plane[i] = px[i * channels + c];
    const y = conv({ data: plane, shape: [1, 1, H, W] }, { data: Float32Array.from(kernel), shape: [1, 1, size, size] }, { padding: 'same' });
    for (let i = 0; i < W * H; i++) out[i * channels + c] = Math.min(255, Math.max(0, Math.round(y.data[i] + offset)));
  }
  return out;
}

async function post(path: string, body: Uint8Array): Promise<Response> {
  // fetch's types want a Uint8Array over a plain ArrayBuffer; a copy is one.
  return fetch(base + path, { method: 'POST', body: new Uint8Array(body) });
}

const SHARPEN = [0, -1, 0, -1, 5, -1, 0, -1, 0];
const EMBOSS = [-2, -1, 0, -1, 0, 1, 0, 1, 2];
const BINOMIAL = [1, 4, 6, 4, 1];
const BLUR = BINOMIAL.flatMap((a) => BINOMIAL.map((b) => (a * b) / 256));

describe('examples/server', () => {
  it('sharpens a PGM: same size, pixels equal to a sync conv', async () => {
    const px = pattern(1);
    const res = await post('/filter/sharpen', pnm('P5', px));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/x-portable-graymap');
    const img = parseResponse(Buffer.from(await res.arrayBuffer()));
    expect([img.magic, img.width, img.height, img.maxval]).toEqual(['P5', W, H, 255]);
    expect(img.raster.length).toBe(W * H);
    expect(Array.from(img.raster)).toEqual(Array.from(expected(px, 1, SHARPEN, 3)));
  });

  it('blurs a PGM with the 5x5 Gaussian', async () => {
    const px = pattern(1);
    const img = parseResponse(Buffer.from(await (await post('/filter/blur', pnm('P5', px))).arrayBuffer()));
    expect(Array.from(img.raster)).toEqual(Array.from(expected(px, 1, BLUR, 5)));
  });

  it('embosses each channel of a PPM on its own (depthwise), keeping the interleaving', async () => {
    const px = pattern(3);
    const res = await post('/filter/emboss', pnm('P6', px));
    expect(res.status).toBe(200);
    const img = parseResponse(Buffer.from(await res.arrayBuffer()));
    expect([img.magic, img.width, img.height]).toEqual(['P6', W, H]);
    expect(Array.from(img.raster)).toEqual(Array.from(expected(px, 3, EMBOSS, 3, 127.5)));
  });

  it('filters raw float32 planes given ?width=&height=, bit for bit', async () => {
    const plane = Float32Array.from({ length: W * H }, (_, i) => Math.sin(i) * 0.5 + 0.5);
    const res = await post(`/filter/sharpen?width=${W}&height=${H}`, new Uint8Array(plane.buffer));
    expect(res.status).toBe(200);
    const got = new Float32Array(await res.arrayBuffer());
    const want = conv({ data: plane, shape: [1, 1, H, W] }, { data: Float32Array.from(SHARPEN), shape: [1, 1, 3, 3] }, { padding: 'same' });
    expect(Array.from(got)).toEqual(Array.from(want.data));
  });

  it('answers bad requests with the right 4xx and a JSON error', async () => {
    const cases: [string, Promise<Response>, number][] = [
      ['unknown filter', post('/filter/nope', pnm('P5', pattern(1))), 404],
      ['inherited property as filter', post('/filter/constructor', pnm('P5', pattern(1))), 404],
      ['unknown path', fetch(base + '/nothing'), 404],
      ['GET on a filter', fetch(base + '/filter/blur'), 405],
      ['truncated raster', post('/filter/blur', pnm('P5', pattern(1)).subarray(0, 60)), 400],
      ['ASCII PGM', post('/filter/blur', Buffer.from('P2\n2 1\n255\n0 255\n')), 400],
      ['16-bit PGM', post('/filter/blur', Buffer.from('P5\n1 1\n65535\n\0\0')), 400],
      ['not an image', post('/filter/blur', Buffer.from('hello')), 400],
      ['empty body', post('/filter/blur', new Uint8Array(0)), 400],
      ['raw of the wrong length', post(`/filter/blur?width=${W}&height=${H}`, new Uint8Array(12)), 400],
      ['body over the limit', post('/filter/blur', new Uint8Array(5000)), 413],
    ];
    for (const [what, pending, status] of cases) {
      const res = await pending;
      expect({ what, status: res.status }).toEqual({ what, status });
      expect(typeof ((await res.json()) as { error?: unknown }).error).toBe('string');
    }
    expect((await fetch(base + '/filter/blur')).headers.get('allow')).toBe('POST');
  });
});

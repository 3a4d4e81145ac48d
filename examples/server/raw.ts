// Raw float32 images: the body is width * height * channels little-endian float32 samples,
// planar [C, H, W], with the size in the query (?width=W&height=H[&channels=1|3]). Samples are
// taken as 0..1 (white = 1), which is what the signed filters' mid-grey offset is relative to.
import { HttpError } from './errors.js';
import type { Image } from './pnm.js';

const MAX_SIDE = 1 << 20;

function intParam(query: URLSearchParams, name: string, fallback: number | null, max: number): number {
  const text = query.get(name);
  if (text === null) {
    if (fallback === null) throw new HttpError(400, `a raw float32 body needs ?${name}=`);
    return fallback;
  }
  const value = Number(text);
  if (!/^[0-9]{1,7}$/.test(text) || value < 1 || value > max) throw new HttpError(400, `${name} must be an integer 1..${max}, got '${text}'`);
  return value;
}

export function parseRaw(body: Buffer, query: URLSearchParams): Image {
  const width = intParam(query, 'width', null, MAX_SIDE);
  const height = intParam(query, 'height', null, MAX_SIDE);
  const channels = intParam(query, 'channels', 1, 3);
  if (channels === 2) throw new HttpError(400, 'channels must be 1 or 3');
  const expected = width * height * channels * 4;
  if (body.length !== expected)
    throw new HttpError(400, `the body holds ${body.length} bytes but ${width}x${height}x${channels} float32 samples need ${expected}`);
  // Copy into an aligned array (a Buffer's bytes may start at any offset); x64 and arm64 are little-endian.
  const planes = new Float32Array(width * height * channels);
  new Uint8Array(planes.buffer).set(body);
  return { width, height, channels, maxval: 1, planes };
}

export function encodeRaw(planes: Float32Array): Buffer {
  return Buffer.from(planes.buffer, planes.byteOffset, planes.byteLength);
}

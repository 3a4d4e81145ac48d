// Binary PGM (P5, grey) and PPM (P6, RGB) images with 8-bit samples: parsing an upload into
// planar float32 channels [C, H, W], and encoding channels back. The parser trusts nothing in
// the header: every number is bounded and the raster must be exactly the size it declares.
import { HttpError } from './errors.js';

export interface Image {
  width: number;
  height: number;
  /** 1 (PGM) or 3 (PPM). */
  channels: number;
  /** Largest sample value, 1..255. */
  maxval: number;
  /** Planar samples [channels, height, width], in the file's units (0..maxval). */
  planes: Float32Array;
}

/** Far above any image an 8 MiB body can hold, low enough that width * height stays exact. */
const MAX_SIDE = 1 << 20;

export function isPnm(body: Buffer): boolean {
  return body.length >= 2 && body[0] === 0x50 /* P */ && body[1] >= 0x31 && body[1] <= 0x37;
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d || byte === 0x0b || byte === 0x0c;
}

/** Reads the header's next decimal number, skipping whitespace and '#' comments before it. */
function readNumber(body: Buffer, at: number, what: string): { value: number; next: number } {
  let i = at;
  for (;;) {
    while (i < body.length && isSpace(body[i])) i++;
    if (body[i] !== 0x23 /* # */) break;
    while (i < body.length && body[i] !== 0x0a && body[i] !== 0x0d) i++;
  }
  const start = i;
  while (i < body.length && body[i] >= 0x30 && body[i] <= 0x39 && i - start < 8) i++;
  if (i === start) throw new HttpError(400, `malformed PNM header: expected the ${what} as a decimal number`);
  if (i < body.length && !isSpace(body[i]) && body[i] !== 0x23)
    throw new HttpError(400, `malformed PNM header: the ${what} is not a number of at most 8 digits`);
  return { value: Number(body.toString('latin1', start, i)), next: i };
}

export function parsePnm(body: Buffer): Image {
  const magic = body.toString('latin1', 0, 2);
  if (magic !== 'P5' && magic !== 'P6') {
    const ascii = magic === 'P2' || magic === 'P3';
    throw new HttpError(400, ascii ? `${magic} (ASCII) images are not supported: send binary P5 (PGM) or P6 (PPM)` : 'expected a binary PGM (P5) or PPM (P6) image');
  }
  if (!isSpace(body[2]) && body[2] !== 0x23) throw new HttpError(400, 'malformed PNM header: no whitespace after the magic number');
  const channels = magic === 'P5' ? 1 : 3;
  const w = readNumber(body, 2, 'width');
  const h = readNumber(body, w.next, 'height');
  const m = readNumber(body, h.next, 'maxval');
  const [width, height, maxval] = [w.value, h.value, m.value];
  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE)
    throw new HttpError(400, `bad image size ${width}x${height}: each side must be 1..${MAX_SIDE}`);
  if (maxval < 1 || maxval > 255) throw new HttpError(400, `maxval ${maxval} is not supported: only 8-bit samples (maxval 1..255)`);
  // Exactly one whitespace byte separates the header from the raster.
  if (m.next >= body.length || !isSpace(body[m.next])) throw new HttpError(400, 'malformed PNM header: no whitespace after maxval');
  const raster = body.subarray(m.next + 1);
  const expected = width * height * channels;
  if (raster.length !== expected)
    throw new HttpError(400, `the raster holds ${raster.length} bytes but a ${width}x${height} ${magic} needs ${expected}`);
  // Interleaved samples (RGBRGB...) to planes (RR.. GG.. BB..), the [C, H, W] layout convnd takes.
  const planes = new Float32Array(expected);
  const plane = width * height;
  for (let p = 0; p < plane; p++)
    for (let c = 0; c < channels; c++) planes[c * plane + p] = raster[p * channels + c];
  return { width, height, channels, maxval, planes };
}

/** Encodes planar samples as P5/P6, rounding and clamping each to 0..maxval. */
export function encodePnm(image: Image): Buffer {
  const { width, height, channels, maxval, planes } = image;
  const header = Buffer.from(`${channels === 1 ? 'P5' : 'P6'}\n${width} ${height}\n${maxval}\n`, 'latin1');
  const out = Buffer.alloc(header.length + width * height * channels);
  header.copy(out);
  const plane = width * height;
  for (let p = 0; p < plane; p++)
    for (let c = 0; c < channels; c++) out[header.length + p * channels + c] = toSample(planes[c * plane + p], maxval);
  return out;
}

/** Round to the nearest integer and clamp to 0..maxval (NaN, which no filter here makes, becomes 0). */
export function toSample(v: number, maxval: number): number {
  const r = Math.round(v);
  return r > maxval ? maxval : r >= 0 ? r : 0;
}

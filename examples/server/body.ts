// Reads a request body into one Buffer, refusing anything over `limit` bytes: at once from
// Content-Length when the client declares it, else as soon as the streamed bytes pass it, so a
// large upload never sits in memory whole.
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

/** 413, closing the connection so that the rest of the upload is not read. */
export function tooLarge(limit: number): HttpError {
  return new HttpError(413, `request body over ${limit} bytes`, { connection: 'close' });
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Stop buffering; the response closes the connection, which discards the rest.
        req.off('data', onData);
        chunks.length = 0;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
    // A client that disconnects mid-upload: settle, so the request's slot is freed.
    req.once('close', () => { if (!req.complete) reject(new HttpError(400, 'the client closed the connection mid-body')); });
  });
}

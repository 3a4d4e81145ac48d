// The async side of every operation: the native call queues a job on the addon's own
// threads and returns [promise, jobId]; an AbortSignal cancels a job that has not started.
import { native } from './native.js';
import { typeError } from './validate.js';

export type NativeAsyncCall = () => [Promise<Float32Array>, number];

export function checkSignal(fn: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined || signal === null) return undefined;
  if (typeof signal !== 'object' || typeof (signal as AbortSignal).aborted !== 'boolean' ||
      typeof (signal as AbortSignal).addEventListener !== 'function')
    throw typeError(fn, 'signal', 'an AbortSignal', signal);
  return signal as AbortSignal;
}

function abortError(fn: string): DOMException {
  return new DOMException(`${fn}: aborted before it started`, 'AbortError');
}

/** Runs a native async call, cancelling it if `signal` aborts before it starts. */
export async function runNative(fn: string, signal: AbortSignal | undefined, start: NativeAsyncCall): Promise<Float32Array> {
  if (signal?.aborted) throw abortError(fn);
  const [promise, id] = start();
  if (!signal) return promise;
  const onAbort = () => native().cancelJob(id);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await promise;
  } catch (e) {
    throw (e as Error)?.name === 'AbortError' ? abortError(fn) : e;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

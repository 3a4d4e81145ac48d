// Loads the peers that are installed; a missing or broken one is reported and left out, never fatal.
import { convndPeer } from './convnd.js';
import { onnxruntimePeer } from './onnxruntime.js';
import { initTfjsWasm, tfjsWasmPeer } from './tfjs-wasm.js';
import type { Peer } from './types.js';

export interface LoadedPeers {
  peers: Peer[];
  /** Peers that could not be loaded, with the reason. */
  missing: { key: string; reason: string }[];
  notes: string[];
}

export async function loadPeers(convndVersion: string, maxThreads: number): Promise<LoadedPeers> {
  const out: LoadedPeers = { peers: [convndPeer(convndVersion)], missing: [], notes: [] };
  try {
    const ort = await import('onnxruntime-node');
    out.peers.push(onnxruntimePeer(ort, ort.env.versions.node ?? ort.env.versions.common));
  } catch (e) {
    out.missing.push({ key: 'onnxruntime', reason: (e as Error).message.split('\n')[0] });
  }
  try {
    const tf = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const setup = await initTfjsWasm(tf, wasm, maxThreads);
    const peer = tfjsWasmPeer(setup, wasm.version_wasm);
    out.peers.push(peer);
    if (setup.threads < maxThreads)
      out.notes.push(
        `tfjs-wasm runs on ${setup.threads} thread(s) whatever is asked: tfjs-backend-wasm ${wasm.version_wasm} ` +
          `disables its multithreaded build under Node.js (WASM_HAS_MULTITHREAD_SUPPORT is false there, and forcing it ` +
          `fails because its pthread workers are blob: URLs that Node's Worker rejects). Its ${maxThreads}-thread column ` +
          `repeats the ${setup.threads}-thread measurement.`,
      );
    if (!setup.simd) out.notes.push('tfjs-wasm: WebAssembly SIMD is not available, so it runs its scalar build.');
  } catch (e) {
    out.missing.push({ key: 'tfjs-wasm', reason: (e as Error).message.split('\n')[0] });
  }
  return out;
}

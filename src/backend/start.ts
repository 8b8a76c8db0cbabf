/**
 * What every backend provides to select.ts: its tfjs name, the npm package it comes from, a
 * start() that loads and activates it, and how to install what it needs. Each backend's own file
 * owns its start (wasm_backend.ts, blas_backend.ts, webgpu_backend.ts, tensorflow_backend.ts,
 * cpu_backend.ts); select.ts only picks among them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName, BackendProfile } from './profile.js';
import type { WebGpuAdapter } from './webgpu.js';

export interface StartOptions {
  /** The backend was named by --backend / LIGO_BACKEND, not tried by auto mode. */
  forced: boolean;
  /** wasm: threads for matrix products; blas: the BLAS library's threads. */
  threads?: number;
  env: Record<string, string | undefined>;
  log: (msg: string) => void;
}

export interface StartedBackend {
  /** "wasm (@tensorflow/tfjs-backend-wasm, SIMD, 2 threads)": what the run logs after "backend: ". */
  description: string;
  profile: BackendProfile;
  /** webgpu only: the adapter in use. */
  adapter?: WebGpuAdapter;
  /** Lines worth saying once the backend runs (it is slow, its adapter is a software one). */
  notes?: string[];
}

export interface BackendStarter {
  name: BackendName;
  package: string;
  /** Loads, registers and activates the backend (tf.setBackend); throws one line when it cannot. */
  start(options: StartOptions): Promise<StartedBackend>;
  /** How to install what it needs: the hint of the error when it was forced and failed. */
  hint: string;
  /**
   * The line auto mode logs when it passes this backend over, or undefined for the default (a
   * missing package or a NotHere is the normal case and stays quiet; anything else is logged).
   */
  skipped?: (error: string) => string | undefined;
}

/** A candidate that auto mode passes over quietly (no GPU driver, a software adapter). */
export class NotHere extends Error {}

/** Makes the registered backend `name` tfjs's active one; `pkg` names it in the errors. */
export async function activate(name: BackendName, pkg: string): Promise<void> {
  if (!tf.findBackendFactory(name)) {
    // Happens when the package brought its own copy of tfjs-core and registered there.
    throw new Error(`${pkg} loaded but did not register backend '${name}' with @tensorflow/tfjs-core ${tf.version_core}`);
  }
  if (!(await tf.setBackend(name))) {
    throw new Error(`tf.setBackend('${name}') failed (tfjs printed the reason above)`);
  }
  await tf.ready();
}

/** The first line of an error's message. */
export function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0];
}

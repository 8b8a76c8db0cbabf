/** Whether this machine has a WebGPU adapter, asked once per test file; the reason when not. */
import { probeWebGpu, describeAdapter } from '../../src/backend/webgpu.js';

export interface WebGpuAvailability {
  ok: boolean;
  /** The adapter ("llvmpipe: Mesa 25.0.7 ...") or why there is none, for the suite title. */
  reason: string;
}

export async function webGpuAvailability(): Promise<WebGpuAvailability> {
  try {
    const adapter = await probeWebGpu();
    return { ok: true, reason: `${adapter.software ? 'software' : 'hardware'} adapter ${describeAdapter(adapter.info)}` };
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { ok: false, reason: `skipped: no WebGPU adapter (${message}); on Debian run scripts/setup-lavapipe.sh` };
  }
}

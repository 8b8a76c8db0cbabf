/**
 * Starting tfjs-backend-webgpu on Dawn (webgpu.ts): auto mode takes only a hardware adapter, where
 * a GPU driver could answer; --backend webgpu takes a software one too. The profile comes from the
 * adapter (webGpuProfile). Under Node, readSync (dataSync) of a tensor on the GPU needs
 * OffscreenCanvas, which Node lacks: code that may run on webgpu reads tensors with await data().
 */
import { webGpuProfile } from './profile.js';
import { activate, NotHere, type BackendStarter, type StartOptions, type StartedBackend } from './start.js';
import { DAWN_PACKAGE, describeAdapter, gpuDriverMaybePresent, probeWebGpu } from './webgpu.js';
import { registerWebGpuKernels } from './webgpu_kernels.js';

const WEBGPU_PACKAGE = '@tensorflow/tfjs-backend-webgpu';

async function start({ forced, env }: StartOptions): Promise<StartedBackend> {
  if (!forced && !gpuDriverMaybePresent(env)) throw new NotHere('no Vulkan driver for a GPU is installed');
  const adapter = await probeWebGpu();
  const name = describeAdapter(adapter.info);
  if (!forced && adapter.software) throw new NotHere(`"${name}" is a software adapter; --backend webgpu uses it anyway`);
  // Only now: the package reads navigator.gpu at import and registers 'webgpu' only if it is there.
  // Its gradients come with '@tensorflow/tfjs' (select.ts imports it), which registers them all. A
  // literal specifier (it is an optionalDependency, so its types are there) lets a bundler include it.
  await import('@tensorflow/tfjs-backend-webgpu');
  registerWebGpuKernels();
  await activate('webgpu', WEBGPU_PACKAGE);
  return {
    description: `webgpu (${WEBGPU_PACKAGE}, ${name})`,
    profile: webGpuProfile(adapter),
    adapter,
    notes: adapter.software ? [`webgpu: "${name}" is a software adapter (the GPU emulated on the CPU): correct but slow`] : [],
  };
}

export const WEBGPU_BACKEND: BackendStarter = {
  name: 'webgpu',
  package: WEBGPU_PACKAGE,
  start,
  hint: `npm install ${WEBGPU_PACKAGE} ${DAWN_PACKAGE} (Dawn); on Linux it also needs a Vulkan driver (the GPU vendor's, or Mesa's lavapipe in software: scripts/setup-lavapipe.sh), or use --backend wasm`,
};

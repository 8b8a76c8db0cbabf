/**
 * tfjs-node (CPU) and tfjs-node-gpu (CUDA): native TensorFlow, where the user installed one of the
 * packages (not a dependency of ligo: their install downloads libtensorflow).
 */
import { backendProfile } from './profile.js';
import { activate, type BackendStarter } from './start.js';

export const TENSORFLOW_PACKAGE = '@tensorflow/tfjs-node';
export const TENSORFLOW_GPU_PACKAGE = '@tensorflow/tfjs-node-gpu';

/** How to get native TensorFlow from `pkg`. */
export function tensorflowHint(pkg: string = TENSORFLOW_PACKAGE): string {
  return `npm install ${pkg} (its install downloads libtensorflow), or use --backend wasm`;
}

/** The specifier is a variable so TypeScript does not try to resolve packages that are not installed. */
async function importOptional(specifier: string): Promise<unknown> {
  return import(specifier);
}

/** The 'tensorflow' backend as registered by `pkg` (tfjs-node or tfjs-node-gpu). */
export function tensorflowBackend(pkg: string): BackendStarter {
  return {
    name: 'tensorflow',
    package: pkg,
    async start({ env }) {
      await importOptional(pkg);
      await activate('tensorflow', pkg);
      return { description: `tensorflow (${pkg})`, profile: backendProfile('tensorflow', env) };
    },
    hint: tensorflowHint(pkg),
  };
}

/** tfjs-backend-cpu, plain JavaScript: always there, the slowest; the last resort of auto mode. */
import { backendProfile } from './profile.js';
import { activate, type BackendStarter } from './start.js';
import { tensorflowHint } from './tensorflow_backend.js';

const CPU_PACKAGE = '@tensorflow/tfjs-backend-cpu';

export const CPU_BACKEND: BackendStarter = {
  name: 'cpu',
  package: CPU_PACKAGE,
  async start({ env }) {
    await activate('cpu', CPU_PACKAGE);
    return {
      description: `cpu (${CPU_PACKAGE})`,
      profile: backendProfile('cpu', env),
      notes: [`the cpu backend is slow; ${tensorflowHint()}`],
    };
  },
  hint: `reinstall ${CPU_PACKAGE}`,
};

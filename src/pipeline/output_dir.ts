import { checkOutputDir, removeStaleStaging } from '../output/output_dir.js';
import type { GrowEvent } from './options.js';

/** Before any long work: staging directories of killed runs next to --out removed (one log line), and --out checked. */
export async function prepareOutputDir(out: string, overwrite: boolean, progress?: (event: GrowEvent) => void): Promise<void> {
  await removeStaleStaging(out, (message) => progress?.({ phase: 'load', message }));
  await checkOutputDir(out, overwrite);
}

import { checkOutputDir, removeStaleStaging } from '../output/output_dir.js';
import type { DType } from '../checkpoint/dtypes.js';
import type { GrowthPlan } from '../growth/plan.js';
import { checkDiskSpace, type DiskSpaceOptions } from '../output/disk_space.js';
import { weightBytes } from '../output/write.js';
import type { GrowEvent } from './options.js';

/** Before any long work: staging directories of killed runs next to --out removed (one log line), and --out checked. */
export async function prepareOutputDir(out: string, overwrite: boolean, progress?: (event: GrowEvent) => void): Promise<void> {
  await removeStaleStaging(out, (message) => progress?.({ phase: 'load', message }));
  await checkOutputDir(out, overwrite);
}

/** Before the first byte: the grown weights at the output dtype fit on --out's disk (output/disk_space.ts). */
export async function checkOutputRoom(out: string, plan: Pick<GrowthPlan, 'parameters'>, dtype: DType, options?: DiskSpaceOptions): Promise<void> {
  await checkDiskSpace(out, weightBytes(plan, dtype), options);
}

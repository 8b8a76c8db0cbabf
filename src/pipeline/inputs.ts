import { access, constants, stat } from 'node:fs/promises';
import { errnoCode, pathReason, SystemError, UsageError } from '../errors.js';
import { checkOutputParent } from '../output/out_parent.js';

/** The paths a run reads or writes, each checked before a model is loaded; absent ones are skipped. */
export interface RunInputs {
  data?: string;
  operator?: string;
  targetConfig?: string;
  out?: string;
}

/** What each input path may be. */
const KINDS: Record<Exclude<keyof RunInputs, 'out'>, { flag: string; directory: boolean }> = {
  data: { flag: '--data', directory: false },
  // A grown directory holding ligo_operator.safetensors, or the file itself.
  operator: { flag: '--operator', directory: true },
  // A model directory holding config.json, or the file itself.
  targetConfig: { flag: '--target-config', directory: true },
};

/** `file` exists, is of the kind the flag takes, and is readable; else one line naming the flag and the OS's reason. */
async function checkReadable(file: string, flag: string, directory: boolean): Promise<void> {
  const fail = (error: unknown): never => {
    const code = errnoCode(error);
    const message = `${flag}: cannot read ${file}: ${pathReason(error)}`;
    // A path that is not there is the user's to fix; a permission or a mount is the machine's state.
    if (code === undefined || code === 'ENOENT' || code === 'ENOTDIR') throw new UsageError(message, { flag, file });
    throw new SystemError(message, code, { flag, file });
  };
  const info = await stat(file).catch(fail);
  if (!info.isFile() && !(directory && info.isDirectory())) {
    throw new UsageError(`${flag}: ${file} is not a file${directory ? ' or a directory' : ''}`, { flag, file });
  }
  await access(file, constants.R_OK | (info.isDirectory() ? constants.X_OK : 0)).catch(fail);
}

/**
 * Before any model is loaded: every input a run names exists and can be read, and --out can be
 * created, so a typo costs a second, not the minutes a large model takes to load.
 */
export async function checkInputs(inputs: RunInputs): Promise<void> {
  for (const key of Object.keys(KINDS) as (keyof typeof KINDS)[]) {
    const file = inputs[key];
    if (file !== undefined && file !== '') await checkReadable(file, KINDS[key].flag, KINDS[key].directory);
  }
  if (inputs.out !== undefined && inputs.out !== '') await checkOutputParent(inputs.out);
}

import { stat } from 'node:fs/promises';

/** Whether a path exists (file, directory or anything else stat can see). */
export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

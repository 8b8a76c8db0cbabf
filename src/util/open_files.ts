import { readFileSync } from 'node:fs';

/** Where Linux lists this process's limits ("Max open files  1024  1048576  files"). */
const LIMITS_FILE = '/proc/self/limits';

/** This process's open-file limit (the soft one, what ulimit -n shows), where the OS tells it (Linux); else undefined. */
export function openFileLimit(readText: (file: string) => string = (file) => readFileSync(file, 'utf8')): number | undefined {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readText(LIMITS_FILE));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

import { readFile } from 'node:fs/promises';

/** A text file's contents, or undefined when it cannot be read (an optional file: absent is not an error). */
export async function readOptionalText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

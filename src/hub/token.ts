import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { UsageError } from '../errors.js';
import { hfHome, type Env } from './settings.js';

/** Where a token came from, for messages: the token itself is never printed, logged or written. */
export type TokenSource = 'option' | 'HF_TOKEN' | 'token file';

export interface ResolvedToken {
  token: string;
  source: TokenSource;
}

/** The file `huggingface-cli login` (and `hf auth login`) writes: `$HF_TOKEN_PATH`, else `$HF_HOME/token`. */
export function tokenFilePath(env: Env = process.env): string {
  const explicit = env.HF_TOKEN_PATH;
  return explicit !== undefined && explicit.trim() !== '' ? explicit : path.join(hfHome(env), 'token');
}

/**
 * The token from the option, `HF_TOKEN`, or the token file, in that order; undefined when none
 * is set (public repos need none). Tokens start with `hf_`; @huggingface/hub rejects others with
 * a TypeError, so we check first and say which setting holds the bad value.
 */
export async function resolveToken(options: { token?: string; env?: Env } = {}): Promise<ResolvedToken | undefined> {
  const env = options.env ?? process.env;
  const found = await firstToken(options.token, env);
  if (found === undefined) return undefined;
  if (!found.token.startsWith('hf_')) {
    const where = found.source === 'option' ? '--token' : found.source === 'HF_TOKEN' ? 'HF_TOKEN' : tokenFilePath(env);
    throw new UsageError(`the Hugging Face token from ${where} is not one (tokens start with "hf_")`, {
      hint: 'create one at https://huggingface.co/settings/tokens',
    });
  }
  return found;
}

async function firstToken(option: string | undefined, env: Env): Promise<ResolvedToken | undefined> {
  const given = option?.trim();
  if (given) return { token: given, source: 'option' };
  const fromEnv = env.HF_TOKEN?.trim();
  if (fromEnv) return { token: fromEnv, source: 'HF_TOKEN' };
  try {
    const fromFile = (await readFile(tokenFilePath(env), 'utf8')).trim();
    return fromFile ? { token: fromFile, source: 'token file' } : undefined;
  } catch {
    // No file means not logged in; an unreadable one is treated the same: public repos need no token.
    return undefined;
  }
}

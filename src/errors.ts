/** Every error the library throws on purpose. Only cli/main.ts maps these to exit codes. */
import { formatBytes } from './util/bytes.js';

export interface LigoErrorContext {
  file?: string;
  tensor?: string;
  flag?: string;
  expected?: string;
  actual?: string;
  hint?: string;
}

export class LigoError extends Error {
  readonly file?: string;
  readonly tensor?: string;
  readonly flag?: string;
  readonly expected?: string;
  readonly actual?: string;
  readonly hint?: string;

  constructor(message: string, context: LigoErrorContext = {}) {
    super(message);
    this.name = new.target.name;
    Object.assign(this, context);
  }
}

/** The user asked for something impossible or malformed (exit code 2). */
export class UsageError extends LigoError {}

/** A checkpoint file or directory is malformed or inconsistent with its config. */
export class CheckpointError extends LigoError {}

/** config.json describes an architecture or option we do not support. */
export class UnsupportedError extends LigoError {}

/** Training data cannot be read or is too short. */
export class DataError extends LigoError {}

/** The Hugging Face Hub answered with an error or could not be reached. */
export class HubError extends LigoError {
  readonly statusCode?: number;
  readonly url?: string;
  constructor(message: string, context: LigoErrorContext & { statusCode?: number; url?: string } = {}) {
    super(message, context);
    this.statusCode = context.statusCode;
    this.url = context.url;
  }
}

/**
 * The operating system refused: the disk is full, a path is not ours to write, too many files are
 * open. The user's machine, not a bug in ligo: one line that names what ran out and where.
 */
export class SystemError extends LigoError {
  /** The errno code: ENOSPC, EACCES, EMFILE... */
  readonly code: string;
  constructor(message: string, code: string, context: LigoErrorContext = {}) {
    super(message, context);
    this.code = code;
  }
}

/** What the caller knows beyond the error itself; each is optional. */
export interface SystemErrorContext {
  /** The directory or file the failed operation was about, where the error carries no path (write). */
  path?: string;
  /** ENOSPC: bytes the whole write needs, and bytes free on that disk. */
  bytesNeeded?: number;
  bytesFree?: number;
  /** EMFILE: the process's open-file limit (ulimit -n), where it can be read. */
  openFileLimit?: () => number | undefined;
}

/** The errno code of a Node system error (fs, net), else undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (!(err instanceof Error) || !('code' in err) || typeof err.code !== 'string') return undefined;
  return /^E[A-Z]+$/.test(err.code) ? err.code : undefined;
}

/** What each errno code a path check meets is, in the words of the OS (strerror), for inputs named by a flag. */
const PATH_REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
};

/** The OS's reason for a failed check of a path the user named (--data, --out...), else the error's own message. */
export function pathReason(err: unknown): string {
  const code = errnoCode(err);
  if (code !== undefined && PATH_REASONS[code] !== undefined) return PATH_REASONS[code];
  return code ?? (err instanceof Error ? err.message.split('\n')[0] : String(err));
}

/** The one line for a system error, or undefined for a code that is not the user's machine's doing. */
function systemMessage(code: string, where: string | undefined, context: SystemErrorContext): string | undefined {
  const on = where === undefined ? '' : ` on ${where}`;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT': {
      const what = code === 'ENOSPC' ? 'no space left' : 'disk quota exceeded';
      const { bytesNeeded, bytesFree } = context;
      if (bytesNeeded === undefined || bytesFree === undefined) return `${what}${on}`;
      return `${what}${on}: needs about ${formatBytes(bytesNeeded)}, ${formatBytes(bytesFree)} free`;
    }
    case 'EACCES':
    case 'EPERM':
      return `permission denied${on}`;
    case 'EROFS':
      return `read-only file system${on}`;
    case 'EMFILE': {
      const limit = context.openFileLimit?.();
      const is = limit === undefined ? 'was reached' : `is ${limit}`;
      return `too many open files: the limit (ulimit -n) ${is}; raise it as far as the system allows with ulimit -n $(ulimit -Hn) and run again`;
    }
    case 'ENFILE':
      return 'too many open files on this machine (the system-wide limit, fs.file-max)';
    default:
      return undefined;
  }
}

/**
 * A SystemError for a Node system error that is the machine's (disk full, permission denied, too
 * many open files, read-only disk), else undefined: anything else stays what it was.
 */
export function systemError(err: unknown, context: SystemErrorContext = {}): SystemError | undefined {
  const code = errnoCode(err);
  if (code === undefined) return undefined;
  const errPath = err instanceof Error && 'path' in err && typeof err.path === 'string' ? err.path : undefined;
  const where = context.path ?? errPath;
  const message = systemMessage(code, where, context);
  return message === undefined ? undefined : new SystemError(message, code, { file: where });
}

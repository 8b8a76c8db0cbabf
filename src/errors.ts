/** Every error the library throws on purpose. Only cli/main.ts maps these to exit codes. */
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

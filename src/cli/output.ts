import { createProgress, type Progress } from './progress.js';

/** Streams and environment of one CLI run; tests pass their own to run commands in-process. */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  /** The arguments of this run (without node and the script), for the reproduce line of model cards. */
  argv?: readonly string[];
}

export const processIO = (): CliIO => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
}

/**
 * Where a command writes. The result goes to stdout (a table, or one JSON line last with
 * --json) so pipelines can parse it; everything else (logs, progress) goes to stderr.
 */
export interface Output {
  readonly json: boolean;
  /** A log line on stderr, unless --quiet. */
  log(message: string): void;
  /** The command's result: `human` as is, or `value` as one JSON line with --json. */
  result(value: unknown, human: () => string): void;
  /** A bar on a terminal, periodic log lines otherwise, nothing with --quiet. */
  progress(label: string, unit: string): Progress;
}

export function createOutput(options: OutputOptions, io: CliIO): Output {
  const { stdout, stderr } = io;
  const log = (message: string): void => {
    if (!options.quiet) stderr.write(`${message}\n`);
  };
  return {
    json: options.json,
    log,
    result(value, human) {
      stdout.write(options.json ? `${JSON.stringify(value)}\n` : `${human()}\n`);
    },
    progress: (label, unit) => createProgress({ label, unit, stream: stderr, enabled: !options.quiet, log }),
  };
}

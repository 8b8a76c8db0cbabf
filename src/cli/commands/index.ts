import type { Argv } from 'yargs';
import type { CliIO } from '../output.js';
import { evalCommand } from './eval.js';
import { inspectCommand } from './inspect.js';

/** Every `ligo` command; adding one is a file in this folder and a line in each list below. */
export function registerCommands<T>(y: Argv<T>, io: CliIO): Argv<T> {
  return y.command(inspectCommand(io)).command(evalCommand(io));
}

/** Command names, for hints. */
export const COMMAND_NAMES: readonly string[] = ['inspect', 'eval'];

import type { Argv } from 'yargs';
import type { CliIO } from '../output.js';
import { applyCommand } from './apply.js';
import { compareCommand } from './compare.js';
import { evalCommand } from './eval.js';
import { growCommand } from './grow.js';
import { inspectCommand } from './inspect.js';
import { pushCommand } from './push.js';

/** Every `ligo` command; adding one is a file in this folder and a line in each list below. */
export function registerCommands<T>(y: Argv<T>, io: CliIO): Argv<T> {
  return y.command(growCommand(io)).command(applyCommand(io)).command(inspectCommand(io)).command(evalCommand(io)).command(pushCommand(io)).command(compareCommand(io));
}

/** Command names, for hints. */
export const COMMAND_NAMES: readonly string[] = ['grow', 'apply', 'inspect', 'eval', 'push', 'compare'];

import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { LigoError, systemError, UsageError } from '../errors.js';
import { openFileLimit } from '../util/open_files.js';
import { COMMAND_NAMES, registerCommands } from './commands/index.js';
import { processIO, type CliIO } from './output.js';
import { isJsonObject } from '../util/json.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

function version(): string {
  // src/cli/main.ts and dist/cli/main.js both sit two levels below package.json.
  const text = readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8');
  const pkg: unknown = JSON.parse(text);
  return isJsonObject(pkg) && typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

/** yargs reports its own validation failures (unknown flag, missing argument) as a plain message. */
function usageFailure(message: string | undefined, err: Error | undefined, argv: readonly string[]): Error {
  if (err !== undefined && err.name !== 'YError') return err;
  const first = argv.find((a) => !a.startsWith('-'));
  const known = first !== undefined && COMMAND_NAMES.includes(first);
  // yargs spreads "Invalid values" over indented lines; one line reads better after "ligo: ".
  let text = (message ?? err?.message ?? 'invalid arguments').split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ');
  if (first !== undefined && !known && text.startsWith('Did you mean')) text = `unknown command "${first}". ${text}`;
  text = unknownArguments(text, argv) ?? text;
  return new UsageError(text, { hint: `see ${known ? `ligo ${first} --help` : 'ligo --help'}` });
}

const camel = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * yargs lists an unknown --foo-bar twice (foo-bar, fooBar) and without dashes; name each once,
 * as typed. `--no-x` reaches yargs as x, so flags are looked up in argv to restore the spelling.
 */
function unknownArguments(text: string, argv: readonly string[]): string | undefined {
  const found = /^Unknown arguments?: (.+)$/.exec(text);
  if (found === null) return undefined;
  const names = found[1].split(', ');
  const unique = names.filter((n) => !names.some((other) => other !== n && camel(other) === n));
  const typed = unique.map((n) => {
    const flag = argv.find((a) => new RegExp(`^--?(no-)?${n.replace(/[^\w-]/g, '')}(=|$)`).test(a));
    return flag === undefined ? `"${n}"` : flag.split('=')[0];
  });
  return `unknown argument${typed.length === 1 ? '' : 's'}: ${typed.join(', ')}`;
}

/**
 * The one place that turns errors into messages and exit codes (exported so that tests driving the
 * library directly, thousands of cases, say what the CLI would).
 */
export function report(thrown: unknown, stderr: NodeJS.WritableStream, env: Record<string, string | undefined>): number {
  const debug = env.LIGO_DEBUG === '1';
  // A disk that is full, a path not ours, too many open files: the machine's doing, said as such.
  const err = thrown instanceof LigoError ? thrown : (systemError(thrown, { openFileLimit }) ?? thrown);
  const message = err instanceof Error ? err.message : String(err);
  stderr.write(`ligo: ${message.split('\n')[0]}\n`);
  if (err instanceof LigoError) {
    if (err.hint) stderr.write(`hint: ${err.hint}\n`);
  } else if (!debug) {
    stderr.write('hint: this looks like a bug in ligo; rerun with LIGO_DEBUG=1 for the stack trace\n');
  }
  if (debug && thrown instanceof Error && thrown.stack) stderr.write(`${thrown.stack}\n`);
  return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
}

/** Runs the CLI on argv (without `node` and the script) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const cli = registerCommands(
    yargs([...argv])
      .scriptName('ligo')
      .usage('$0 <command> [options]\n\nGrow small pretrained transformer checkpoints into larger ones (LiGO).')
      .demandCommand(1, 'name a command: ligo <command>')
      .recommendCommands()
      .strict()
      .help()
      .alias('help', 'h')
      .version(version())
      .wrap(Math.min(110, process.stdout.columns ?? 100))
      .epilogue('Exit codes: 0 success, 1 failure, 2 usage error. LIGO_DEBUG=1 prints stack traces.'),
    { ...io, argv },
  )
    .fail((message, err) => {
      throw usageFailure(message, err, argv);
    })
    .exitProcess(false);
  try {
    // yargs writes --help and --version through console.log; the help text is routed explicitly.
    let help = '';
    await cli.parseAsync([...argv], {}, (_err, _parsed, text) => {
      help = text;
    });
    if (help !== '') io.stdout.write(`${help}\n`);
    return EXIT_OK;
  } catch (err) {
    return report(err, io.stderr, io.env);
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await main(hideBin(process.argv));
}

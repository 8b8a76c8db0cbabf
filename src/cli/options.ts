import type { Argv } from 'yargs';
import { BACKEND_CHOICES, BACKEND_ENV_VAR, WASM_THREADS_ENV_VAR } from '../backend/index.js';
import { MAX_THREADS } from '../arch/limits.js';
import { UsageError } from '../errors.js';

/**
 * Option builders shared by commands (nx's withXOptions): a flag is defined once, with the same
 * name and meaning as the library option it feeds.
 */

/** The parsed arguments a builder produces, for typing a command's handler. */
export type ArgsOf<B> = B extends (y: Argv) => Argv<infer U> ? U : never;

/**
 * A coerce for numeric flags. yargs' `type: 'number'` turns "abc" into NaN, which loses what the
 * user typed; this keeps it for the message. Range checks stay in the library.
 */
export function numberArg(flag: string): (value: unknown) => number {
  return (value) => {
    const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    if (Array.isArray(value)) throw new UsageError(`${flag} was given ${value.length} times; give it once`, { flag });
    if (!Number.isFinite(n)) throw new UsageError(`${flag} expects a number, got ${JSON.stringify(value)}`, { flag, actual: String(value) });
    return n;
  };
}

export function withBackendOption<T>(y: Argv<T>) {
  return y
    .option('backend', {
      type: 'string',
      choices: ['auto', ...BACKEND_CHOICES],
      describe: `tfjs backend; default ${BACKEND_ENV_VAR}, else the fastest installed (tensorflow-gpu, tensorflow, blas: native BLAS on CPU, wasm, cpu)`,
    })
    .option('threads', {
      type: 'number',
      requiresArg: true,
      describe: `threads for matrix products: wasm (default ${WASM_THREADS_ENV_VAR}, else every core) and blas (default: the library's own, e.g. OPENBLAS_NUM_THREADS)`,
      coerce: (n: number) => {
        if (!Number.isInteger(n) || n < 1) throw new UsageError(`--threads: expected a positive integer, got ${n}`, { flag: '--threads' });
        if (n > MAX_THREADS) throw new UsageError(`--threads: ${n} is more than ligo's limit of ${MAX_THREADS.toLocaleString('en-US')} threads`, { flag: '--threads' });
        return n;
      },
    });
}

export function withJsonOption<T>(y: Argv<T>) {
  return y.option('json', {
    type: 'boolean',
    default: false,
    describe: 'print the result as one JSON object on the last line of stdout',
  });
}

export function withQuietOption<T>(y: Argv<T>) {
  return y.option('quiet', {
    alias: 'q',
    type: 'boolean',
    default: false,
    describe: 'no progress or log lines on stderr (errors still print)',
  });
}

/** --json and --quiet: every command that prints a result has both. */
export function withOutputOptions<T>(y: Argv<T>) {
  return withQuietOption(withJsonOption(y));
}

/** How a command words the data flags for its use (the flags themselves are defined once, below). */
export interface DataFlagsText {
  data: string;
  seqLen: string;
  batchSize: string;
  maxTokens: string;
  /** --help group; none for a command whose main input the data is. */
  group?: string;
  /** --data must be given (chain `.demandOption('data')` for the type); else it takes a value when given. */
  required?: boolean;
}

/** --data, --seq-len, --batch-size, --max-tokens: the text and how it is cut into windows, for every command that reads text. */
export function withDataOptions<T>(y: Argv<T>, text: DataFlagsText) {
  const num = (flag: string, describe: string) => ({ coerce: numberArg(flag), requiresArg: true, describe, group: text.group });
  return y
    .option('data', { type: 'string', requiresArg: text.required !== true, demandOption: text.required === true, group: text.group, describe: text.data })
    .option('seq-len', num('--seq-len', text.seqLen))
    .option('max-tokens', num('--max-tokens', text.maxTokens))
    .option('batch-size', num('--batch-size', text.batchSize));
}

/** --token and --hub-url: how to reach the Hub (defaults from HF_TOKEN / the token file and HF_ENDPOINT). */
export function withHubOptions<T>(y: Argv<T>) {
  return y
    .option('token', {
      type: 'string',
      requiresArg: true,
      describe: 'Hugging Face token [default: HF_TOKEN, else $HF_HOME/token from `huggingface-cli login`]; never printed',
    })
    .option('hub-url', {
      type: 'string',
      requiresArg: true,
      describe: 'Hub endpoint [default: HF_ENDPOINT, else https://huggingface.co]',
    });
}

/** The Hub options plus --revision and --offline, for commands whose source may be `owner/name[@revision]`. */
export function withHubSourceOptions<T>(y: Argv<T>) {
  return withHubOptions(y)
    .option('revision', {
      type: 'string',
      requiresArg: true,
      describe: 'branch, tag or commit of a Hub source (same as owner/name@revision) [default: main]',
    })
    .option('offline', {
      type: 'boolean',
      describe: 'use the Hugging Face cache only, as HF_HUB_OFFLINE=1 does',
    });
}

/** Library options from the Hub flags; the environment is the CLI's, so tests can pass their own. */
export function hubConnection(args: { token?: string; hubUrl?: string }, env: Record<string, string | undefined>) {
  return { token: args.token, hubUrl: args.hubUrl, env };
}

/**
 * The library options a command's flags set one for one: yargs names --batch-size `batchSize`,
 * the library option of the same name, so a command's table is the list of those names, and the
 * compiler checks each flag's parsed type against its option's.
 */
export function optionsFrom<O, K extends keyof O>(args: { [P in K]: O[P] }, keys: readonly K[]): Pick<O, K> {
  return Object.fromEntries(keys.map((k) => [k, args[k]])) as Pick<O, K>;
}

/** hubConnection plus what resolveModelSource takes from --revision and --offline. */
export function hubSource(args: { token?: string; hubUrl?: string; revision?: string; offline?: boolean }, env: Record<string, string | undefined>) {
  return { ...hubConnection(args, env), revision: args.revision, offline: args.offline };
}

import type { Argv } from 'yargs';
import { BACKEND_CHOICES, BACKEND_ENV_VAR, WASM_THREADS_ENV_VAR } from '../backend/index.js';
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
      describe: `tfjs backend; default ${BACKEND_ENV_VAR}, else the fastest installed (tensorflow-gpu, tensorflow, wasm, cpu)`,
    })
    .option('threads', {
      type: 'number',
      requiresArg: true,
      describe: `wasm backend: threads for matrix products; default ${WASM_THREADS_ENV_VAR}, else every core`,
      coerce: (n: number) => {
        if (!Number.isInteger(n) || n < 1) throw new UsageError(`--threads: expected a positive integer, got ${n}`, { flag: '--threads' });
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

/** --seq-len, --max-tokens, --batch-size: how a token stream is cut into batches of windows. */
export function withWindowOptions<T>(y: Argv<T>, batchDescription = 'windows per forward pass [default: 8, fewer for large vocabularies]') {
  return y
    .option('seq-len', {
      coerce: numberArg('--seq-len'),
      requiresArg: true,
      describe: "tokens per window [default: min(256, the model's positions)]",
    })
    .option('max-tokens', {
      coerce: numberArg('--max-tokens'),
      requiresArg: true,
      describe: 'use only the first N tokens of the data',
    })
    .option('batch-size', {
      coerce: numberArg('--batch-size'),
      requiresArg: true,
      describe: batchDescription,
    });
}

/** --data (required) plus the window options. */
export function withDataOptions<T>(y: Argv<T>) {
  return withWindowOptions(
    y.option('data', {
      type: 'string',
      demandOption: true,
      describe: 'text file, .jsonl (a "text" field per line) or pre-tokenized .bin (uint16)',
    }),
  );
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

/** hubConnection plus what resolveModelSource takes from --revision and --offline. */
export function hubSource(args: { token?: string; hubUrl?: string; revision?: string; offline?: boolean }, env: Record<string, string | undefined>) {
  return { ...hubConnection(args, env), revision: args.revision, offline: args.offline };
}

import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { PushResult } from '../../hub/index.js';
import { table } from '../format.js';
import { createOutput, type CliIO } from '../output.js';
import { withHubOptions, withOutputOptions, type ArgsOf } from '../options.js';
import { pushWithProgress } from '../push.js';

const builder = (y: Argv) =>
  withHubOptions(withOutputOptions(y))
    .positional('dir', { type: 'string', demandOption: true, describe: 'directory to upload (what ligo grow wrote)' })
    .positional('repo', { type: 'string', demandOption: true, describe: 'Hub model repo, owner/name (created when missing)' })
    .option('private', { type: 'boolean', default: false, describe: 'create the repo private (an existing repo keeps its visibility)' })
    .option('branch', { type: 'string', requiresArg: true, describe: 'branch to commit to, created when missing [default: main]' })
    .option('commit-message', { type: 'string', requiresArg: true, describe: 'commit title [default: "Upload N files with ligo"]' })
    .example('$0 push ./grown alice/grown', 'upload every file of ./grown to alice/grown')
    .example('$0 push ./grown alice/grown --private', 'create the repo private')
    .example('$0 push ./grown alice/grown --json', 'end with {"repo", "commitUrl", "files"}')
    .epilogue(
      [
        'Token: --token, else HF_TOKEN, else $HF_HOME/token (from `huggingface-cli login`);',
        'it needs write access and is never printed.',
        'Endpoint: --hub-url, else HF_ENDPOINT, else https://huggingface.co.',
        'Large files go through LFS. Transient failures (5xx, network) are retried',
        'LIGO_HUB_RETRIES times (default 3), backing off from LIGO_HUB_RETRY_DELAY_MS (1000).',
        'A failed push leaves the directory untouched; running it again completes the upload',
        'without sending again what already arrived.',
      ].join('\n'),
    );

type PushArgs = ArgumentsCamelCase<ArgsOf<typeof builder>>;

/** `ligo push`: the flags mapped to the library call, its progress and result printed. */
async function runPush(args: PushArgs, io: CliIO): Promise<void> {
  const out = createOutput(args, io);
  const result = await pushWithProgress(args.dir, args.repo, args, io, out);
  out.result(result, () => render(result));
}

export const pushCommand = (io: CliIO): CommandModule<object, ArgsOf<typeof builder>> => ({
  command: 'push <dir> <repo>',
  describe: 'Upload a grown model directory to a Hugging Face Hub repo',
  builder,
  handler: (args) => runPush(args, io),
});

function render(r: PushResult): string {
  return table([
    ['repo', r.repo],
    ['branch', r.branch],
    ['commit', r.commitUrl],
    ['files', `${r.files.length}: ${r.files.join(', ')}`],
  ]);
}

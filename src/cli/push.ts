import { HubError } from '../errors.js';
import { requireRepoId, resolveToken, type PushResult } from '../hub/index.js';
import { pushToHub } from '../pipeline/index.js';
import { bytes } from './format.js';
import { hubConnection } from './options.js';
import type { CliIO, Output } from './output.js';

/** What `ligo push` and `ligo grow --push-to-hub` take from the command line besides the directory and repo. */
export interface PushArgs {
  private: boolean;
  branch?: string;
  commitMessage?: string;
  token?: string;
  hubUrl?: string;
}

/** Before a long run that ends in a push: the repo id is valid and a token is there, so the push cannot fail for that after it. */
export async function checkPushable(repo: string, args: PushArgs, io: CliIO): Promise<void> {
  requireRepoId(repo, '--push-to-hub');
  if ((await resolveToken(hubConnection(args, io.env))) === undefined) {
    throw new HubError('--push-to-hub needs a Hugging Face token with write access', { hint: 'pass --token, set HF_TOKEN, or run `huggingface-cli login`' });
  }
}

/** Uploads `dir` to `repo` with a progress bar: the one push of the CLI (push, grow --push-to-hub). */
export async function pushWithProgress(dir: string, repo: string, args: PushArgs, io: CliIO, out: Output): Promise<PushResult> {
  const bar = out.progress('push', 'files');
  try {
    return await pushToHub({
      dir,
      repo,
      private: args.private,
      branch: args.branch,
      commitMessage: args.commitMessage,
      ...hubConnection(args, io.env),
      log: out.log,
      onProgress: (p) => bar.update(p.filesDone, p.filesTotal, `${p.phase}, ${bytes(p.bytesDone)} of ${bytes(p.bytesTotal)}`),
    });
  } finally {
    bar.stop();
  }
}

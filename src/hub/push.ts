import { pathToFileURL } from 'node:url';
import { commitIter, createBranch, createRepo, HubApiError, type CommitOperation, type CommitProgressEvent } from '@huggingface/hub';
import { HubError } from '../errors.js';
import { toHubError } from './failure.js';
import { listLocalFiles, type LocalFile } from './local_files.js';
import { requireRepoId } from '../checkpoint/repo_id.js';
import { withRetries } from './retry.js';
import { hubUrlFrom, retrySettings, type HubConnectionOptions } from './settings.js';
import { resolveToken } from './token.js';

export interface PushOptions extends HubConnectionOptions {
  /** The directory to upload (a grown model); only read, never changed. */
  dir: string;
  /** `owner/name`; created when missing. */
  repo: string;
  /** Create the repo private (an existing repo keeps its visibility). */
  private?: boolean;
  /** Branch to commit to, created from the default branch when missing; default main. */
  branch?: string;
  commitMessage?: string;
  onProgress?: (event: PushProgress) => void;
  /** Files to upload besides the directory's own, decided from its listing (a generated model card). */
  extraFiles?: (local: readonly LocalFile[]) => Promise<ExtraFile[]>;
}

export interface PushProgress {
  phase: 'preuploading' | 'hashing' | 'uploading' | 'committing' | 'done';
  file?: string;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface PushResult {
  repo: string;
  branch: string;
  commitUrl: string;
  commit: string;
  /** Repo paths uploaded, sorted. */
  files: string[];
}

/** A file uploaded besides the directory's own (never written into it), with why, for the log. */
export interface ExtraFile {
  path: string;
  content: Blob;
  reason: string;
}

/** Runs `step`, treating the Hub's 409 (the repo or branch exists already) as success. */
async function existingIsFine(step: () => Promise<unknown>): Promise<boolean> {
  try {
    await step();
    return true;
  } catch (err) {
    if (err instanceof HubApiError && err.statusCode === 409) return false;
    throw err;
  }
}

/**
 * Uploads every file of `dir` to the root of `repo` in one commit (large files through LFS, as
 * @huggingface/hub decides with the Hub), creating the repo and branch when missing. Transient
 * failures are retried; after a failure a new push completes the upload (LFS objects already
 * on the Hub are not sent again).
 */
export async function uploadDirectory(options: PushOptions): Promise<PushResult> {
  const repo = requireRepoId(options.repo);
  const branch = options.branch ?? 'main';
  const hubUrl = hubUrlFrom(options);
  const token = (await resolveToken(options))?.token;
  if (token === undefined) {
    throw new HubError(`pushing to ${repo} needs a Hugging Face token`, {
      hint: 'pass --token, set HF_TOKEN, or run `huggingface-cli login` (it writes $HF_HOME/token); the token needs write access',
    });
  }
  const local = await listLocalFiles(options.dir);
  const extra = (await options.extraFiles?.(local)) ?? [];
  const operations: CommitOperation[] = local.map((f) => ({ operation: 'addOrUpdate', path: f.path, content: pathToFileURL(f.file) }));
  for (const f of extra) {
    operations.push({ operation: 'addOrUpdate', path: f.path, content: f.content });
    options.log?.(f.reason);
  }
  const sizes = new Map(local.map((f) => [f.path, f.size]));
  for (const f of extra) sizes.set(f.path, f.content.size);
  const retry = retrySettings(options);
  const log = options.log;
  const common = {
    hubUrl,
    accessToken: token,
    fetch: withRetries(options.fetch ?? globalThis.fetch, retry, (what, n) => log?.(`hub: ${what}, retry ${n} of ${retry.retries}`)),
  };
  try {
    const created = await existingIsFine(() => createRepo({ repo, visibility: options.private ? 'private' : undefined, ...common }));
    log?.(created ? `created ${repo}${options.private ? ' (private)' : ''}` : `${repo} exists; adding a commit`);
    if (branch !== 'main' && (await existingIsFine(() => createBranch({ repo, branch, ...common })))) log?.(`created branch ${branch}`);
    const progress = tracker(sizes, options.onProgress);
    const iterator = commitIter({
      repo,
      branch,
      operations,
      title: options.commitMessage ?? `Upload ${sizes.size} files with ligo`,
      ...common,
    });
    let step = await iterator.next();
    while (step.done !== true) {
      progress.event(step.value);
      step = await iterator.next();
    }
    const output = step.value;
    if (output === undefined) throw new HubError(`the Hub answered the commit to ${repo} without a commit id`, { url: hubUrl });
    progress.finish();
    return { repo, branch, commitUrl: output.commit.url, commit: output.commit.oid, files: [...sizes.keys()].sort() };
  } catch (err) {
    throw toHubError(err, { action: 'push', ref: { repo, revision: branch === 'main' ? undefined : branch }, hubUrl, attempts: retry.retries + 1 });
  }
}

/** Folds commitIter's events into totals: files done and bytes uploaded, by file size. */
function tracker(sizes: ReadonlyMap<string, number>, onProgress: PushOptions['onProgress']) {
  const uploaded = new Map<string, number>();
  const bytesTotal = [...sizes.values()].reduce((a, b) => a + b, 0);
  const report = (phase: PushProgress['phase'], file?: string): void => {
    let bytesDone = 0;
    let filesDone = 0;
    for (const [p, fraction] of uploaded) {
      bytesDone += (sizes.get(p) ?? 0) * fraction;
      if (fraction >= 1) filesDone++;
    }
    onProgress?.({ phase, file, filesDone, filesTotal: sizes.size, bytesDone: Math.round(bytesDone), bytesTotal });
  };
  return {
    event(e: CommitProgressEvent): void {
      if (e.event === 'phase') {
        report(e.phase === 'uploadingLargeFiles' ? 'uploading' : e.phase);
      } else if (e.state === 'hashing') {
        report('hashing', e.path);
      } else if (e.state === 'uploading') {
        uploaded.set(e.path, Math.min(1, e.progress));
        report('uploading', e.path);
      }
    },
    finish(): void {
      // Small files travel inside the commit request itself: they are done when it is.
      for (const p of sizes.keys()) uploaded.set(p, 1);
      report('done');
    },
  };
}

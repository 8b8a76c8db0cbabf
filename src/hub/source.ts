import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { downloadFileToCacheDir, listFiles, modelInfo } from '@huggingface/hub';
import { CheckpointError, HubError, UsageError } from '../errors.js';
import { cachedCommit, cachedFiles, isCachedFile, repoCacheDir, snapshotDir, writeRef } from './cache.js';
import { toHubError } from './failure.js';
import { selectSourceFiles, shardsOfIndex, type SourceFiles } from './files.js';
import { COMMIT_HASH, describeRef, parseRepoRef, type RepoRef } from '../checkpoint/repo_id.js';
import { withRetries } from './retry.js';
import { hubCacheDir, hubUrlFrom, isOffline, retrySettings, type HubConnectionOptions } from './settings.js';
import { resolveToken } from './token.js';
import { exists } from '../util/exists.js';

export interface ResolveSourceOptions extends HubConnectionOptions {
  /** Branch, tag or commit; `owner/name@revision` says the same. Default main. */
  revision?: string;
  /** Hub cache directory; default $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. */
  cacheDir?: string;
  /** Use the cache only (default: HF_HUB_OFFLINE). */
  offline?: boolean;
  /** Files besides config and weights to fetch when the repo has them; default OPTIONAL_SOURCE_FILES (tokenizer files, README). */
  optionalFiles?: readonly string[];
  /** Called before each file is fetched (or found cached); filesTotal grows once a shard index is read. */
  onProgress?: (event: DownloadProgress) => void;
}

export interface DownloadProgress {
  file: string;
  filesDone: number;
  filesTotal: number;
}

/** A model snapshot in the Hugging Face cache. */
export interface ModelSnapshot {
  /** snapshots/<commit>: a model directory like any other (its files are links into blobs/). */
  dir: string;
  repo: string;
  revision: string;
  commit: string;
  /** The files this call made sure of, in the order fetched. */
  files: string[];
}


/**
 * A model directory for `source`: an existing local path as is; else `owner/name[@revision]`
 * fetched into the Hugging Face cache (only config, tokenizer files, README and safetensors
 * weights) and its snapshot directory returned. Anything else is returned unchanged, so the
 * loader reports the missing directory as it always does.
 */
export async function resolveModelSource(source: string, options: ResolveSourceOptions = {}): Promise<string> {
  if (await exists(source)) return source;
  const ref = parseRepoRef(source);
  if (ref === undefined) return source;
  if (ref.revision !== undefined && options.revision !== undefined && ref.revision !== options.revision) {
    throw new UsageError(`${source} names revision "${ref.revision}" but --revision is "${options.revision}"`, { flag: '--revision' });
  }
  return (await fetchModelSnapshot({ repo: ref.repo, revision: options.revision ?? ref.revision }, options)).dir;
}

/** Fetches (or, offline, finds) the files a model needs from one repo revision. */
export async function fetchModelSnapshot(ref: RepoRef, options: ResolveSourceOptions = {}): Promise<ModelSnapshot> {
  const revision = ref.revision ?? 'main';
  if (!/^[\w./-]+$/.test(revision) || revision.split('/').includes('..')) {
    throw new UsageError(`"${revision}" is not a revision (a branch, tag or commit)`, { flag: '--revision', actual: revision });
  }
  const cacheDir = hubCacheDir(options);
  const where = describeRef({ repo: ref.repo, revision: ref.revision });
  if (isOffline(options)) {
    const snapshot = await offlineSnapshot(ref.repo, revision, cacheDir, where, options.optionalFiles);
    options.log?.(`offline: using ${where} (commit ${snapshot.commit.slice(0, 8)}) from ${snapshot.dir}`);
    return snapshot;
  }
  const hubUrl = hubUrlFrom(options);
  const retry = retrySettings(options);
  const log = options.log;
  const common = {
    hubUrl,
    accessToken: (await resolveToken(options))?.token,
    fetch: withRetries(options.fetch ?? globalThis.fetch, retry, (what, n) => log?.(`hub: ${what}, retry ${n} of ${retry.retries}`)),
  };
  try {
    const info = await modelInfo({ name: ref.repo, revision, additionalFields: ['sha'], ...common });
    const commit = info.sha;
    if (typeof commit !== 'string' || !COMMIT_HASH.test(commit)) throw new HubError(`the Hub gave no commit id for ${where}`, { url: hubUrl });
    log?.(`fetching ${where} (commit ${commit.slice(0, 8)}) into ${repoCacheDir(cacheDir, ref.repo)}`);
    await writeRef(cacheDir, ref.repo, revision, commit);
    const names = new Set<string>();
    // Recursive: an index may keep its shards in a folder (weights/model-00001-of-00002.safetensors).
    for await (const entry of listFiles({ repo: ref.repo, revision: commit, recursive: true, ...common })) {
      if (entry.type === 'file') names.add(entry.path);
    }
    const selection = selectSourceFiles(names, where, false, options.optionalFiles);
    const dir = snapshotDir(cacheDir, ref.repo, commit);
    const fetchOne = (file: string): Promise<string> => downloadFileToCacheDir({ repo: ref.repo, path: file, revision: commit, cacheDir, ...common });
    const files = await withQuietDownloads(() => fetchSelection(selection, dir, where, names, fetchOne, options.onProgress));
    return { dir, repo: ref.repo, revision, commit, files };
  } catch (err) {
    throw toHubError(err, { action: 'read', ref, hubUrl, attempts: retry.retries + 1 });
  }
}

/** Fetches config and optional files, then the weights: the single file, or the index and then its shards. */
async function fetchSelection(
  selection: SourceFiles,
  dir: string,
  where: string,
  available: ReadonlySet<string>,
  fetchOne: (file: string) => Promise<unknown>,
  onProgress: ResolveSourceOptions['onProgress'],
): Promise<string[]> {
  const weights = selection.weights.kind === 'single' ? selection.weights.file : selection.weights.index;
  const queue = [selection.config, ...selection.optional, weights];
  const done: string[] = [];
  for (let i = 0; i < queue.length; i++) {
    const file = queue[i];
    onProgress?.({ file, filesDone: done.length, filesTotal: queue.length });
    await fetchOne(file);
    done.push(file);
    if (selection.weights.kind === 'sharded' && file === selection.weights.index) {
      const shards = shardsOfIndex(await readFile(path.join(dir, file), 'utf8'), `${where}: ${file}`);
      const absent = shards.find((s) => !available.has(s));
      if (absent !== undefined) throw new CheckpointError(`${where}: ${file} lists shard ${absent}, which the repo does not have`, { file: absent });
      queue.push(...shards);
    }
  }
  onProgress?.({ file: '', filesDone: done.length, filesTotal: queue.length });
  return done;
}

async function offlineSnapshot(repo: string, revision: string, cacheDir: string, where: string, optionalFiles?: readonly string[]): Promise<ModelSnapshot> {
  const commit = await cachedCommit(cacheDir, repo, revision, where);
  const dir = snapshotDir(cacheDir, repo, commit);
  const present = await cachedFiles(dir);
  const selection = selectSourceFiles(present, where, true, optionalFiles);
  const files = [selection.config, ...selection.optional];
  if (selection.weights.kind === 'single') {
    files.push(selection.weights.file);
  } else {
    const index = selection.weights.index;
    const shards = shardsOfIndex(await readFile(path.join(dir, index), 'utf8'), `${where}: ${index}`);
    let absent: string | undefined;
    for (const shard of shards) if (absent === undefined && !(await isCachedFile(dir, shard))) absent = shard;
    if (absent !== undefined) {
      throw new CheckpointError(`${absent} of ${where} is not in the Hugging Face cache`, { file: absent, hint: 'run once without HF_HUB_OFFLINE to download it' });
    }
    files.push(index, ...shards);
  }
  return { dir, repo, revision, commit, files };
}

let quieted = 0;
let savedDebug: typeof console.debug | undefined;

/**
 * downloadFileToCacheDir announces each file with console.debug, which Node writes to stdout:
 * the result channel of our CLI (tables, the --json line). We report downloads through
 * onProgress/log instead, so the announcement is muted while our downloads run (counted, so
 * overlapping calls restore it once).
 */
async function withQuietDownloads<T>(run: () => Promise<T>): Promise<T> {
  if (quieted++ === 0) {
    savedDebug = console.debug;
    console.debug = () => undefined;
  }
  try {
    return await run();
  } finally {
    if (--quieted === 0 && savedDebug !== undefined) console.debug = savedDebug;
  }
}

export { resolveModelSource, fetchModelSnapshot, type ResolveSourceOptions, type DownloadProgress, type ModelSnapshot } from './source.js';
export { uploadDirectory, type ExtraFile, type PushOptions, type PushProgress, type PushResult } from './push.js';
export { listLocalFiles, type LocalFile } from './local_files.js';
export { resolveToken, tokenFilePath, type ResolvedToken, type TokenSource } from './token.js';
export {
  DEFAULT_HUB_URL,
  DEFAULT_RETRIES,
  DEFAULT_RETRY_BASE_DELAY_MS,
  hubCacheDir,
  hubUrlFrom,
  isOffline,
  type Env,
  type HubConnectionOptions,
  type RetryOptions,
} from './settings.js';
export { parseRepoRef, requireRepoId, type RepoRef } from '../checkpoint/repo_id.js';
export { OPTIONAL_SOURCE_FILES } from './files.js';

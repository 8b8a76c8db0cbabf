import { fetchModelSnapshot as fetchSnapshot, OPTIONAL_SOURCE_FILES, resolveModelSource as resolveSource, type ModelSnapshot, type RepoRef, type ResolveSourceOptions } from '../hub/index.js';
import { LIGO_FILES } from '../output/files.js';

/** What a source brings from the Hub besides config and weights: tokenizer files, README, and a grown repo's operator and growth.json. */
const SOURCE_FILES: readonly string[] = [...OPTIONAL_SOURCE_FILES, ...LIGO_FILES];

/** hub's resolveModelSource, fetching ligo's files too (a grown repo can be a source, and `apply` reads its operator). */
export function resolveModelSource(source: string, options: ResolveSourceOptions = {}): Promise<string> {
  return resolveSource(source, { optionalFiles: SOURCE_FILES, ...options });
}

/** hub's fetchModelSnapshot, fetching ligo's files too. */
export function fetchModelSnapshot(ref: RepoRef, options: ResolveSourceOptions = {}): Promise<ModelSnapshot> {
  return fetchSnapshot(ref, { optionalFiles: SOURCE_FILES, ...options });
}

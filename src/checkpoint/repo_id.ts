import { UsageError } from '../errors.js';

/** A model repo on the Hub, as `owner/name` plus an optional revision (branch, tag or commit). */
export interface RepoRef {
  repo: string;
  revision?: string;
}

/**
 * Owner and name as the Hub allows them (letters, digits, `-`, `_`, `.`); a revision after `@`
 * may hold `/` (`refs/pr/1`). Canonical one-part ids (`gpt2`) are left out on purpose: a typo
 * in a local directory name must not turn into a network request.
 */
const REPO_REF = /^([A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*)(?:@([\w./-]+))?$/;

/** `owner/name` or `owner/name@revision` as a RepoRef, or undefined when it is not one. */
export function parseRepoRef(text: string): RepoRef | undefined {
  const match = REPO_REF.exec(text);
  if (match === null || match[1].includes('..')) return undefined;
  return match[2] === undefined ? { repo: match[1] } : { repo: match[1], revision: match[2] };
}

/** Like parseRepoRef, for places where only a repo id makes sense (push). */
export function requireRepoId(text: string, flag = 'repo'): string {
  const ref = parseRepoRef(text);
  if (ref === undefined || ref.revision !== undefined) {
    throw new UsageError(`${flag}: "${text}" is not a Hub repo id`, { flag, expected: 'owner/name', actual: text });
  }
  return ref.repo;
}

/** `owner/name@rev`, or `owner/name` on the default branch: how messages name a source. */
export const describeRef = (ref: RepoRef): string => (ref.revision === undefined ? ref.repo : `${ref.repo}@${ref.revision}`);

/** 40 hex digits: a full commit id, which never moves, so the cache can answer without asking. */
export const COMMIT_HASH = /^[0-9a-f]{40}$/;

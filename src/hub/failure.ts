import { HubApiError } from '@huggingface/hub';
import { HubError, LigoError } from '../errors.js';
import { isTransientStatus, isNetworkError, networkCause } from './retry.js';
import { describeRef, type RepoRef } from '../checkpoint/repo_id.js';

/** What we were doing when the Hub failed, for a message that says so in one line. */
export interface FailureContext {
  action: 'read' | 'push';
  ref: RepoRef;
  hubUrl: string;
  /** Attempts made for a transient failure (1 + retries). */
  attempts: number;
}

const TOKEN_SETTINGS = '--token, HF_TOKEN, or `huggingface-cli login`';

/** The Hub's own explanation ("Repository not found"), from the JSON body @huggingface/hub kept. */
function serverSays(err: HubApiError): string {
  const said = err.data?.error ?? err.data?.message;
  return typeof said === 'string' && said.trim() !== '' ? `: ${said.trim().split('\n')[0]}` : '';
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

function fromApiError(err: HubApiError, ctx: FailureContext): HubError {
  const status = err.statusCode;
  const where = describeRef(ctx.ref);
  const http = `HTTP ${status}${serverSays(err)}`;
  const context = { statusCode: status, url: err.url };
  const push = ctx.action === 'push';
  if (status === 401) {
    return new HubError(`authentication failed ${push ? 'pushing to' : 'reading'} ${ctx.ref.repo} (${http})`, {
      ...context,
      hint: push
        ? `pushing needs a token with write access (${TOKEN_SETTINGS}); see https://huggingface.co/settings/tokens`
        : `the repo may be private or gated, or not exist; a token comes from ${TOKEN_SETTINGS}`,
    });
  }
  if (status === 403) {
    const owner = ctx.ref.repo.split('/')[0];
    return new HubError(`no access to ${ctx.ref.repo}${push ? ': the token cannot write there' : ''} (${http})`, {
      ...context,
      hint: push
        ? `use a token with write access to "${owner}" (${TOKEN_SETTINGS})`
        : `gated repos need their conditions accepted on the model page and a token (${TOKEN_SETTINGS})`,
    });
  }
  if (status === 404) {
    return new HubError(`no such repo, revision or file: ${where} on ${ctx.hubUrl} (${http})`, {
      ...context,
      hint: 'check the spelling of owner/name and @revision (a branch, tag or commit)',
    });
  }
  if (isTransientStatus(status)) {
    return new HubError(`the Hub failed with HTTP ${status} at ${pathOf(err.url)} (${ctx.attempts} attempts)`, {
      ...context,
      hint: push ? 'try again later; `ligo push` resumes, files already uploaded are not sent again' : 'try again later',
    });
  }
  return new HubError(`the Hub refused the request for ${where} (${http})`, context);
}

/**
 * Turns what @huggingface/hub or fetch threw into a HubError with one clear line and a hint.
 * Errors of ours pass through unchanged.
 */
export function toHubError(err: unknown, ctx: FailureContext): Error {
  if (err instanceof LigoError) return err;
  if (err instanceof HubApiError) return fromApiError(err, ctx);
  if (isNetworkError(err)) {
    return new HubError(`cannot reach the Hub at ${ctx.hubUrl}: ${networkCause(err)} (${ctx.attempts} attempts)`, {
      url: ctx.hubUrl,
      hint:
        ctx.action === 'push'
          ? 'check the connection and HF_ENDPOINT / --hub-url; re-running `ligo push` resumes the upload'
          : 'check the connection and HF_ENDPOINT / --hub-url; with the files cached, HF_HUB_OFFLINE=1 needs no network',
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new HubError(`unexpected answer from the Hub for ${describeRef(ctx.ref)}: ${message.split('\n')[0]}`, { url: ctx.hubUrl });
}

import { homedir } from 'node:os';
import * as path from 'node:path';
import { UsageError } from '../errors.js';

/** The public Hub; `HF_ENDPOINT` or `--hub-url` point elsewhere (a mirror, a private Hub). */
export const DEFAULT_HUB_URL = 'https://huggingface.co';

/** Environment as a plain map, so tests and the CLI pass their own instead of process.env. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Options every Hub call takes; each falls back to the environment Python's huggingface_hub reads. */
export interface HubConnectionOptions {
  /** Access token; else `HF_TOKEN`, else the file `huggingface-cli login` writes. Never printed. */
  token?: string;
  /** Hub endpoint; else `HF_ENDPOINT`, else https://huggingface.co. */
  hubUrl?: string;
  /** Environment to read `HF_*` variables from (default process.env). */
  env?: Env;
  /** Replaces global fetch (tests, proxies); it is wrapped with retries. */
  fetch?: typeof fetch;
  /** Retries of transient failures (5xx, 429, network); default LIGO_HUB_RETRIES or 3, base delay LIGO_HUB_RETRY_DELAY_MS or 1000. */
  retry?: RetryOptions;
  /** One line per step worth telling (which repo, which commit); never the token. */
  log?: (message: string) => void;
}

export interface RetryOptions {
  /** Retries after the first attempt. */
  retries?: number;
  /** Delay before the first retry; doubled for each later one. */
  baseDelayMs?: number;
}

export const DEFAULT_RETRIES = 3;
export const DEFAULT_RETRY_BASE_DELAY_MS = 1000;

const TRUE_VALUES = ['1', 'on', 'yes', 'true'];

/** huggingface_hub's reading of boolean variables such as HF_HUB_OFFLINE. */
export const envFlag = (value: string | undefined): boolean => value !== undefined && TRUE_VALUES.includes(value.trim().toLowerCase());

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value);

export function hubUrlFrom(options: { hubUrl?: string; env?: Env }): string {
  const env = options.env ?? process.env;
  const url = nonEmpty(options.hubUrl) ?? nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_HUB_URL;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new UsageError(`the Hub URL "${url}" is not an http(s) URL`, { flag: '--hub-url', hint: 'set --hub-url or HF_ENDPOINT to e.g. https://huggingface.co' });
  }
  // The library appends "/api/..." to it; a trailing slash would double it.
  return url.replace(/\/+$/, '');
}

/** `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else ~/.cache/huggingface (as huggingface_hub). */
export function hfHome(env: Env): string {
  return nonEmpty(env.HF_HOME) ?? path.join(nonEmpty(env.XDG_CACHE_HOME) ?? path.join(homedir(), '.cache'), 'huggingface');
}

/** `$HF_HUB_CACHE` (or the older `$HUGGINGFACE_HUB_CACHE`), else `$HF_HOME/hub`: shared with Python. */
export function hubCacheDir(options: { cacheDir?: string; env?: Env }): string {
  const env = options.env ?? process.env;
  return nonEmpty(options.cacheDir) ?? nonEmpty(env.HF_HUB_CACHE) ?? nonEmpty(env.HUGGINGFACE_HUB_CACHE) ?? path.join(hfHome(env), 'hub');
}

export function isOffline(options: { offline?: boolean; env?: Env }): boolean {
  return options.offline ?? envFlag((options.env ?? process.env).HF_HUB_OFFLINE);
}

function envNumber(env: Env, name: string): number | undefined {
  const text = nonEmpty(env[name]);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${name} must be a number >= 0, got "${text}"`, { actual: text });
  return n;
}

export function retrySettings(options: { retry?: RetryOptions; env?: Env }): Required<RetryOptions> {
  const env = options.env ?? process.env;
  return {
    retries: options.retry?.retries ?? envNumber(env, 'LIGO_HUB_RETRIES') ?? DEFAULT_RETRIES,
    baseDelayMs: options.retry?.baseDelayMs ?? envNumber(env, 'LIGO_HUB_RETRY_DELAY_MS') ?? DEFAULT_RETRY_BASE_DELAY_MS,
  };
}

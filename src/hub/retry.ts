import type { RetryOptions } from './settings.js';

/** Answers worth asking again: rate limiting and server-side failures. */
export const isTransientStatus = (status: number): boolean => status === 429 || status >= 500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function isAbort(err: unknown, init: RequestInit | undefined): boolean {
  return init?.signal?.aborted === true || (err instanceof Error && err.name === 'AbortError');
}

/**
 * Wraps fetch so that a transient failure (a 5xx or 429 answer, or a request that never got an
 * answer) is retried after baseDelayMs, 2x, 4x, ... at most `retries` times. After the last try
 * the answer (or the network error) goes to the caller as is, so @huggingface/hub reports it.
 * Bodies the library sends (strings, Blobs over files) can be sent again, which is what makes a
 * retry at this level safe; a retried commit POST re-commits the same content.
 */
export function withRetries(inner: typeof fetch, options: Required<RetryOptions>, onRetry?: (what: string, attempt: number) => void): typeof fetch {
  return async (input, init) => {
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= options.retries;
      let what: string;
      try {
        const res = await inner(input, init);
        if (!isTransientStatus(res.status) || last) return res;
        // Drain the failed answer so its connection can be reused.
        await res.body?.cancel();
        what = `HTTP ${res.status}`;
      } catch (err) {
        if (last || isAbort(err, init)) throw err;
        what = networkCause(err);
      }
      onRetry?.(what, attempt + 1);
      await sleep(options.baseDelayMs * 2 ** attempt);
    }
  };
}

/** "connect ECONNREFUSED 127.0.0.1:1234" from undici's "fetch failed" TypeError and its cause. */
export function networkCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause: unknown = err.cause;
  if (cause instanceof Error && cause.message !== '') return cause.message;
  if (typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string') return cause.code;
  return err.message;
}

/** An error from fetch itself (no HTTP answer): undici throws TypeError("fetch failed") with a cause. */
export function isNetworkError(err: unknown): boolean {
  return err instanceof TypeError && (err.message === 'fetch failed' || err.cause !== undefined);
}

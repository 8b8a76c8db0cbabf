/**
 * Child process for select.test.ts: starts a backend in a fresh process (so no earlier selection
 * or loaded library is reused; LIGO_BACKEND picks it, auto when empty) and prints its name and log
 * lines, or the error's message and hint, as JSON.
 */
import { initBackend } from '../../src/backend/index.js';
import { LigoError } from '../../src/errors.js';

const log: string[] = [];
try {
  const info = await initBackend({ log: (m) => log.push(m) });
  console.log(JSON.stringify({ name: info.name, tried: info.tried.map((t) => t.name), log }));
} catch (err) {
  if (!(err instanceof LigoError)) throw err;
  console.log(JSON.stringify({ error: err.message, hint: err.hint, log }));
}

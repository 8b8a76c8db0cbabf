import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const GOLDEN = path.join(ROOT, 'test/data/golden');
export const GPT2_DIR = path.join(GOLDEN, 'gpt2-prefixed');
export const LLAMA_DIR = path.join(GOLDEN, 'llama-gqa-untied');
export const NEOX_DIR = path.join(GOLDEN, 'gpt-neox-pythia');
export const PHI3_DIR = path.join(GOLDEN, 'phi3-fused');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Runs the CLI in this process (fast: no tsx startup); the exit code is what main returns. */
export async function ligo(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(args, { stdout, stderr, env: { ...process.env, ...env } });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Runs the CLI from source as a child process, so exit codes, streams and env are the real ones. */
export function ligoProcess(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, LIGO_BACKEND: 'wasm', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The last non-empty line of stdout, parsed: the --json contract. */
export function lastJson(run: CliRun): Record<string, unknown> {
  const lines = run.stdout.split('\n').filter((l) => l.trim() !== '');
  const last = lines.at(-1);
  if (last === undefined) throw new Error(`no stdout; stderr was:\n${run.stderr}`);
  const value: unknown = JSON.parse(last);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`not a JSON object: ${last}`);
  return value as Record<string, unknown>;
}

/** Lines of stderr that carry an error ("ligo: ..."). */
export const errorLines = (run: CliRun): string[] => run.stderr.split('\n').filter((l) => l.startsWith('ligo: '));

/** ASCII prose, so that with the byte-level golden tokenizers token ids are exactly the bytes. */
export const SAMPLE_TEXT = [
  'It was the best of times, it was the worst of times, it was the age of wisdom,',
  'it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity,',
  'it was the season of Light, it was the season of Darkness, it was the spring of hope,',
  'it was the winter of despair, we had everything before us, we had nothing before us.',
].join('\n');

export interface TempDir {
  dir: string;
  file(name: string, text: string): Promise<string>;
  remove(): Promise<void>;
}

export async function tempDir(): Promise<TempDir> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ligo-cli-'));
  return {
    dir,
    async file(name, text) {
      const p = path.join(dir, name);
      await writeFile(p, text);
      return p;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

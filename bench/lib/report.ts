/** Shared bits of the benchmarks: statistics, number formatting, tables, the JSON result files. */
import { mkdir, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export const MB = 1e6;
export const GIB = 1024 ** 3;

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return String(n);
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A rate in TFLOP/s, or in GFLOP/s below a tenth of one (a software adapter, a CPU). */
export function fmtRate(gflops: number): string {
  return gflops >= 100 ? `${fmt(gflops / 1000, 2)} TFLOP/s` : `${fmt(gflops, 2)} GFLOP/s`;
}

/** Right-aligned columns except the first, which is left-aligned (row labels). */
export function printTable(rows: readonly (readonly string[])[], log: (line: string) => void = console.log): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  for (const row of rows) log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
}

export function machine(): { node: string; platform: string; cpu: string; memoryGiB: number } {
  return {
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpu: `${os.cpus()[0]?.model ?? 'unknown'} x ${os.cpus().length}`,
    memoryGiB: Math.round((os.totalmem() / GIB) * 10) / 10,
  };
}

export async function writeResult(name: string, report: object): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  return path.relative(process.cwd(), file);
}

/** Value of `--name <value>` on the command line, or the fallback. */
export function argValue(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v ?? fallback;
}

export const hasFlag = (name: string): boolean => process.argv.includes(name);

/** Small formatting helpers for human-readable CLI output. */
import { formatBytes } from '../util/bytes.js';

const GROUPED = new Intl.NumberFormat('en-US');

/** 1234567 -> "1,234,567" */
export const thousands = (n: number): string => GROUPED.format(n);

/** Decimal units, as Hugging Face and --max-shard-size use: 5000000000 -> "5.00 GB". */
export const bytes = (n: number): string => formatBytes(n, 'decimal');

/** Rows of label and value, labels padded to one column. */
export function table(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(0, ...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

/** Rows of cells, every column padded to its widest cell; numeric-looking cells right-aligned. */
export function grid(rows: ReadonlyArray<readonly string[]>): string {
  const columns = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, c) => Math.max(0, ...rows.map((r) => (r[c] ?? '').length)));
  const numeric = /^[\d,.]+( \w+)?$/;
  return rows
    .map((r) =>
      r
        .map((cell, c) => (numeric.test(cell) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

import { UsageError } from '../errors.js';

/** Decimal units like Hugging Face ("5GB" = 5e9), binary ones with an "i" ("1GiB" = 2^30). */
const UNIT_BYTES: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

const SIZE_PATTERN = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)$/i;

function invalid(s: string | number): UsageError {
  return new UsageError(`--max-shard-size: ${JSON.stringify(s)} is not a size`, {
    flag: '--max-shard-size',
    expected: 'a positive size such as 5GB, 500MB, 200KB, 1GiB or a number of bytes',
    actual: String(s),
  });
}

/** Parse a byte size for --max-shard-size; the result is a positive whole number of bytes. */
export function parseSize(s: string | number): number {
  let bytes: number;
  if (typeof s === 'number') {
    bytes = s;
  } else {
    const m = SIZE_PATTERN.exec(s.trim());
    const unit = m ? m[2].toLowerCase() : undefined;
    if (!m || unit === undefined || !Object.prototype.hasOwnProperty.call(UNIT_BYTES, unit)) throw invalid(s);
    // Snap float noise ("1.1GB" may be 1100000000.0000002), then drop fractional bytes as
    // Hugging Face does ("0.1GiB" = 107374182); "0.5B" becomes 0 and is rejected below.
    const exact = Number(m[1]) * UNIT_BYTES[unit];
    const rounded = Math.round(exact);
    bytes = Math.abs(exact - rounded) <= 1e-6 * Math.max(1, rounded) ? rounded : Math.floor(exact);
  }
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw invalid(s);
  return bytes;
}

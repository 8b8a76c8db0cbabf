const SYSTEMS = {
  /** Memory: 1536 -> "1.5 KiB", 3221225472 -> "3.0 GiB". */
  binary: { step: 1024, units: ['B', 'KiB', 'MiB', 'GiB', 'TiB'], digits: 1 },
  /** Files, as Hugging Face and --max-shard-size count them: 5000000000 -> "5.00 GB". */
  decimal: { step: 1000, units: ['B', 'kB', 'MB', 'GB', 'TB'], digits: 2 },
} as const;

/** A byte count in the largest unit of `system` that keeps the value at least 1 (whole bytes below that). */
export function formatBytes(bytes: number, system: keyof typeof SYSTEMS = 'binary'): string {
  const { step, units, digits } = SYSTEMS[system];
  if (!Number.isFinite(bytes) || bytes < 0) return `${bytes} B`;
  let value = bytes;
  let unit = 0;
  while (value >= step && unit < units.length - 1) {
    value /= step;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(digits)} ${units[unit]}`;
}

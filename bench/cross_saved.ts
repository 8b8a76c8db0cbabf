/**
 * Compute saved between two bench:downstream parts (`node --import tsx bench/cross_saved.ts RUN_PART RUN_NAME BASE_PART BASE_NAME`):
 * how much less compute a run of one part (say ligo on the per-group recipe) needs to reach the
 * final held-out loss of a run of another part (say net2net on the single schedule), with
 * src/train/savings.ts's computeSaved. Prints one line per seed found in both parts.
 */
import { readFileSync } from 'node:fs';
import { computeSaved } from '../src/train/savings.js';
import type { CurvePoint } from '../src/train/full.js';

interface PartRun {
  name: string;
  seed: number;
  learnFlops: number;
  stepFlops: number;
  curve: [number, number][] | CurvePoint[];
}

const runsOf = (file: string): PartRun[] => (JSON.parse(readFileSync(file, 'utf8')) as { runs: PartRun[] }).runs;
const points = (c: PartRun['curve']): CurvePoint[] => c.map((p) => (Array.isArray(p) ? { step: p[0], loss: p[1] } : p));

function main(): void {
  const [runFile, runName, baseFile, baseName] = process.argv.slice(2);
  if (!baseName) throw new Error('usage: cross_saved.ts RUN_PART RUN_NAME BASE_PART BASE_NAME');
  for (const run of runsOf(runFile).filter((r) => r.name === runName)) {
    const base = runsOf(baseFile).find((r) => r.name === baseName && r.seed === run.seed);
    if (!base) continue;
    const saved = computeSaved({ ...run, curve: points(run.curve) }, { ...base, curve: points(base.curve) });
    console.log(`seed ${run.seed}: ${runName} saves ${saved === undefined ? 'none (never reaches it)' : `${(100 * saved).toFixed(1)}%`} of ${baseName}'s compute`);
  }
}

main();

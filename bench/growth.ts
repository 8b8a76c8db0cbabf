/**
 * Growth quality benchmark (`npm run bench:growth`): grows the bundled fixture model (a 2-layer,
 * 64-wide byte-level GPT-2 pretrained on fixtures/text/corpus.txt) to 4 layers x 128 with every
 * method through the same code path, and reports the held-out loss right after growth and the
 * LiGO phase's throughput. Prints a table and writes bench/results/growth.json.
 * Options: --steps N (LiGO steps, default 100), --seed S.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLED_FIXTURE } from '../src/fixture.js';
import { GROWTH_METHODS } from '../src/growth/index.js';
import type { GrowthReport } from '../src/output/index.js';
import { grow } from '../src/pipeline/index.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const STEPS = arg('--steps', 100);
const SEED = arg('--seed', 0);
const RESULTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'growth.json');

const work = await mkdtemp(path.join(os.tmpdir(), 'ligo-bench-growth-'));
const rows: { method: string; heldOut: number; atInit: number; source: number; seconds: number; tokensPerSecond: number | null }[] = [];
try {
  for (const method of GROWTH_METHODS) {
    const report: GrowthReport = await grow({
      source: BUNDLED_FIXTURE.model,
      data: BUNDLED_FIXTURE.data,
      ...BUNDLED_FIXTURE.target,
      method,
      steps: STEPS,
      seed: SEED,
      out: path.join(work, method),
      onProgress: (e) => {
        if (e.phase === 'learn' && (e.step % 20 === 0 || e.step === e.steps)) {
          console.error(`  ${method} step ${e.step}/${e.steps} loss ${e.loss.toFixed(3)} ${Math.round(e.tokensPerSecond)} tok/s`);
        }
      },
    });
    const { source, grownAtInit, grown } = report.heldOut;
    rows.push({
      method,
      heldOut: grown ?? NaN,
      atInit: grownAtInit ?? NaN,
      source: source ?? NaN,
      seconds: report.wallSeconds,
      tokensPerSecond: report.learnTokensPerSecond,
    });
    console.error(`${method}: held-out ${grown?.toFixed(4)} (${report.wallSeconds.toFixed(1)} s, ${report.backend})`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

const source = rows[0]?.source ?? NaN;
const header = `fixture ${BUNDLED_FIXTURE.model} (held-out loss ${source.toFixed(4)}) grown to ${JSON.stringify(BUNDLED_FIXTURE.target)}, ${STEPS} LiGO steps, seed ${SEED}`;
const lines = [
  header,
  '',
  '| method | held-out loss after growth | at initialization | LiGO phase tokens/s | wall s |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.method} | ${r.heldOut.toFixed(4)} | ${r.atInit.toFixed(4)} | ${r.tokensPerSecond === null ? '-' : Math.round(r.tokensPerSecond)} | ${r.seconds.toFixed(1)} |`),
];
console.log(lines.join('\n'));
await mkdir(path.dirname(RESULTS), { recursive: true });
await writeFile(RESULTS, `${JSON.stringify({ date: new Date().toISOString(), steps: STEPS, seed: SEED, target: BUNDLED_FIXTURE.target, rows }, null, 2)}\n`);

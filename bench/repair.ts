/**
 * How much of a lossy start's gap the learning phase repairs (`npm run bench:repair`): the bundled
 * fixture (a 2 x 64 byte-level GPT-2 pretrained on fixtures/text/corpus.txt) grown from starts that
 * cannot keep its function, learned for 5, 10 and 20 steps with grow's defaults (or the knobs a
 * recipe sets), and the held-out loss after each against the source's. The source's own text is
 * the default --data, so what is measured is repair, not adaptation to a new text.
 * Prints a table and writes bench/results/repair.json.
 * Options: --data FILE, --steps 5,10,20, --cases copy-1.5x,..., --recipes default,distill (see RECIPES).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { BUNDLED_FIXTURE } from '../src/fixture.js';
import type { GrowthReport } from '../src/output/index.js';
import { grow, type GrowOptions } from '../src/pipeline/index.js';
import { argValue, fmt, printTable, writeResult } from './lib/report.js';

/** Lossy starts of the fixture: what each grows, and why it cannot be exact. */
const CASES: Record<string, Partial<GrowOptions>> = {
  // Units copied unequally: every norm sees another mean and variance.
  'copy-1.5x': { layers: 3, hiddenSize: 96, heads: 6, start: 'copy' },
  'copy-1.25x': { layers: 3, hiddenSize: 80, heads: 5, start: 'copy' },
  // head_dim 16 -> 32 with copied dims: every attention score doubles.
  'head_dim-x2-copy': { layers: 4, hiddenSize: 128, heads: 4, start: 'copy' },
};

/** Learning-phase knobs a row may set over grow's defaults. */
const RECIPES: Record<string, Partial<GrowOptions>> = {
  default: {},
  distill: { distill: 1, lr: 1e-3 },
  batch8: { batchSize: 8 },
};

const list = (name: string, fallback: string): string[] => argValue(name, fallback).split(',');

/** What a run measures, from its command line. */
interface Settings {
  data: string;
  steps: number[];
  cases: string[];
  recipes: string[];
}

interface Row {
  case: string;
  recipe: string;
  source: number;
  atStart: number;
  after: { steps: number; loss: number; recovered: number; seconds: number; keptStep: number }[];
}

async function growOnce(work: string, data: string, name: string, recipe: string, steps: number): Promise<GrowthReport> {
  return grow({ source: BUNDLED_FIXTURE.model, data, ...CASES[name], ...RECIPES[recipe], steps, seed: 0, out: path.join(work, `${name}-${recipe}-${steps}`) });
}

async function measure(work: string, s: Settings, name: string, recipe: string): Promise<Row> {
  const row: Row = { case: name, recipe, source: Number.NaN, atStart: Number.NaN, after: [] };
  for (const steps of s.steps) {
    const r = await growOnce(work, s.data, name, recipe, steps);
    const { source, grownAtInit, grown } = r.heldOut;
    if (source === null || grownAtInit === null || grown === null) throw new Error(`${name}: held-out losses missing`);
    row.source = source;
    row.atStart = grownAtInit;
    const recovered = (grownAtInit - grown) / (grownAtInit - source);
    row.after.push({ steps, loss: grown, recovered, seconds: r.wallSeconds, keptStep: r.learning?.keptStep ?? 0 });
    console.error(`${name} ${recipe} ${steps} steps: ${grownAtInit.toFixed(4)} -> ${grown.toFixed(4)} (source ${source.toFixed(4)}), ${(100 * recovered).toFixed(0)}% of the gap`);
  }
  return row;
}

function printRows(rows: readonly Row[], steps: readonly number[]): void {
  printTable([
    ['start', 'recipe', 'source', 'gap at start', ...steps.map((n) => `gap after ${n}`), `seconds (${steps.at(-1)})`],
    ...rows.map((r) => [r.case, r.recipe, fmt(r.source, 4), fmt(r.atStart - r.source, 4), ...r.after.map((a) => `${fmt(a.loss - r.source, 4)} (${fmt(100 * a.recovered)}%)`), fmt(r.after.at(-1)?.seconds ?? 0, 1)]),
  ]);
}

async function main(): Promise<void> {
  const s: Settings = {
    data: argValue('--data', path.join('fixtures', 'text', 'corpus.txt')),
    steps: list('--steps', '5,10,20').map(Number),
    cases: list('--cases', Object.keys(CASES).join(',')),
    recipes: list('--recipes', 'default'),
  };
  const work = await mkdtemp(path.join(os.tmpdir(), 'ligo-bench-repair-'));
  const rows: Row[] = [];
  try {
    for (const name of s.cases) for (const recipe of s.recipes) rows.push(await measure(work, s, name, recipe));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  printRows(rows, s.steps);
  console.log(`results: ${await writeResult('repair', { data: s.data, steps: s.steps, rows })}`);
}

await main();

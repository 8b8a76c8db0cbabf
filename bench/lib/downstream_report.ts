/**
 * bench:downstream's runs as a result: the per-run metrics (bump, step to reach, compute saved
 * against scratch and net2net of the same seed), the printed tables and the merge of result
 * files made by separate processes. The record of a run is the one bench/results/downstream*.json
 * has always held.
 */
import type { GrowthMethod } from '../../src/growth/plan.js';
import { computeSaved, rewarmBump, stepToReach, type CurvePoint } from '../../src/train/savings.js';
import type { ScheduleName } from './downstream_recipes.js';
import { fmt, printTable } from './report.js';

export interface Run {
  family: string;
  /** The replicate (--seed); absent in runs made before seeds existed (0). */
  seed?: number;
  /** twinDistance() after downstream training. */
  twin?: number;
  target: string;
  name: string;
  method: GrowthMethod | 'scratch';
  schedule: ScheduleName;
  afterGrowth: number;
  learn?: { steps: number; seconds: number; keptStep: number; selection: CurvePoint[]; options: object };
  learnFlops: number;
  stepFlops: number;
  curve: CurvePoint[];
  seconds: number;
}

/** What the tables need of the run's settings. */
export interface ReportShape {
  steps: number;
  evalEvery: number;
  bumpWindow: number;
  batch: number;
  seqLen: number;
}

export interface Metrics {
  final: number;
  bump: number;
  reachScratch?: number;
  vsScratch?: number;
  reachNet2net?: number;
  vsNet2net?: number;
}

const finalOf = (r: Run): number => r.curve[r.curve.length - 1].loss;
const sameSeed = (a: Run, b: Run): boolean => a.family === b.family && a.target === b.target && (a.seed ?? 0) === (b.seed ?? 0);

/** A run against scratch and net2net (on its own schedule) of the same family, target and seed. */
export function metrics(r: Run, runs: readonly Run[], bumpWindow: number): Metrics {
  const scratch = runs.find((x) => sameSeed(x, r) && x.method === 'scratch');
  const net2net = runs.find((x) => sameSeed(x, r) && x.method === 'net2net' && x.schedule === r.schedule);
  return {
    final: finalOf(r),
    bump: rewarmBump(r.curve, bumpWindow),
    reachScratch: scratch ? stepToReach(r.curve, finalOf(scratch)) : undefined,
    vsScratch: scratch ? computeSaved(r, scratch) : undefined,
    reachNet2net: net2net ? stepToReach(r.curve, finalOf(net2net)) : undefined,
    vsNet2net: net2net && r.method !== 'scratch' ? computeSaved(r, net2net) : undefined,
  };
}

const pct = (x: number | undefined): string => (x === undefined ? 'never' : `${fmt(100 * x, 1)}%`);
const stepText = (x: number | undefined): string => (x === undefined ? 'never' : fmt(x, 0));

/** The curve at a few steps (every quarter of the run). */
function curveColumns(shape: ReportShape): number[] {
  return [0.1, 0.25, 0.5, 0.75].map((f) => Math.round((shape.steps * f) / shape.evalEvery) * shape.evalEvery);
}

function runRow(r: Run, runs: readonly Run[], sources: Record<string, { heldOut: number }>, shape: ReportShape, seeded: boolean): string[] {
  const m = metrics(r, runs, shape.bumpWindow);
  const grown = r.method !== 'scratch';
  // The learning phase against the run's own downstream steps (--no-train runs: the steps it would have had).
  const trainedSteps = r.curve[r.curve.length - 1]?.step || shape.steps;
  return [
    `${r.family} ${r.target} ${r.name}${seeded ? ` #${r.seed ?? 0}` : ''}`,
    fmt(sources[r.family].heldOut, 3),
    fmt(r.afterGrowth, 3),
    r.learnFlops > 0 ? `${fmt((100 * r.learnFlops) / (r.stepFlops * trainedSteps), 1)}%` : '',
    fmt(m.bump, 3),
    ...curveColumns(shape).map((s) => fmt(r.curve.find((p) => p.step === s)?.loss ?? Number.NaN, 3)),
    fmt(m.final, 3),
    stepText(m.reachScratch),
    pct(m.vsScratch),
    grown ? stepText(m.reachNet2net) : '',
    grown ? pct(m.vsNet2net) : '',
  ];
}

/** A table as Markdown, for the docs. */
function printMarkdown(rows: readonly (readonly string[])[]): void {
  console.log(['', `| ${rows[0].join(' | ')} |`, `| --- |${rows[0].slice(1).map(() => ' ---: |').join('')}`, ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`)].join('\n'));
}

export function report(runs: readonly Run[], sources: Record<string, { heldOut: number }>, corpus: { bytes: number }, seconds: number, backend: string, shape: ReportShape): void {
  const header = ['run', 'source', 'after growth', 'learning cost', `bump (<=${shape.bumpWindow})`, ...curveColumns(shape).map((s) => `@${s}`), 'final', 'step to scratch final', 'saved vs scratch', 'step to net2net final', 'saved vs net2net'];
  const seeded = new Set(runs.map((r) => r.seed ?? 0)).size > 1;
  const rows = [header, ...runs.map((r) => runRow(r, runs, sources, shape, seeded))];
  console.log(`\nDownstream: nlp-corpus (${fmt(corpus.bytes / 1e6, 1)} MB, byte-level), ${shape.steps} steps of ${shape.batch} x ${shape.seqLen} tokens, held-out loss (nats/token); ${backend}, ${fmt(seconds, 0)} s\n`);
  printTable(rows);
  if (seeded) seedSummary(runs, shape.bumpWindow);
  printMarkdown(rows);
}

/** Mean (min..max) of a statistic over seeds; "never in k of n" when some seeds never got there. */
function stat(xs: (number | undefined)[], scale: number, digits: number): string {
  if (xs.length === 0) return '';
  const never = xs.filter((x) => x === undefined).length;
  if (never > 0) return `never in ${never} of ${xs.length}`;
  const v = (xs as number[]).map((x) => x * scale);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return v.length === 1 ? `${fmt(mean, digits)} (1 seed)` : `${fmt(mean, digits)} (${fmt(Math.min(...v), digits)}..${fmt(Math.max(...v), digits)})`;
}

/**
 * Several replicates (--seed, merged): per run name, the mean and the spread over seeds of the
 * loss after growth, the final loss, and the compute saved against net2net and scratch of the
 * same seed (a seed counts for "saved vs X" only where X ran with that seed).
 */
function seedSummary(runs: readonly Run[], bumpWindow: number): void {
  const groups = new Map<string, Run[]>();
  for (const r of runs) groups.set(`${r.family} ${r.target} ${r.name}`, [...(groups.get(`${r.family} ${r.target} ${r.name}`) ?? []), r]);
  const has = (r: Run, method: Run['method']): boolean => runs.some((x) => x.method === method && sameSeed(x, r) && (method !== 'net2net' || x.schedule === r.schedule));
  const rows = [['run', 'seeds', 'after growth', 'final', 'twin distance', 'saved vs scratch %', 'saved vs net2net %']];
  for (const [key, rs] of groups) {
    const m = rs.map((r) => ({ r, ...metrics(r, runs, bumpWindow) }));
    const method = rs[0].method;
    rows.push([
      key,
      String(rs.length),
      stat(rs.map((r) => r.afterGrowth), 1, 4),
      stat(m.map((x) => x.final), 1, 4),
      rs.every((r) => r.twin !== undefined) ? stat(rs.map((r) => r.twin), 1, 3) : '',
      method === 'scratch' ? '' : stat(m.filter((x) => has(x.r, 'scratch')).map((x) => x.vsScratch), 100, 1),
      method === 'net2net' || method === 'scratch' ? '' : stat(m.filter((x) => has(x.r, 'net2net')).map((x) => x.vsNet2net), 100, 1),
    ]);
  }
  console.log('\nMean (min..max) over seeds:\n');
  printTable(rows);
  printMarkdown(rows);
}

/** Names the schedules had in runs made before the recommendation was chosen. */
const FORMER_SCHEDULE_NAMES: Record<string, ScheduleName> = { gentle: 'lr0.3x', half: 'lr0.5x', 'long-warmup': 'recommended' };

/** A run made under a former schedule name, renamed. */
export function currentScheduleName(r: Run): Run {
  const now = FORMER_SCHEDULE_NAMES[r.schedule as string];
  return now ? { ...r, schedule: now, name: r.name.replace(`/${r.schedule}`, `/${now}`) } : r;
}

/** --rename [file.json:]old=new,...: rows made under another name given the name of the row whose settings they have. */
export function parseRenames(text: string): { scope: string; from: string; to: string }[] {
  return text.split(',').filter((x) => x.includes('=')).map((x) => {
    const [scope, pair] = x.includes(':') ? x.split(':') : ['', x];
    const [from, to] = pair.split('=');
    return { scope, from, to };
  });
}

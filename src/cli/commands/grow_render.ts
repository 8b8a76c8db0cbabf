import type { ModelDims } from '../../arch/dims.js';
import { describeStart } from '../../growth/exact_start.js';
import type { GrowthReport } from '../../output/index.js';
import type { GrowthDryRun } from '../../pipeline/index.js';
import { formatBytes } from '../../util/bytes.js';
import { grid, table, thousands } from '../format.js';
import { formatSeconds } from '../progress.js';

const shape = (d: ModelDims): string =>
  `${d.numLayers} layers x ${d.hiddenSize} wide, ${d.numHeads} heads (${d.numKvHeads} KV) x ${d.headDim}, FFN ${d.intermediateSize}`;

const loss = (v: number | null): string => (v === null ? '-' : v.toFixed(4));
const signed = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;

/** What one operator trains, from the plan's parameter layout: its trained parameters' count and form. */
function trainedBy(plan: GrowthDryRun, operator: string): string {
  const params = plan.operatorParameters.filter((p) => p.operator === operator);
  const count = params.filter((p) => p.trains).reduce((n, p) => n + p.shape[0] * p.shape[1], 0);
  const rank = params.find((p) => p.role === 'correctionU')?.shape[1];
  return `${thousands(count)}${rank === undefined ? '' : ` (selection + rank ${rank})`}`;
}

/** The dry run's line for a lossy start's gap: measured on --data's held-out tokens, or why not. */
function startGapLine(gap: GrowthDryRun['startGap']): string {
  if (!gap) return 'not measured';
  if ('unmeasured' in gap) return gap.unmeasured;
  return `${signed(gap.start - gap.source)} nats: held-out loss ${gap.start.toFixed(4)} at the start against the source's ${gap.source.toFixed(4)} (${thousands(gap.tokens)} tokens of --data)`;
}

export function renderPlan(plan: GrowthDryRun): string {
  const operators = grid([
    ['operator', 'large x small', 'head-aware', 'trains'],
    ...plan.width.map((w) => [w.id, `${w.large} x ${w.small}`, w.heads ? `${w.heads.large} x ${w.heads.small} heads` : '', trainedBy(plan, w.id)]),
    ...plan.depth.map((d) => [d.parameter, `${d.large} x ${d.small}`, '', trainedBy(plan, d.group)]),
  ]);
  return [
    table([
      ['family', plan.family],
      ['method', plan.method],
      ['source', `${shape(plan.source)} (${thousands(plan.parameters.source)} parameters)`],
      ['target', `${shape(plan.target)} (${thousands(plan.parameters.target)} parameters)`],
      ['operator', `${thousands(plan.parameters.operator)} parameters in ${plan.width.length} width and ${plan.depth.length} depth operators`],
      ...(plan.start ? [['start', describeStart(plan.start)] as const] : []),
      ...(plan.start?.exact === false ? [['start gap', startGapLine(plan.startGap)] as const] : []),
      ['tensors', `${plan.tensors.length} to write`],
      ...(plan.learningMemory
        ? [['learning', `about ${formatBytes(plan.learningMemory.totalBytes)} of memory (activations ${formatBytes(plan.learningMemory.activationBytes)})${plan.recompute ? ', layers recomputed in backpropagation to fit' : ''}`] as const]
        : []),
      ...(plan.stepTime ? [['step time', plan.stepTime] as const] : []),
    ]),
    '',
    operators,
  ].join('\n');
}

/**
 * How the learned operator compares with the operator learning started from (copy/split width,
 * identity depth repeats: the function-preserving start), on the same held-out tokens, so a user
 * sees when learning did not help.
 */
export function compareWithStart(r: Pick<GrowthReport, 'steps' | 'heldOut' | 'learning'>): string | undefined {
  const { grownAtInit: start, grown } = r.heldOut;
  if (r.steps === 0 || start === null || grown === null) return undefined;
  const delta = grown - start;
  const diverged = r.learning?.divergedAt === undefined ? '' : `; the loss stopped being finite at step ${r.learning.divergedAt}, so learning stopped there and kept the best operator measured before it (try a smaller --lr)`;
  const kept = r.learning?.keepBest
    ? r.learning.keptStep === 0
      ? '; no learned operator beat the start clearly on the selection tokens, so the start was kept'
      : `; kept the operator of step ${r.learning.keptStep} of ${r.steps} (lowest selection loss clear of noise)`
    : '';
  const verdict = delta < 0 ? 'better than' : delta > 0 ? 'worse than' : 'the same as';
  return `${delta >= 0 ? '+' : ''}${delta.toFixed(4)} vs its starting operator: the learned operator is ${verdict} where learning started${kept}${diverged}`;
}

/**
 * A lossy start's held-out gap to the source, and what learning made of it: "+0.2380 nats at the
 * start, +0.0903 after 20 steps (62% repaired)". Undefined for an exact start or without text.
 */
export function startGap(r: Pick<GrowthReport, 'start' | 'steps' | 'heldOut'>): string | undefined {
  const { source, grownAtInit, grown } = r.heldOut;
  if (r.start?.exact !== false || source === null || grownAtInit === null || grown === null) return undefined;
  const gap = grownAtInit - source;
  const atStart = `${signed(gap)} nats at the start`;
  if (r.steps === 0) return `${atStart} (--steps N learns the operator to repair it)`;
  const repaired = gap > 0 ? ` (${((100 * (grownAtInit - grown)) / gap).toFixed(0)}% repaired)` : '';
  return `${atStart}, ${signed(grown - source)} after ${r.steps} steps${repaired}`;
}

export function renderReport(r: GrowthReport): string {
  return table([
    ['grown', r.out],
    ['method', `${r.method} (${r.init})${r.steps > 0 ? `, ${r.steps} steps on ${r.data ?? '-'}` : ''}`],
    ...(r.start ? [['start', describeStart(r.start)] as const] : []),
    ['source', `${shape(r.sourceDims)} (${thousands(r.parameters.source)} parameters)`],
    ['target', `${shape(r.targetDims)} (${thousands(r.parameters.target)} parameters), ${r.dtype}`],
    ['held-out loss', `source ${loss(r.heldOut.source)}, grown at init ${loss(r.heldOut.grownAtInit)}, grown ${loss(r.heldOut.grown)}`],
    ...(startGap(r) ? [['start gap', startGap(r) ?? ''] as const] : []),
    ...(compareWithStart(r) ? [['learned', compareWithStart(r) ?? ''] as const] : []),
    ...(r.downstream ? [['next', nextLine(r)] as const] : []),
    ['learning', learningLine(r)],
    ['wall time', `${r.wallSeconds.toFixed(1)} s`],
    ['files', r.files.join(', ')],
  ]);
}

/** What the learning phase did: its speed, or that ligo wrote its start (how to learn instead). */
export function learningLine(r: Pick<GrowthReport, 'method' | 'steps' | 'learnTokensPerSecond' | 'backend' | 'learning'>): string {
  if (r.learnTokensPerSecond !== null) return `${thousands(Math.round(r.learnTokensPerSecond))} tokens/s on ${r.backend}${learningDetail(r)}`;
  return r.method === 'ligo' && r.steps === 0 ? 'none: the start as written (--steps N --data FILE learns the operator)' : '-';
}

/** ", 1.2 s per step (low-rank operator, rank 16; layers recomputed)": what a step cost and how it was run. */
function learningDetail(r: Pick<GrowthReport, 'learning'>): string {
  const l = r.learning;
  if (!l || l.secondsPerStep === undefined) return '';
  const form = l.operator?.kind === 'lowrank' ? `low-rank operator, rank ${l.operator.rank}` : 'dense operator';
  return `, ${formatSeconds(l.secondsPerStep)} per step (${form}${l.recompute ? '; layers recomputed' : ''})`;
}

/** The recommended training after growth, one line: per group where something is inherited. */
function nextLine(r: GrowthReport): string {
  const g = r.downstream?.groups;
  if (!g) return 'train further with the from-scratch peak learning rate, warmed up over the first third of the steps (growth.json: downstream)';
  const held = g.sourceLrFrom === 'default' ? 'a tenth of the peak; --source-lr sets it' : g.sourceLrFrom;
  return `train new weights at a peak of ${g.peakLr.toPrecision(2)} (warmed up over the first third), hold inherited ones at ${g.sourceLr.toPrecision(2)} (${held}); which is which: ${r.newParameters?.file ?? 'growth.json'}, PyTorch groups in README.md`;
}

import type { ModelDims } from '../../arch/dims.js';
import type { GrowthReport } from '../../output/index.js';
import type { GrowthDryRun } from '../../pipeline/index.js';
import { formatBytes } from '../../util/bytes.js';
import { grid, table, thousands } from '../format.js';

const shape = (d: ModelDims): string =>
  `${d.numLayers} layers x ${d.hiddenSize} wide, ${d.numHeads} heads (${d.numKvHeads} KV) x ${d.headDim}, FFN ${d.intermediateSize}`;

const loss = (v: number | null): string => (v === null ? '-' : v.toFixed(4));

export function renderPlan(plan: GrowthDryRun): string {
  const operators = grid([
    ['operator', 'large x small', 'head-aware'],
    ...plan.width.map((w) => [w.id, `${w.large} x ${w.small}`, w.heads ? `${w.heads.large} x ${w.heads.small} heads` : '']),
    ...plan.depth.map((d) => [`depth.${d.group}`, `${d.large} x ${d.small}`, '']),
  ]);
  return [
    table([
      ['family', plan.family],
      ['method', plan.method],
      ['source', `${shape(plan.source)} (${thousands(plan.parameters.source)} parameters)`],
      ['target', `${shape(plan.target)} (${thousands(plan.parameters.target)} parameters)`],
      ['operator', `${thousands(plan.parameters.operator)} parameters in ${plan.width.length} width and ${plan.depth.length} depth operators`],
      ['tensors', `${plan.tensors.length} to write`],
      ...(plan.learningMemory ? [['learning', `about ${formatBytes(plan.learningMemory.totalBytes)} of memory (activations ${formatBytes(plan.learningMemory.activationBytes)})`] as const] : []),
    ]),
    '',
    operators,
  ].join('\n');
}

export function renderReport(r: GrowthReport): string {
  return table([
    ['grown', r.out],
    ['method', `${r.method} (${r.init})${r.steps > 0 ? `, ${r.steps} steps on ${r.data ?? '-'}` : ''}`],
    ['source', `${shape(r.sourceDims)} (${thousands(r.parameters.source)} parameters)`],
    ['target', `${shape(r.targetDims)} (${thousands(r.parameters.target)} parameters), ${r.dtype}`],
    ['held-out loss', `source ${loss(r.heldOut.source)}, grown at init ${loss(r.heldOut.grownAtInit)}, grown ${loss(r.heldOut.grown)}`],
    ['learning', r.learnTokensPerSecond === null ? '-' : `${thousands(Math.round(r.learnTokensPerSecond))} tokens/s on ${r.backend}`],
    ['wall time', `${r.wallSeconds.toFixed(1)} s`],
    ['files', r.files.join(', ')],
  ]);
}

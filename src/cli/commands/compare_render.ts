import type { CompareResult } from '../../pipeline/index.js';
import { grid, table } from '../format.js';

const pct = (x: number | null | undefined): string => (x === null || x === undefined ? 'never' : `${(100 * x).toFixed(1)}%`);
const gflop = (flops: number): string => `${(flops / 1e9).toFixed(flops < 1e10 ? 2 : 0)} GFLOP`;

/** Held-out loss of every method at every measured step, one row per step. */
function curveTable(result: CompareResult): string {
  const steps = [...new Set(result.methods.flatMap((m) => m.curve.map(([step]) => step)))].sort((a, b) => a - b);
  const lossAt = (curve: readonly [number, number][], step: number): string => curve.find(([s]) => s === step)?.[1].toFixed(4) ?? '';
  return grid([['step', ...result.methods.map((m) => m.name)], ...steps.map((s) => [String(s), ...result.methods.map((m) => lossAt(m.curve, s))])]);
}

/**
 * Per method: its compute (learning phase included) and how much of each other method's compute
 * it saves to reach that method's final loss.
 */
function savingsTable(result: CompareResult): string {
  const names = result.methods.map((m) => m.name);
  return grid([
    ['method', 'final', 'compute', ...names.map((n) => `saved vs ${n}`)],
    ...result.methods.map((m) => [
      m.name,
      (m.curve.at(-1)?.[1] ?? Number.NaN).toFixed(4),
      gflop(m.flops),
      ...names.map((n) => (n === m.name ? '' : pct(result.saved[m.name]?.[n]))),
    ]),
  ]);
}

export function renderCompare(result: CompareResult, files: readonly string[]): string {
  const { source, target, training } = result;
  return [
    table([
      ['source', `${source.path}: ${source.layers} layers x ${source.hiddenSize}, held-out ${source.heldOut.toFixed(4)}`],
      ['target', `${target.layers} layers x ${target.hiddenSize}`],
      ['data', `${result.data} (held-out loss on ${result.heldOutTokens} tokens, nats/token)`],
      ['training', `${training.steps} steps of ${training.batchSize} x ${training.seqLen} tokens, peak lr ${training.lr.toPrecision(2)}, warmup ${training.warmup.grown} steps (grown) / ${training.warmup.scratch} (random: from scratch)`],
      ['recipe', recipeLine(training)],
      ['backend', `${result.backend}, ${result.seconds.toFixed(0)} s`],
    ]),
    '',
    curveTable(result),
    '',
    savingsTable(result),
    '',
    'saved vs X: 1 - (compute to reach X\'s final loss) / (X\'s compute), learning phase included; "never": it did not get there',
    ...(files.length > 0 ? [`wrote ${files.join(', ')}`] : []),
  ].join('\n');
}

/** How grown models trained: per group (new weights to the peak, inherited ones held) or one schedule. */
function recipeLine(training: CompareResult['training']): string {
  if (training.recipe === 'lemon') return 'lemon: one schedule, cosine decay over the first half of the steps';
  if (training.recipe === 'single') return 'single: one schedule for every weight';
  const s = training.sourceLr;
  const from = s === undefined || s.from === 'default' ? 'a tenth of the peak: the source\'s own rate unknown' : `from ${s.from}`;
  return `split: new weights re-warmed to the peak, inherited ones held at ${s ? s.lr.toPrecision(2) : '?'} (${from})`;
}

import type { OpenedModel } from '../arch/load.js';
import type { DType } from '../checkpoint/dtypes.js';
import { describeDepthInit } from '../growth/init.js';
import { initialSelections } from '../growth/start_selections.js';
import { DENSE_FORM, withOperatorForm, type GrowthPlan } from '../growth/plan.js';
import { newParameters } from '../growth/index.js';
import { freshTensor, tensorSeed } from '../growth/random_init.js';
import { SelectionOperator } from '../growth/stream/selection.js';
import { selectionProducer } from '../growth/stream/stream.js';
import { targetConfig } from '../growth/target.js';
import { writeSelectionOperator } from '../output/operator_file.js';
import type { GrowthReport } from '../output/report.js';
import type { GrownTensor } from '../growth/stream/stream.js';
import { outputDtype, writeGrownModel } from '../output/write.js';
import type { GrowEvent, ResolvedGrowOptions } from './options.js';
import { runReport } from './report.js';
import type { RunSettings } from './run_settings.js';
import { trainingAdvice } from './training_advice.js';

export interface StreamedGrowth {
  options: ResolvedGrowOptions;
  source: OpenedModel;
  plan: GrowthPlan;
  settings: RunSettings;
  backend: string;
  /** performance.now() when the run began. */
  startedAt: number;
  progress: (event: GrowEvent) => void;
}

/**
 * A growth that learns nothing and measures nothing (net2net, stack, interlace, random, and ligo
 * without a learning phase, all without --data), streamed: the grown model is never held whole.
 * Each tensor is built from the source checkpoint as it is written (copies and scalings as
 * gathers, see stream.ts; `random` draws fresh tensors one at a time), so memory stays near one
 * tensor whatever the model's size.
 * Bytes are identical to the in-memory path's (to float32 rounding where the exact start averages:
 * LayerNorm families at a non-integer width, see selection.ts).
 */
export async function growStreamed(run: StreamedGrowth): Promise<GrowthReport> {
  const { options: o, source, plan } = run;
  const { recipe } = run.settings;
  const dtype: DType = outputDtype(o.dtype, source.storageDtype);
  let tensor: (t: GrowthPlan['tensors'][number]) => Promise<GrownTensor>;
  let saveOperator: ((dir: string) => Promise<string>) | undefined;
  let listing = newParameters(plan, undefined);
  if (recipe.depth) {
    // Nothing is learned here, so ligo's operator is its start: a low-rank correction would be
    // zero, and the operator is saved as the selections alone (apply rebuilds the same model).
    const start = withOperatorForm(plan, DENSE_FORM);
    const selections = initialSelections(start, recipe.depth, o.split);
    const selection = new SelectionOperator(start, async (name) => {
      const s = selections.get(name);
      if (!s) throw new Error(`growth plan has no operator matrix "${name}"`);
      return s;
    });
    tensor = selectionProducer(source, start, selection, dtype);
    listing = newParameters(start, selections);
    saveOperator = (dir) => writeSelectionOperator(dir, start, selections, [...source.match.optionalPresent]);
  } else {
    // The in-memory path's seeds (tensorSeed of each tensor's place in the plan), one tensor at a time.
    const order = new Map(plan.tensors.map((t, i) => [t.name, i]));
    tensor = async (t) => freshTensor(t.init, t.shape, tensorSeed(o.seed, order.get(t.name) ?? 0));
  }
  const advice = await trainingAdvice(o, plan, listing, (message) => run.progress({ phase: 'load', message }));
  return writeGrownModel({
    out: o.out,
    overwrite: o.overwrite,
    source: o.source,
    plan,
    config: targetConfig(source.config, source.dims, plan.target, source.description),
    tensor,
    saveOperator,
    sourceDtype: source.storageDtype,
    newParameters: advice.newParameters,
    dtype,
    maxShardSize: o.maxShardSize,
    command: o.command,
    onProgress: (name, done, total) => run.progress({ phase: 'write', tensor: name, done, total }),
    startedAt: run.startedAt,
    report: runReport({
      source: o.sourceLabel ?? o.source,
      method: o.method ?? plan.method,
      init: recipe.depth ? describeDepthInit(recipe.depth, o.split) : 'random',
      backend: run.backend,
      seed: o.seed,
      seqLen: run.settings.seqLen,
      batchSize: o.batchSize,
      lr: o.lr,
      groups: advice.groups,
    }),
  });
}

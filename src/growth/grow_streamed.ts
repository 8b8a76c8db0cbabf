import type { OpenedModel } from '../arch/load.js';
import type { DType } from '../checkpoint/dtypes.js';
import { describeDepthInit } from './init.js';
import type { MethodRecipe } from './methods.js';
import { initialSelections } from './operator.js';
import { writeSelectionOperator } from './operator_file.js';
import type { GrowEvent, GrowOptions } from './options.js';
import type { GrowthPlan } from './plan.js';
import { freshTensor } from './random_init.js';
import { SelectionOperator } from './selection.js';
import { selectionProducer } from './stream.js';
import { targetConfig } from './target.js';
import { outputDtype, writeGrownModel, type GrownTensor, type GrowthReport } from './write.js';

export interface StreamedGrowth {
  options: GrowOptions & { seed: number; seqLen: number; batchSize: number; lr: number; overwrite: boolean };
  source: OpenedModel;
  plan: GrowthPlan;
  recipe: MethodRecipe;
  backend: string;
  /** performance.now() when the run began. */
  startedAt: number;
  progress: (event: GrowEvent) => void;
}

/**
 * A growth that learns nothing and measures nothing (net2net, stack, interlace, random without
 * --data), streamed: the grown model is never held whole. Each tensor is built from the source
 * checkpoint as it is written (copies and scalings as gathers, see stream.ts; `random` draws
 * fresh tensors one at a time), so memory stays near one tensor whatever the model's size.
 * Bytes are identical to the in-memory path's.
 */
export async function growStreamed(run: StreamedGrowth): Promise<GrowthReport> {
  const { options: o, source, plan, recipe } = run;
  const dtype: DType = outputDtype(o.dtype, source.storageDtype);
  let tensor: (t: GrowthPlan['tensors'][number]) => Promise<GrownTensor>;
  let saveOperator: ((dir: string) => Promise<string>) | undefined;
  if (recipe.depth) {
    const selections = initialSelections(plan, recipe.depth);
    const selection = new SelectionOperator(plan, async (name) => {
      const s = selections.get(name);
      if (!s) throw new Error(`growth plan has no operator matrix "${name}"`);
      return s;
    });
    tensor = selectionProducer(source, plan, selection, dtype);
    saveOperator = (dir) => writeSelectionOperator(dir, plan, selections, [...source.match.optionalPresent]);
  } else {
    // The in-memory path seeds tensor i with seed * 7919 + i; the same here, one tensor at a time.
    const order = new Map(plan.tensors.map((t, i) => [t.name, i]));
    tensor = async (t) => freshTensor(t.init, t.shape, o.seed * 7919 + (order.get(t.name) ?? 0));
  }
  return writeGrownModel({
    out: o.out,
    overwrite: o.overwrite,
    source: o.source,
    plan,
    config: targetConfig(source.config, source.dims, plan.target, source.description),
    tensor,
    saveOperator,
    sourceDtype: source.storageDtype,
    dtype,
    maxShardSize: o.maxShardSize,
    command: o.command,
    onProgress: (name, done, total) => run.progress({ phase: 'write', tensor: name, done, total }),
    startedAt: run.startedAt,
    report: {
      source: o.sourceLabel ?? o.source,
      method: o.method ?? plan.method,
      init: recipe.depth ? describeDepthInit(recipe.depth) : 'random',
      steps: 0,
      data: null,
      tokens: 0,
      seed: o.seed,
      backend: run.backend,
      seqLen: Math.min(o.seqLen, source.dims.maxPositions),
      batchSize: o.batchSize,
      lr: o.lr,
      lossFirstStep: null,
      lossLastStep: null,
      heldOut: { source: null, grownAtInit: null, grown: null, tokens: 0 },
      learnTokensPerSecond: null,
    },
  });
}

import { copyFile } from 'node:fs/promises';
import * as path from 'node:path';
import { dimOverLimit, formatLimit, MAX_MODEL_BYTES, modelSize } from '../arch/limits.js';
import { openModel, type OpenedModel } from '../arch/load.js';
import { initBackend } from '../backend/index.js';
import type { DType } from '../checkpoint/dtypes.js';
import { CheckpointError, UsageError } from '../errors.js';
import { formatBytes } from '../util/bytes.js';
import { LazyOperator } from '../growth/lazy_operator.js';
import { materializeTensor } from '../growth/materialize.js';
import { checkOperatorShapes } from '../growth/layout.js';
import { operatorReads } from '../growth/operator_matrices.js';
import type { GrowthPlan } from '../growth/plan.js';
import { SelectionOperator } from '../growth/stream/selection.js';
import { SourceWindow } from '../growth/stream/source_window.js';
import { selectionProducer } from '../growth/stream/stream.js';
import { targetConfig } from '../growth/target.js';
import { NEW_PARAMETERS_FILE, OPERATOR_FILE } from '../output/files.js';
import { readNewParametersFile } from '../output/new_parameters_file.js';
import { openOperator, planForOperator, type OpenedOperator } from '../output/operator_file.js';
import { APPLIED_INIT, type GrowthReport } from '../output/report.js';
import { outputDtype, writeGrownModel } from '../output/write.js';
import type { GrownOutputOptions } from './options.js';
import { checkInputs } from './inputs.js';
import { checkOutputRoom, prepareOutputDir } from './output_dir.js';
import { runReport } from './report.js';
import { trainingAdvice } from './training_advice.js';

export interface ApplyOptions extends GrownOutputOptions {
  /** ligo_operator.safetensors, or a grown directory holding one. */
  operator: string;
}

const DIM_KEYS = ['family', 'vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'numKvHeads', 'headDim', 'intermediateSize'] as const;

/** The saved operator fits only a source of the dimensions it was learned for. */
function checkSourceFits(saved: OpenedOperator, source: OpenedModel, options: ApplyOptions): void {
  for (const key of DIM_KEYS) {
    if (saved.metadata.source[key] !== source.dims[key]) {
      throw new UsageError(
        `--operator: ${options.operator} was learned for a source with ${key} ${saved.metadata.source[key]}, but ${options.source} has ${source.dims[key]}`,
        { flag: '--operator', file: options.operator },
      );
    }
  }
}

/** A saved operator's target past arch/limits.ts (a hostile or damaged file) is refused before it is planned. */
function checkSavedTarget(saved: OpenedOperator, source: OpenedModel, options: ApplyOptions): void {
  const target = saved.metadata.target;
  const over = dimOverLimit(target);
  const size = over === undefined ? modelSize(source.description, target) : undefined;
  if (over === undefined && size !== undefined && size.bytes <= MAX_MODEL_BYTES) return;
  const what = over !== undefined ? `${over.value} ${over.limit.unit}, more than ligo's limit of ${formatLimit(over.limit)}` : `${formatBytes(size?.bytes ?? 0)} of float32 weights, more than ligo's limit of ${formatBytes(MAX_MODEL_BYTES)}`;
  throw new CheckpointError(`--operator: ${options.operator} describes a target of ${what}`, { flag: '--operator', file: options.operator });
}

/**
 * Each grown tensor from the source and the saved operator, streamed. Copy/scale operators
 * (net2net, stack, an unlearned LiGO) are gathered in JS, matrix by matrix from the file; a
 * learned (dense) operator goes through tfjs, holding only the parameters of the tensor being
 * built and one kind of the small model's tensors.
 */
function savedOperatorProducer(source: OpenedModel, plan: GrowthPlan, saved: OpenedOperator, dtype: DType) {
  const selection = new SelectionOperator(plan, saved.readMatrix);
  const dense = new LazyOperator(plan, saved.read, saved.readSelection);
  const held = new SourceWindow(source);
  const produce = selectionProducer(source, plan, selection, dtype, {
    materialize: async (t) => {
      await dense.hold(operatorReads(plan, t));
      await held.hold(t.sources);
      return materializeTensor(t, held.get, dense);
    },
    idle: async () => {
      await held.hold([]);
      await dense.hold([]);
    },
  });
  return {
    produce,
    dispose: (): void => {
      held.dispose();
      dense.dispose();
    },
  };
}

/**
 * What is new in an applied model: the listing of the directory the operator came from (a grown
 * directory: the same plan and start), when it names every tensor of this plan; a bare operator
 * file has none, and a listing that does not fit is left out, said in one line.
 */
async function appliedAdvice(options: ApplyOptions, plan: GrowthPlan, operatorDir: string): Promise<Awaited<ReturnType<typeof trainingAdvice>> | undefined> {
  const log = (message: string): void => options.onProgress?.({ phase: 'load', message });
  const listing = await readNewParametersFile(operatorDir);
  if (listing === undefined) return undefined;
  const fits = !('error' in listing) && plan.tensors.every((t) => listing.tensors[t.name]?.shape.join() === t.shape.join());
  if (!fits) {
    log(`${'error' in listing ? listing.error : `${path.join(operatorDir, NEW_PARAMETERS_FILE)}: does not list this plan's tensors`}; not copied`);
    return undefined;
  }
  return trainingAdvice({ source: options.source, sourceLr: undefined }, plan, listing, log);
}

/** Materializes a saved operator onto a source checkpoint without training, streaming tensor by tensor. */
export async function apply(options: ApplyOptions): Promise<GrowthReport> {
  const started = performance.now();
  await checkInputs({ operator: options.operator, out: options.out });
  const backend = await initBackend({
    backend: options.backend,
    threads: options.threads,
    log: (message) => options.onProgress?.({ phase: 'load', message }),
  });
  await prepareOutputDir(options.out, options.overwrite ?? false, options.onProgress);
  const saved = await openOperator(options.operator);
  let source: OpenedModel | undefined;
  let producer: ReturnType<typeof savedOperatorProducer> | undefined;
  try {
    source = await openModel(options.source);
    checkSourceFits(saved, source, options);
    checkSavedTarget(saved, source, options);
    const plan = planForOperator(source, saved.metadata);
    checkOperatorShapes(plan, saved.shape);
    const dtype = outputDtype(options.dtype, source.storageDtype);
    await checkOutputRoom(options.out, plan, dtype);
    producer = savedOperatorProducer(source, plan, saved, dtype);
    const advice = await appliedAdvice(options, plan, path.dirname(saved.path));
    return await writeGrownModel({
      out: options.out,
      overwrite: options.overwrite ?? false,
      source: options.source,
      plan,
      config: targetConfig(source.config, source.dims, plan.target, source.description),
      tensor: producer.produce,
      saveOperator: async (dir) => {
        await copyFile(saved.path, path.join(dir, OPERATOR_FILE));
        return OPERATOR_FILE;
      },
      sourceDtype: source.storageDtype,
      newParameters: advice?.newParameters,
      dtype,
      maxShardSize: options.maxShardSize,
      onProgress: (tensor, done, total) => options.onProgress?.({ phase: 'write', tensor, done, total }),
      startedAt: started,
      command: options.command,
      report: runReport({
        source: options.sourceLabel ?? options.source,
        method: `${saved.metadata.method} (applied from ${options.operator})`,
        init: APPLIED_INIT,
        backend: backend.name,
        groups: advice?.groups,
      }),
    });
  } finally {
    producer?.dispose();
    await source?.close();
    await saved.file.close();
  }
}

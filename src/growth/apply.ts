import { copyFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { openModel, type OpenedModel } from '../arch/load.js';
import { initBackend } from '../backend/index.js';
import { UsageError } from '../errors.js';
import { materializeTensor } from './materialize.js';
import { LazyOperator } from './lazy_operator.js';
import { checkOperatorShapes, parametersFor } from './operator.js';
import { OPERATOR_FILE, openOperator, planForOperator } from './operator_file.js';
import type { GrownOutputOptions } from './options.js';
import { checkOutputDir } from './output_dir.js';
import { SelectionOperator } from './selection.js';
import { selectionProducer } from './stream.js';
import { targetConfig } from './target.js';
import { outputDtype, writeGrownModel, type GrowthReport } from './write.js';

export interface ApplyOptions extends GrownOutputOptions {
  /** ligo_operator.safetensors, or a grown directory holding one. */
  operator: string;
}

const DIM_KEYS = ['family', 'vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'numKvHeads', 'headDim', 'intermediateSize'] as const;

/**
 * Keeps the small model's tensors of one kind (all its layers) in memory, read on demand. Tensors
 * are written kind by kind, so peak memory is one kind of the small model plus one grown tensor.
 */
class SourceWindow {
  private readonly held = new Map<string, tf.Tensor>();
  constructor(private readonly model: OpenedModel) {}

  async hold(names: readonly string[]): Promise<void> {
    const wanted = new Set(names);
    for (const [name, t] of this.held) {
      if (!wanted.has(name)) {
        t.dispose();
        this.held.delete(name);
      }
    }
    for (const name of names) {
      if (this.held.has(name)) continue;
      const shape = this.model.match.specs.find((s) => s.name === name)?.shape;
      this.held.set(name, tf.tensor(await this.model.readFloat32(name), shape, 'float32'));
    }
  }

  get = (name: string): tf.Tensor => {
    const t = this.held.get(name);
    if (!t) throw new Error(`source tensor "${name}" was not read`);
    return t;
  };

  dispose(): void {
    for (const t of this.held.values()) t.dispose();
    this.held.clear();
  }
}

/** Materializes a saved operator onto a source checkpoint without training, streaming tensor by tensor. */
export async function apply(options: ApplyOptions): Promise<GrowthReport> {
  const started = performance.now();
  const backend = await initBackend({
    backend: options.backend,
    threads: options.threads,
    log: (message) => options.onProgress?.({ phase: 'load', message }),
  });
  await checkOutputDir(options.out, options.overwrite ?? false);
  const saved = await openOperator(options.operator);
  let operator: LazyOperator | undefined;
  let source: OpenedModel | undefined;
  let window: SourceWindow | undefined;
  try {
    source = await openModel(options.source);
    const model = source;
    const held = new SourceWindow(model);
    window = held;
    for (const key of DIM_KEYS) {
      if (saved.metadata.source[key] !== source.dims[key]) {
        throw new UsageError(
          `--operator: ${options.operator} was learned for a source with ${key} ${saved.metadata.source[key]}, but ${options.source} has ${source.dims[key]}`,
          { flag: '--operator', file: options.operator },
        );
      }
    }
    const plan = planForOperator(source, saved.metadata);
    checkOperatorShapes(plan, saved.shape);
    // Copy/scale operators (net2net, stack, an unlearned LiGO) are gathered in JS, matrix by
    // matrix from the file; a learned (dense) operator goes through tfjs, holding only the
    // parameters of the tensor being built.
    const selection = new SelectionOperator(plan, saved.readMatrix);
    const dense = new LazyOperator(plan, saved.read);
    operator = dense;
    const dtype = outputDtype(options.dtype, source.storageDtype);
    const produce = selectionProducer(model, plan, selection, dtype, {
      materialize: async (t) => {
        await dense.hold(parametersFor(plan, t));
        await held.hold(t.sources);
        return materializeTensor(t, held.get, dense);
      },
      idle: async () => {
        await held.hold([]);
        await dense.hold([]);
      },
    });
    return await writeGrownModel({
      out: options.out,
      overwrite: options.overwrite ?? false,
      source: options.source,
      plan,
      config: targetConfig(source.config, source.dims, plan.target, source.description),
      tensor: produce,
      saveOperator: async (dir) => {
        await copyFile(saved.path, path.join(dir, OPERATOR_FILE));
        return OPERATOR_FILE;
      },
      sourceDtype: source.storageDtype,
      dtype,
      maxShardSize: options.maxShardSize,
      onProgress: (tensor, done, total) => options.onProgress?.({ phase: 'write', tensor, done, total }),
      startedAt: started,
      command: options.command,
      report: {
        source: options.sourceLabel ?? options.source,
        method: `${saved.metadata.method} (applied from ${options.operator})`,
        init: 'saved operator',
        steps: 0,
        data: null,
        tokens: 0,
        seed: 0,
        backend: backend.name,
        seqLen: 0,
        batchSize: 0,
        lr: 0,
        lossFirstStep: null,
        lossLastStep: null,
        heldOut: { source: null, grownAtInit: null, grown: null, tokens: 0 },
        learnTokensPerSecond: null,
      },
    });
  } finally {
    window?.dispose();
    operator?.dispose();
    await source?.close();
    await saved.file.close();
  }
}

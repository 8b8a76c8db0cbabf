import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { copyAuxiliaryFiles, createCheckpointWriter } from '../checkpoint/index.js';
import { decodeToFloat32, DTYPE_BYTES, encodeFromFloat32, type DType } from '../checkpoint/dtypes.js';
import type { GrowthPlan, PlannedTensor } from '../growth/plan.js';
import type { GrownTensor } from '../growth/stream/stream.js';
import type { NewParameters } from '../growth/index.js';
import { CONFIG_FILE, NEW_PARAMETERS_FILE, README_FILE, REPORT_FILE } from './files.js';
import { newParametersSummary, renderNewParametersFile } from './new_parameters_file.js';
import { readLicense, renderModelCard } from './model_card.js';
import { writeAtomically } from './output_dir.js';
import type { GrowthReport, GrowthRunInfo } from './report.js';

const WRITABLE: readonly DType[] = ['F32', 'F16', 'BF16'];

/** --dtype if given, else the source's float dtype when we can write it, else F32. */
export function outputDtype(requested: DType | undefined, source: DType): DType {
  return requested ?? (WRITABLE.includes(source) ? source : 'F32');
}

/** Rounds float32 tensors to what `dtype` can represent, so what we measure is what we write. */
export async function roundToDtype(weights: Map<string, tf.Tensor>, dtype: DType): Promise<Map<string, tf.Tensor>> {
  if (dtype !== 'F16' && dtype !== 'BF16') return weights;
  const rounded = new Map<string, tf.Tensor>();
  for (const [name, t] of weights) {
    const values = decodeToFloat32(encodeFromFloat32((await t.data()) as Float32Array, dtype), dtype);
    rounded.set(name, tf.tensor(values, t.shape, 'float32'));
    t.dispose();
  }
  return rounded;
}

/** The grown model's weights at `dtype`: the output's bulk, from the plan's parameter count. */
export const weightBytes = (plan: Pick<GrowthPlan, 'parameters'>, dtype: DType): number => plan.parameters.target * DTYPE_BYTES[dtype];

const isTfTensor = (t: GrownTensor): t is tf.Tensor => t instanceof tf.Tensor;

export interface WriteGrownModelOptions {
  out: string;
  overwrite: boolean;
  source: string;
  plan: GrowthPlan;
  config: Record<string, unknown>;
  /**
   * Produces one grown tensor (a tf.Tensor is the caller's to dispose after writing; a Uint8Array is
   * raw little-endian bytes of the output dtype, a ChunkStream the same bytes in pieces built as
   * they are written); called in plan order, the next one while the previous one is being written.
   */
  tensor: (planned: PlannedTensor) => Promise<GrownTensor>;
  /** Writes ligo_operator.safetensors (or copies a saved one) into the output directory; returns its file name. */
  saveOperator?: (dir: string) => Promise<string>;
  sourceDtype: DType;
  /** Which weights are new: written as ligo_new_parameters.json, summarized in growth.json. */
  newParameters?: NewParameters;
  dtype?: DType;
  maxShardSize?: number;
  report: Omit<GrowthRunInfo, 'wallSeconds'>;
  /** performance.now() when the run began, for wallSeconds. */
  startedAt: number;
  /** The command line that reproduces this model, for the model card. */
  command?: string;
  onProgress?: (tensor: string, done: number, total: number) => void;
}

/** Writes config, weights, tokenizer files, the operator and growth.json into --out, atomically. */
export async function writeGrownModel(options: WriteGrownModelOptions): Promise<GrowthReport> {
  const { plan } = options;
  const dtype = outputDtype(options.dtype, options.sourceDtype);
  // The weights: the output's bulk, what a disk that fills up is told it needed.
  const bytesNeeded = weightBytes(plan, dtype);
  return writeAtomically(options.out, options.overwrite, async (dir) => {
    const writer = await createCheckpointWriter(
      dir,
      plan.tensors.map((t) => ({ name: t.name, dtype, shape: t.shape })),
      { maxShardSize: options.maxShardSize },
    );
    let done = 0;
    const writeOne = async (t: PlannedTensor, tensor: GrownTensor): Promise<void> => {
      if (!isTfTensor(tensor)) await writer.write(t.name, tensor);
      else {
        try {
          await writer.write(t.name, (await tensor.data()) as Float32Array);
        } finally {
          tensor.dispose();
        }
      }
      options.onProgress?.(t.name, ++done, plan.tensors.length);
    };
    try {
      // One tensor of lookahead: tensor i+1 is produced while tensor i's bytes go to the file, so at
      // most two grown tensors are held at once.
      let writing: Promise<void> = Promise.resolve();
      for (const t of plan.tensors) {
        let tensor: GrownTensor;
        try {
          tensor = await options.tensor(t);
        } catch (error) {
          await writing.catch(() => undefined);
          throw error;
        }
        try {
          await writing;
        } catch (error) {
          if (isTfTensor(tensor)) tensor.dispose();
          throw error;
        }
        writing = writeOne(t, tensor);
        // Its failure is rethrown by the next `await writing`; until then it must not count as unhandled.
        writing.catch(() => undefined);
      }
      await writing;
      await writer.close();
    } catch (error) {
      await writer.abort();
      throw error;
    }
    const config = { ...options.config, torch_dtype: torchDtype(dtype) };
    await writeFile(path.join(dir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
    const auxiliary = await copyAuxiliaryFiles(options.source, dir);
    const operatorFiles = options.saveOperator ? [await options.saveOperator(dir)] : [];
    const np = options.newParameters;
    if (np) await writeFile(path.join(dir, NEW_PARAMETERS_FILE), renderNewParametersFile(np));
    const report: GrowthReport = {
      ...options.report,
      wallSeconds: (performance.now() - options.startedAt) / 1000,
      out: options.out,
      family: plan.family,
      sourceDims: plan.source,
      targetDims: plan.target,
      parameters: plan.parameters,
      ...(plan.start ? { start: plan.start } : {}),
      ...(np ? { newParameters: newParametersSummary(np) } : {}),
      dtype,
      files: [CONFIG_FILE, ...writer.files, ...auxiliary, ...operatorFiles, ...(np ? [NEW_PARAMETERS_FILE] : []), README_FILE, REPORT_FILE].sort(),
    };
    const card = renderModelCard(report, { baseModel: options.report.source, sourceDir: options.source, license: await readLicense(options.source), command: options.command });
    await writeFile(path.join(dir, README_FILE), card);
    await writeFile(path.join(dir, REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
    return report;
  }, { bytesNeeded });
}

const TORCH_DTYPES: Partial<Record<DType, string>> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

export function torchDtype(dtype: DType): string {
  return TORCH_DTYPES[dtype] ?? 'float32';
}

import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { CheckpointError } from '../errors.js';
import * as tf from '@tensorflow/tfjs-core';
import { CONFIG_FILE, openCheckpoint, readConfig, type CheckpointReader } from '../checkpoint/index.js';
import { isFloatDType, type DType } from '../checkpoint/dtypes.js';
import type { ModelDims } from './dims.js';
import { matchCheckpoint, type CheckpointMatch } from './match.js';
import { resolveArchitecture } from './resolve.js';
import type { ArchitectureDescription } from './types.js';
import { mapGetter } from '../util/map_getter.js';

/** What is known of a model directory once config.json and the tensor headers are checked. */
export interface ModelHeader {
  dir: string;
  config: Record<string, unknown>;
  description: ArchitectureDescription;
  dims: ModelDims;
  match: CheckpointMatch;
  /** The float dtype most of the weights are stored in; grown models are written in it by default. */
  storageDtype: DType;
}

/** A checkpoint directory opened and checked against its architecture; tensors are read on demand. */
export interface OpenedModel extends ModelHeader {
  reader: CheckpointReader;
  /** Reads one tensor by canonical name as float32. */
  readFloat32(name: string): Promise<Float32Array>;
  close(): Promise<void>;
}

function storageDtype(reader: CheckpointReader, match: CheckpointMatch): DType {
  const counts = new Map<DType, number>();
  for (const source of match.sourceNames.values()) {
    const dtype = reader.entries.get(source)?.dtype;
    if (dtype && isFloatDType(dtype)) counts.set(dtype, (counts.get(dtype) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'F32';
}

export async function openModel(dir: string): Promise<OpenedModel> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new CheckpointError(`${dir}: ${info ? 'not a directory' : 'no such model directory'}`, {
      file: dir,
      hint: 'pass a directory with config.json and safetensors weights',
    });
  }
  const config = await readConfig(dir);
  const { description, dims } = resolveArchitecture(config, path.join(dir, CONFIG_FILE));
  const reader = await openCheckpoint(dir);
  try {
    const match = matchCheckpoint(description, dims, reader.entries, path.join(dir, reader.files.length === 1 ? reader.files[0] : 'model.safetensors.index.json'));
    return {
      dir,
      config,
      description,
      dims,
      match,
      storageDtype: storageDtype(reader, match),
      reader,
      readFloat32: (name) => {
        const source = match.sourceNames.get(name);
        if (source === undefined) throw new Error(`no tensor "${name}" in ${dir}`);
        return reader.readFloat32(source);
      },
      close: () => reader.close(),
    };
  } catch (error) {
    await reader.close();
    throw error;
  }
}

/** A model held in memory as float32 tfjs tensors keyed by canonical name. */
export interface LoadedModel extends ModelHeader {
  weights: Map<string, tf.Tensor>;
  /** The tensor of a canonical name; throws if there is none (the forward passes' `Weights`). */
  weight(name: string): tf.Tensor;
  dispose(): void;
}

export async function loadModel(dir: string): Promise<LoadedModel> {
  const opened = await openModel(dir);
  const weights = new Map<string, tf.Tensor>();
  try {
    for (const spec of opened.match.specs) {
      weights.set(spec.name, tf.tensor(await opened.readFloat32(spec.name), spec.shape, 'float32'));
    }
  } catch (error) {
    for (const t of weights.values()) t.dispose();
    throw error;
  } finally {
    await opened.close();
  }
  const { config, description, dims, match, storageDtype } = opened;
  const weight = mapGetter(weights, (name) => new Error(`${dir} has no tensor "${name}"`));
  return { dir, config, description, dims, match, storageDtype, weights, weight, dispose: () => weights.forEach((t) => t.dispose()) };
}

import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { Family, ModelDims } from '../arch/dims.js';
import { openModel, type OpenedModel } from '../arch/load.js';
import { parameterCount } from '../arch/spec.js';

export interface ShardInfo {
  /** File name relative to the model directory. */
  file: string;
  /** Size on disk, header included. */
  bytes: number;
  tensors: number;
}

export interface TensorInfo {
  /** Canonical name (what ligo and Hugging Face's current code call it). */
  name: string;
  /** Name in the file, when a legacy alias differs. */
  storedName?: string;
  dtype: string;
  shape: number[];
  file: string;
}

/** What `ligo inspect` reports; plain data, JSON-serializable. */
export interface ModelInspection {
  dir: string;
  family: Family;
  modelType: string;
  /** config.json `architectures`, e.g. ["GPT2LMHeadModel"]. */
  architectures: string[];
  dims: ModelDims;
  /** Parameters of the model's tensors, tied copies counted once, ignored buffers not at all. */
  parameters: number;
  /** Stored tensors per dtype, ignored buffers included. */
  dtypes: Record<string, number>;
  files: ShardInfo[];
  /** Sum of the files' sizes on disk. */
  totalBytes: number;
  tiedEmbeddings: boolean;
  /**
   * config.json's `hidden_act` / `activation_function` when it names another activation than the
   * one that runs (Gemma runs `hidden_activation`, defaulting to the tanh gelu); else absent.
   */
  configActivation?: string;
  /** Optional tensors this checkpoint carries (BERT pooler, NSP head). */
  optionalTensors: string[];
  /** Buffers and tied copies in the files that ligo skips (causal masks, position ids). */
  ignoredTensors: string[];
  tensors?: TensorInfo[];
}

export interface InspectOptions {
  /** List every tensor with dtype, shape and file. */
  tensors?: boolean;
}

/** Reads config.json and the safetensors headers only: no tensor data, so any size is quick. */
export async function inspectModel(dir: string, options: InspectOptions = {}): Promise<ModelInspection> {
  const model = await openModel(dir);
  try {
    const { reader, match, dims, config } = model;
    const dtypes: Record<string, number> = {};
    const perFile = new Map<string, number>();
    for (const entry of reader.entries.values()) {
      dtypes[entry.dtype] = (dtypes[entry.dtype] ?? 0) + 1;
      perFile.set(entry.file, (perFile.get(entry.file) ?? 0) + 1);
    }
    const files: ShardInfo[] = [];
    for (const file of reader.files) {
      const full = path.join(dir, file);
      files.push({ file, bytes: (await stat(full)).size, tensors: perFile.get(full) ?? 0 });
    }
    const architectures = Array.isArray(config.architectures)
      ? config.architectures.filter((a): a is string => typeof a === 'string')
      : [];
    const inspection: ModelInspection = {
      dir,
      family: dims.family,
      modelType: dims.modelType,
      architectures,
      dims,
      parameters: parameterCount(match.specs),
      dtypes,
      files,
      totalBytes: files.reduce((sum, f) => sum + f.bytes, 0),
      tiedEmbeddings: dims.tiedEmbeddings,
      ...configActivation(config, dims.activation),
      optionalTensors: [...match.optionalPresent],
      ignoredTensors: match.ignored,
    };
    if (options.tensors) inspection.tensors = tensorList(model);
    return inspection;
  } finally {
    await model.close();
  }
}

function configActivation(config: Record<string, unknown>, used: string): { configActivation?: string } {
  const named = config.hidden_act ?? config.activation_function;
  return typeof named === 'string' && named !== used ? { configActivation: named } : {};
}

function tensorList(model: OpenedModel): TensorInfo[] {
  const out: TensorInfo[] = [];
  for (const spec of model.match.specs) {
    const stored = model.match.sourceNames.get(spec.name) ?? spec.name;
    const entry = model.reader.entries.get(stored);
    if (entry === undefined) continue;
    out.push({
      name: spec.name,
      ...(stored === spec.name ? {} : { storedName: stored }),
      dtype: entry.dtype,
      shape: entry.shape,
      file: path.basename(entry.file),
    });
  }
  return out;
}

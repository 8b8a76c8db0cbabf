import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { SafetensorsFile, serializeSafetensors } from '../checkpoint/index.js';
import { encodeFromFloat32 } from '../checkpoint/dtypes.js';
import type { ModelDims } from '../arch/dims.js';
import { CheckpointError } from '../errors.js';
import type { GrowthOperator } from './operator.js';

export const OPERATOR_FILE = 'ligo_operator.safetensors';

/** What `apply` needs besides the matrices to rebuild the plan the operator was trained for. */
export interface OperatorMetadata {
  family: string;
  method: string;
  source: ModelDims;
  target: ModelDims;
  optionalPresent: string[];
}

export async function writeOperator(dir: string, operator: GrowthOperator, optionalPresent: readonly string[] = []): Promise<string> {
  const arrays = await operator.toArrays();
  const metadata: Record<string, string> = {
    ligo_family: operator.plan.family,
    ligo_method: operator.plan.method,
    ligo_source: JSON.stringify(operator.plan.source),
    ligo_target: JSON.stringify(operator.plan.target),
    ligo_optional: JSON.stringify(optionalPresent),
  };
  const bytes = serializeSafetensors(
    arrays.map((a) => ({ name: a.name, dtype: 'F32', shape: a.shape, data: encodeFromFloat32(a.data, 'F32') })),
    metadata,
  );
  await writeFile(path.join(dir, OPERATOR_FILE), bytes);
  return OPERATOR_FILE;
}

export async function readOperator(fileOrDir: string): Promise<{ metadata: OperatorMetadata; tensors: Map<string, { data: Float32Array; shape: number[] }> }> {
  const file = fileOrDir.endsWith('.safetensors') ? fileOrDir : path.join(fileOrDir, OPERATOR_FILE);
  const st = await SafetensorsFile.open(file);
  try {
    const meta = st.metadata ?? {};
    const field = (key: string): string => {
      const value = meta[key];
      if (value === undefined) throw new CheckpointError(`${file}: not a ligo operator (no "${key}" in __metadata__)`, { file });
      return value;
    };
    const metadata: OperatorMetadata = {
      family: field('ligo_family'),
      method: field('ligo_method'),
      source: JSON.parse(field('ligo_source')) as ModelDims,
      target: JSON.parse(field('ligo_target')) as ModelDims,
      optionalPresent: JSON.parse(meta.ligo_optional ?? '[]') as string[],
    };
    const tensors = new Map<string, { data: Float32Array; shape: number[] }>();
    for (const [name, entry] of st.entries) tensors.set(name, { data: await st.readFloat32(name), shape: entry.shape });
    return { metadata, tensors };
  } finally {
    await st.close();
  }
}

import { CONFIG_FILE } from '../checkpoint/model_dir.js';
import { CheckpointError, UnsupportedError } from '../errors.js';
import { bert } from './bert.js';
import { rotaryDims, type Family, type ModelDims } from './dims.js';
import { gemma } from './gemma.js';
import { gpt2 } from './gpt2.js';
import { gptNeox } from './gpt_neox.js';
import { dimOverLimit, formatLimit, MAX_MODEL_BYTES, modelSize } from './limits.js';
import { llama } from './llama.js';
import { phi3 } from './phi3.js';
import type { ArchitectureDescription } from './types.js';
import { formatBytes } from '../util/bytes.js';

export const ARCHITECTURES: readonly ArchitectureDescription[] = [gpt2, bert, llama, gemma, gptNeox, phi3];

/** The description of a family (every Family has exactly one; test/arch/families.test.ts checks). */
export function descriptionOf(family: Family): ArchitectureDescription {
  const description = ARCHITECTURES.find((a) => a.family === family);
  if (description === undefined) throw new Error(`no architecture description for family "${family}"`);
  return description;
}

export const SUPPORTED_MODEL_TYPES: readonly string[] = ARCHITECTURES.flatMap((a) => a.modelTypes);

export interface ResolvedArchitecture {
  description: ArchitectureDescription;
  dims: ModelDims;
}

/** config.json -> the family description and normalized dimensions, with consistency checks. */
export function resolveArchitecture(config: Record<string, unknown>, file = CONFIG_FILE): ResolvedArchitecture {
  const modelType = config.model_type;
  if (typeof modelType !== 'string') {
    throw new CheckpointError(`${file}: missing "model_type" (expected one of ${SUPPORTED_MODEL_TYPES.join(', ')})`, { file });
  }
  const description = ARCHITECTURES.find((a) => a.modelTypes.includes(modelType));
  if (!description) {
    throw new UnsupportedError(`${file}: model_type "${modelType}" is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`, {
      file,
      actual: modelType,
    });
  }
  const dims = description.readDims(config, file);
  checkConfigLimits(description, dims, file);
  checkDims(dims, file);
  return { description, dims };
}

/**
 * A config.json past arch/limits.ts is refused before anything is built from it (a checkpoint's
 * tensor list, a plan), naming the field that set the dimension.
 */
function checkConfigLimits(description: ArchitectureDescription, dims: ModelDims, file: string): void {
  const over = dimOverLimit(dims);
  if (over !== undefined) {
    const field = description.configFields[over.key];
    const what = field === undefined ? `${over.value} ${over.limit.unit} (derived)` : `field "${field}" is ${over.value}`;
    throw new CheckpointError(`${file}: ${what}, more than ligo's limit of ${formatLimit(over.limit)}`, {
      file,
      expected: `at most ${over.limit.max}`,
      actual: String(over.value),
    });
  }
  const size = modelSize(description, dims);
  if (size.bytes > MAX_MODEL_BYTES) {
    throw new CheckpointError(
      `${file}: ${size.parameters.toExponential(2)} parameters (${formatBytes(size.bytes)} at float32), more than ligo's limit of ${formatBytes(MAX_MODEL_BYTES)}`,
      { file },
    );
  }
}

/** Shape rules every family shares; violations name the config fields involved. */
export function checkDims(dims: ModelDims, file: string): void {
  const fail = (message: string): never => {
    throw new CheckpointError(`${file}: ${message}`, { file });
  };
  if (!Number.isInteger(dims.headDim) || dims.headDim <= 0) {
    fail(`hidden size ${dims.hiddenSize} is not divisible by ${dims.numHeads} attention heads`);
  }
  if (dims.numHeads % dims.numKvHeads !== 0) {
    fail(`${dims.numHeads} attention heads are not divisible by ${dims.numKvHeads} key/value heads`);
  }
  if (dims.rotary && dims.headDim % 2 !== 0) {
    fail(`head_dim ${dims.headDim} is odd; RoPE rotates pairs of dimensions and needs an even head_dim`);
  }
  const rotated = rotaryDims(dims);
  if (dims.rotary && (rotated < 2 || rotated % 2 !== 0)) {
    fail(`RoPE would rotate ${rotated} of head_dim ${dims.headDim} (partial rotary ${dims.partialRotary}); it needs an even number, at least 2`);
  }
}

import { UnsupportedError, UsageError } from '../errors.js';
import { checkDims } from '../arch/resolve.js';
import { rotaryDims, type ModelDims } from '../arch/dims.js';
import { DIM_LIMITS, dimOverLimit, formatLimit, MAX_MODEL_BYTES, modelSize } from '../arch/limits.js';
import { formatBytes } from '../util/bytes.js';
import type { ArchitectureDescription } from '../arch/types.js';

/** Target dimensions a user may ask for; unspecified ones scale with the source. */
export interface TargetOptions {
  layers?: number;
  hiddenSize?: number;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  intermediateSize?: number;
}

const FLAGS: Record<keyof TargetOptions, string> = {
  layers: '--layers',
  hiddenSize: '--hidden-size',
  heads: '--heads',
  kvHeads: '--kv-heads',
  headDim: '--head-dim',
  intermediateSize: '--intermediate-size',
};

function integer(value: number, flag: string, what: string): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new UsageError(`${flag}: ${what} is ${value}, expected a positive integer`, { flag });
  }
  return value;
}

/** The ModelDims field each target option sets (DIM_LIMITS is kept in those terms). */
const DIM_OF: Record<keyof TargetOptions, keyof ModelDims> = {
  layers: 'numLayers',
  hiddenSize: 'hiddenSize',
  heads: 'numHeads',
  kvHeads: 'numKvHeads',
  headDim: 'headDim',
  intermediateSize: 'intermediateSize',
};

/**
 * The target flags given, each a positive integer within arch/limits.ts: checked before any model
 * is opened, so a typo costs nothing.
 */
export function checkTargetOptions(options: TargetOptions): void {
  for (const key of Object.keys(FLAGS) as (keyof TargetOptions)[]) {
    const value = options[key];
    if (value === undefined) continue;
    integer(value, FLAGS[key], 'value');
    const limit = DIM_LIMITS[DIM_OF[key]];
    if (limit !== undefined && value > limit.max) {
      throw new UsageError(`${FLAGS[key]}: ${value} is more than ligo's limit of ${formatLimit(limit)}`, { flag: FLAGS[key], expected: `at most ${limit.max}` });
    }
  }
}

/** A target whose derived sizes (heads, FFN scaled with the width) or whole size pass the limits. */
function checkTargetLimits(target: ModelDims, description: ArchitectureDescription): void {
  const over = dimOverLimit(target);
  if (over !== undefined) {
    const key = (Object.keys(DIM_OF) as (keyof TargetOptions)[]).find((k) => DIM_OF[k] === over.key);
    const flag = key === undefined ? '--hidden-size' : FLAGS[key];
    throw new UsageError(`${flag}: the target's ${over.value} ${over.limit.unit} are more than ligo's limit of ${formatLimit(over.limit)}`, { flag });
  }
  const size = modelSize(description, target);
  if (size.bytes > MAX_MODEL_BYTES) {
    throw new UsageError(
      `--layers, --hidden-size: the target (${target.numLayers} layers x ${target.hiddenSize}) has ${size.parameters.toExponential(2)} parameters, ${formatBytes(size.bytes)} at float32, more than ligo's limit of ${formatBytes(MAX_MODEL_BYTES)}`,
      { flag: '--layers' },
    );
  }
}

/** Reads the target dims a --target-config file asks for, in the same terms as the flags. */
export function targetOptionsFromDims(dims: ModelDims): TargetOptions {
  return {
    layers: dims.numLayers,
    hiddenSize: dims.hiddenSize,
    heads: dims.numHeads,
    kvHeads: dims.numKvHeads,
    headDim: dims.headDim,
    intermediateSize: dims.intermediateSize,
  };
}

/**
 * Resolves the grown model's dims. Width flags scale together: by default head_dim is kept and
 * heads, KV heads and the FFN grow in proportion to the hidden size, which keeps RoPE frequencies
 * and GQA groups intact and lets width growth preserve the function exactly.
 */
export function resolveTarget(source: ModelDims, options: TargetOptions, description: ArchitectureDescription): ModelDims {
  checkTargetOptions(options);
  const hiddenSize = options.hiddenSize ?? source.hiddenSize;
  const scale = hiddenSize / source.hiddenSize;
  const explicitHeadDim = description.capabilities.headDim;

  let numHeads: number;
  let headDim: number;
  if (explicitHeadDim) {
    headDim = options.headDim ?? source.headDim;
    numHeads = options.heads ?? integer(Math.round((source.numHeads * hiddenSize * source.headDim) / (source.hiddenSize * headDim)), '--heads', 'the scaled head count');
  } else {
    numHeads = options.heads ?? Math.max(1, Math.round(hiddenSize / source.headDim));
    headDim = hiddenSize / numHeads;
    if (options.headDim !== undefined && options.headDim !== headDim) {
      throw new UsageError(`--head-dim: ${source.modelType} has head_dim = hidden size / heads = ${headDim}; it cannot be set to ${options.headDim}`, { flag: '--head-dim' });
    }
  }
  if (!Number.isInteger(headDim)) {
    throw new UsageError(`--heads: ${numHeads} heads do not divide --hidden-size ${hiddenSize}`, { flag: '--heads' });
  }
  const rotated = rotaryDims({ headDim, partialRotary: source.partialRotary });
  if (source.rotary && headDim !== source.headDim && rotated % 2 !== 0) {
    // Partial rotary turns the first floor(head_dim * fraction) dims in rotate_half pairs.
    const flag = options.headDim !== undefined ? '--head-dim' : '--heads';
    throw new UsageError(`${flag}: head_dim ${headDim} would rotate ${rotated} dims (${source.partialRotary} of each head); RoPE needs an even number`, {
      flag,
      hint: `keep head_dim ${source.headDim} (leave ${flag} out) or choose one whose ${source.partialRotary} is even`,
    });
  }
  const kvScaled = (source.numKvHeads * numHeads) / source.numHeads;
  const numKvHeads = options.kvHeads ?? (source.numKvHeads === source.numHeads ? numHeads : Number.isInteger(kvScaled) ? kvScaled : source.numKvHeads);
  if (!description.capabilities.gqa && numKvHeads !== numHeads) {
    throw new UsageError(`--kv-heads: ${source.modelType} has no grouped-query attention; KV heads must equal heads (${numHeads})`, { flag: '--kv-heads' });
  }
  if (numHeads % numKvHeads !== 0) {
    const derived = [options.heads === undefined ? 'heads' : '', options.kvHeads === undefined ? 'KV heads' : ''].filter((w) => w !== '');
    throw new UsageError(`--kv-heads: ${numKvHeads} KV heads do not divide ${numHeads} attention heads`, {
      flag: '--kv-heads',
      hint: derived.length > 0 ? `the ${derived.join(' and ')} were derived from the other sizes; give --heads and --kv-heads explicitly` : undefined,
    });
  }
  const target: ModelDims = {
    ...source,
    numLayers: options.layers ?? source.numLayers,
    hiddenSize,
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: options.intermediateSize ?? Math.round(source.intermediateSize * scale),
  };
  const shrunk = (Object.keys(FLAGS) as (keyof TargetOptions)[]).filter((key) => {
    const t = targetOptionsFromDims(target)[key] ?? 0;
    const s = targetOptionsFromDims(source)[key] ?? 0;
    return t < s;
  });
  if (shrunk.length > 0) {
    const key = shrunk[0];
    throw new UsageError(
      `${FLAGS[key]}: target ${targetOptionsFromDims(target)[key]} is smaller than the source's ${targetOptionsFromDims(source)[key]}; ligo only grows models`,
      { flag: FLAGS[key] },
    );
  }
  checkTargetLimits(target, description);
  checkDims(target, 'target');
  return target;
}

/** The grown model's config.json: the source's with the new dimensions written in its own field names. */
export function targetConfig(sourceConfig: Record<string, unknown>, source: ModelDims, target: ModelDims, description: ArchitectureDescription): Record<string, unknown> {
  const config: Record<string, unknown> = { ...sourceConfig };
  for (const [key, field] of Object.entries(description.configFields) as [keyof ModelDims, string][]) {
    const value = target[key];
    const unchanged = value === source[key];
    if (unchanged && (config[field] === undefined || config[field] === null)) continue;
    if (key === 'headDim' && config[field] === undefined && value === target.hiddenSize / target.numHeads) continue;
    config[field] = value;
  }
  for (const field of description.perLayerConfigFields ?? []) {
    const values = config[field];
    if (!Array.isArray(values) || values.length !== source.numLayers || target.numLayers === source.numLayers) continue;
    const first = JSON.stringify(values[0]);
    if (values.some((v) => JSON.stringify(v) !== first)) {
      throw new UnsupportedError(`config.json: ${field} differs between layers; ligo cannot say which entry a grown layer takes`, { actual: field });
    }
    config[field] = Array.from({ length: target.numLayers }, () => values[0] as unknown);
  }
  return config;
}

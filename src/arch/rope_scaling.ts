import { CheckpointError, UnsupportedError } from '../errors.js';
import type { RopeScaling } from './dims.js';

/** `rope_scaling` types ligo computes; `default` is plain RoPE. (dynamic and yarn: next.) */
export const SUPPORTED_ROPE_SCALING = ['default', 'linear', 'llama3'] as const;

/**
 * config.json `rope_scaling` -> RopeScaling, or undefined for none / `default`. Hugging Face reads
 * the type from `rope_type`, or from the legacy `type`; a type ligo does not compute is refused
 * rather than run as plain RoPE (that would be a silently different model).
 */
export function readRopeScaling(config: Record<string, unknown>, file: string): RopeScaling | undefined {
  const raw = config.rope_scaling;
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CheckpointError(`${file}: rope_scaling is ${JSON.stringify(raw)}, expected an object with "rope_type"`, { file });
  }
  const fields = raw as Record<string, unknown>;
  const type = fields.rope_type ?? fields.type ?? 'default';
  const number = (key: string): number => {
    const value = fields[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new CheckpointError(`${file}: rope_scaling "${String(type)}" needs a positive number "${key}", got ${JSON.stringify(value)}`, { file });
    }
    return value;
  };
  switch (type) {
    case 'default':
      return undefined;
    case 'linear':
      return { type: 'linear', factor: number('factor') };
    case 'llama3': {
      const scaling = {
        type: 'llama3' as const,
        factor: number('factor'),
        lowFreqFactor: number('low_freq_factor'),
        highFreqFactor: number('high_freq_factor'),
        originalMaxPositions: number('original_max_position_embeddings'),
      };
      if (scaling.highFreqFactor <= scaling.lowFreqFactor) {
        throw new CheckpointError(`${file}: rope_scaling high_freq_factor ${scaling.highFreqFactor} must exceed low_freq_factor ${scaling.lowFreqFactor}`, { file });
      }
      return scaling;
    }
    default:
      throw new UnsupportedError(`${file}: rope_scaling type ${JSON.stringify(type)} is not supported (supported: ${SUPPORTED_ROPE_SCALING.join(', ')})`, {
        file,
        actual: String(type),
      });
  }
}

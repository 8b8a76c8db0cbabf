import { CheckpointError } from '../errors.js';
import type { ModelDims } from './dims.js';

/** The config.json names most Hugging Face families use for the dimensions growth changes. */
export const STANDARD_CONFIG_FIELDS = {
  vocabSize: 'vocab_size',
  hiddenSize: 'hidden_size',
  numLayers: 'num_hidden_layers',
  numHeads: 'num_attention_heads',
  intermediateSize: 'intermediate_size',
  maxPositions: 'max_position_embeddings',
} as const satisfies Partial<Record<keyof ModelDims, string>>;

/** Typed reads of config.json fields with errors that name the file and the field. */
export class ConfigReader {
  constructor(
    readonly config: Record<string, unknown>,
    readonly file: string,
  ) {}

  /** The sizes under their STANDARD_CONFIG_FIELDS names (max_position_embeddings may default). */
  standardSizes(defaultMaxPositions: number): Pick<ModelDims, keyof typeof STANDARD_CONFIG_FIELDS> {
    return {
      vocabSize: this.int(STANDARD_CONFIG_FIELDS.vocabSize),
      hiddenSize: this.int(STANDARD_CONFIG_FIELDS.hiddenSize),
      numLayers: this.int(STANDARD_CONFIG_FIELDS.numLayers),
      numHeads: this.int(STANDARD_CONFIG_FIELDS.numHeads),
      intermediateSize: this.int(STANDARD_CONFIG_FIELDS.intermediateSize),
      maxPositions: this.int(STANDARD_CONFIG_FIELDS.maxPositions, defaultMaxPositions),
    };
  }

  has(key: string): boolean {
    const value = this.config[key];
    return value !== undefined && value !== null;
  }

  int(key: string, fallback?: number): number {
    const value = this.config[key];
    if (value === undefined || value === null) {
      if (fallback !== undefined) return fallback;
      throw new CheckpointError(`${this.file}: missing field "${key}" (expected a positive integer)`, {
        file: this.file,
        expected: `${key}: positive integer`,
      });
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new CheckpointError(`${this.file}: field "${key}" is ${JSON.stringify(value)}, expected a positive integer`, {
        file: this.file,
        expected: 'positive integer',
        actual: JSON.stringify(value),
      });
    }
    return value;
  }

  number(key: string, fallback: number): number {
    const value = this.config[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new CheckpointError(`${this.file}: field "${key}" is ${JSON.stringify(value)}, expected a number`, {
        file: this.file,
        expected: 'number',
        actual: JSON.stringify(value),
      });
    }
    return value;
  }

  bool(key: string, fallback: boolean): boolean {
    const value = this.config[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') {
      throw new CheckpointError(`${this.file}: field "${key}" is ${JSON.stringify(value)}, expected true or false`, {
        file: this.file,
      });
    }
    return value;
  }

  string(key: string, fallback: string): string {
    const value = this.config[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'string') {
      throw new CheckpointError(`${this.file}: field "${key}" is ${JSON.stringify(value)}, expected a string`, {
        file: this.file,
      });
    }
    return value;
  }
}

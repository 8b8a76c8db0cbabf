import { CheckpointError } from '../errors.js';

/** Typed reads of config.json fields with errors that name the file and the field. */
export class ConfigReader {
  constructor(
    readonly config: Record<string, unknown>,
    readonly file: string,
  ) {}

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

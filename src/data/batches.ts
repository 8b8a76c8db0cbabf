import { DataError, UsageError } from '../errors.js';
import { createRng, randomInt } from './random.js';
import type { Rng } from './random.js';

/**
 * A window is seqLen (T) consecutive tokens; the model reads all T and the loss predicts tokens
 * 1..T-1 from their prefixes, so a window needs no extra target token.
 */

/** How many disjoint full windows the tokens hold: floor(n / T). */
export function windows(tokens: Int32Array, seqLen: number): number {
  assertPositiveInt(seqLen, '--seq-len');
  return Math.floor(tokens.length / seqLen);
}

export interface BatchSamplerOptions {
  batchSize: number;
  seqLen: number;
  seed: number;
  /** Named in errors. */
  file?: string;
}

/** Draws batches of windows at uniformly random starts (any offset, as nanoGPT does), reproducibly. */
export class BatchSampler {
  readonly batchSize: number;
  readonly seqLen: number;
  private readonly rng: Rng;

  constructor(
    private readonly tokens: Int32Array,
    options: BatchSamplerOptions,
  ) {
    assertPositiveInt(options.batchSize, '--batch-size');
    assertPositiveInt(options.seqLen, '--seq-len');
    if (tokens.length < options.seqLen) {
      const source = options.file ?? 'the training data';
      throw new DataError(
        `${source} has ${tokens.length} tokens, fewer than one window of --seq-len ${options.seqLen}`,
        { file: options.file, expected: `at least ${options.seqLen} tokens`, actual: `${tokens.length} tokens` },
      );
    }
    this.batchSize = options.batchSize;
    this.seqLen = options.seqLen;
    this.rng = createRng(options.seed);
  }

  /** The next batch: [B, T] token ids, row-major. */
  next(): Int32Array {
    const { batchSize: B, seqLen: T } = this;
    const batch = new Int32Array(B * T);
    const starts = this.tokens.length - T + 1;
    for (let b = 0; b < B; b++) {
      const start = randomInt(this.rng, starts);
      batch.set(this.tokens.subarray(start, start + T), b * T);
    }
    return batch;
  }
}

export interface HeldOutSplit {
  /** Views into the input (no copy). */
  train: Int32Array;
  heldOut: Int32Array;
}

/**
 * Holds out the last `fraction` of the tokens (at least one window, at most all but one window),
 * so held-out text never overlaps training text.
 */
export function heldOutSplit(
  tokens: Int32Array,
  fraction: number,
  seqLen: number,
  options: { file?: string } = {},
): HeldOutSplit {
  assertPositiveInt(seqLen, '--seq-len');
  if (!(fraction >= 0 && fraction < 1)) {
    throw new UsageError(`The held-out fraction must be in [0, 1), got ${fraction}`, {
      expected: '0 <= fraction < 1',
      actual: String(fraction),
    });
  }
  const n = tokens.length;
  const needed = 2 * seqLen;
  if (n < needed) {
    const source = options.file ?? 'the training data';
    throw new DataError(
      `${source} has ${n} tokens; --seq-len ${seqLen} needs at least ${needed} (one training and one held-out window)`,
      {
        file: options.file,
        expected: `at least ${needed} tokens`,
        actual: `${n} tokens`,
        hint: 'use more text or a smaller --seq-len',
      },
    );
  }
  const heldOutLength = Math.min(Math.max(Math.ceil(n * fraction), seqLen), n - seqLen);
  return { train: tokens.subarray(0, n - heldOutLength), heldOut: tokens.subarray(n - heldOutLength) };
}

function assertPositiveInt(value: number, flag: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new UsageError(`${flag} must be a positive integer, got ${value}`, { flag, actual: String(value) });
  }
}

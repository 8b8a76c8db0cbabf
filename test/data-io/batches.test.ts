import { describe, expect, it } from 'vitest';
import { DataError, UsageError } from '../../src/errors.js';
import { BatchSampler, createRng, heldOutSplit, windows } from '../../src/data/index.js';

const arange = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

describe('createRng', () => {
  it('is reproducible per seed and uniform-ish in [0, 1)', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b())).toEqual(xs);
    expect(c()).not.toBe(xs[0]);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
  });
});

describe('windows', () => {
  it('counts full disjoint windows', () => {
    expect(windows(arange(100), 16)).toBe(6);
    expect(windows(arange(15), 16)).toBe(0);
    expect(() => windows(arange(10), 0)).toThrow(UsageError);
  });
});

describe('BatchSampler', () => {
  it('returns [B*T] rows that are contiguous runs of the data, reproducibly', () => {
    const tokens = arange(1000);
    const sampler = new BatchSampler(tokens, { batchSize: 4, seqLen: 8, seed: 7 });
    const batch = sampler.next();
    expect(batch.length).toBe(32);
    for (let b = 0; b < 4; b++) {
      const row = batch.subarray(b * 8, b * 8 + 8);
      for (let t = 1; t < 8; t++) expect(row[t]).toBe(row[0] + t);
      expect(row[7]).toBeLessThan(1000);
    }
    const again = new BatchSampler(tokens, { batchSize: 4, seqLen: 8, seed: 7 });
    expect(again.next()).toEqual(batch);
    expect(new BatchSampler(tokens, { batchSize: 4, seqLen: 8, seed: 8 }).next()).not.toEqual(batch);
  });

  it('reaches every start, the last one included', () => {
    const sampler = new BatchSampler(arange(10), { batchSize: 1, seqLen: 4, seed: 1 });
    const starts = new Set<number>();
    for (let i = 0; i < 500; i++) starts.add(sampler.next()[0]);
    expect([...starts].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('data shorter than one window is a DataError naming the file and the tokens needed', () => {
    const make = () => new BatchSampler(arange(5), { batchSize: 2, seqLen: 8, seed: 0, file: 'tiny.txt' });
    expect(make).toThrow(DataError);
    expect(make).toThrow(/tiny\.txt has 5 tokens.*--seq-len 8/);
    expect(() => new BatchSampler(arange(50), { batchSize: 0, seqLen: 8, seed: 0 })).toThrow(/--batch-size/);
  });
});

describe('heldOutSplit', () => {
  it('holds out the last fraction as views', () => {
    const tokens = arange(1000);
    const { train, heldOut } = heldOutSplit(tokens, 0.1, 16);
    expect(train.length).toBe(900);
    expect(heldOut.length).toBe(100);
    expect(heldOut[0]).toBe(900);
    expect(train.buffer).toBe(tokens.buffer);
  });

  it('keeps at least one window on each side', () => {
    expect(heldOutSplit(arange(1000), 0, 16).heldOut.length).toBe(16);
    expect(heldOutSplit(arange(1000), 0.001, 16).heldOut.length).toBe(16);
    expect(heldOutSplit(arange(40), 0.9, 16).train.length).toBe(16);
    expect(heldOutSplit(arange(32), 0.5, 16)).toMatchObject({ train: { length: 16 }, heldOut: { length: 16 } });
  });

  it('too few tokens is a DataError saying what --seq-len needs', () => {
    const split = () => heldOutSplit(arange(31), 0.1, 16, { file: 'data.txt' });
    expect(split).toThrow(DataError);
    expect(split).toThrow('data.txt has 31 tokens; --seq-len 16 needs at least 32');
    expect(() => heldOutSplit(arange(100), 1, 16)).toThrow(UsageError);
  });
});

import { describe, expect, it } from 'vitest';
import { parseSize } from '../../src/checkpoint/size.js';
import { UsageError } from '../../src/errors.js';

describe('parseSize', () => {
  it('reads decimal and binary units like Hugging Face', () => {
    expect(parseSize('5GB')).toBe(5_000_000_000);
    expect(parseSize('500MB')).toBe(500_000_000);
    expect(parseSize('200KB')).toBe(200_000);
    expect(parseSize('1GiB')).toBe(2 ** 30);
    expect(parseSize('2MiB')).toBe(2 * 2 ** 20);
    expect(parseSize('1.5GB')).toBe(1_500_000_000);
    expect(parseSize('1.1GB')).toBe(1_100_000_000);
    expect(parseSize('0.1GiB')).toBe(107_374_182);
    expect(parseSize('10 mb')).toBe(10_000_000);
    expect(parseSize('64B')).toBe(64);
    expect(parseSize('1TB')).toBe(1e12);
  });

  it('takes plain numbers as bytes', () => {
    expect(parseSize('1024')).toBe(1024);
    expect(parseSize(4096)).toBe(4096);
  });

  it('rejects anything else with a UsageError naming --max-shard-size', () => {
    for (const bad of ['', 'abc', '5XB', '-1GB', '0', '0.5B', 'GB', '5 G B', '1e9']) {
      expect(() => parseSize(bad), bad).toThrow(UsageError);
    }
    for (const bad of [0, -5, 1.5, NaN, Infinity]) expect(() => parseSize(bad), String(bad)).toThrow(UsageError);
    try {
      parseSize('lots');
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).flag).toBe('--max-shard-size');
      expect((err as UsageError).message).toBe('--max-shard-size: "lots" is not a size');
    }
  });
});

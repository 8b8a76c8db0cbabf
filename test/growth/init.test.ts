import { describe, expect, it } from 'vitest';
import { copyMatrix, denseMatrix, depthMatrix, firstSplit, jitterSplit, splitMatrix, splitSelection } from '../../src/growth/init.js';

const denseOf = (sel: Parameters<typeof denseMatrix>[0]): Float32Array => denseMatrix(sel);
const rows = (m: Float32Array, cols: number): number[][] => Array.from({ length: m.length / cols }, (_, r) => Array.from(m.slice(r * cols, (r + 1) * cols)));

describe('operator initializations', () => {
  it('a jittered split gives copies unequal shares that still sum to one; single copies stay whole', () => {
    let k = 0;
    const noise = [1, -0.5, 2, 0.3, -1];
    const sel = jitterSplit(splitSelection(5, 3), 0.1, () => noise[k++ % noise.length]);
    const sums = [0, 0, 0];
    sel.index.forEach((j, r) => (sums[j] += sel.scale[r]));
    sums.forEach((s) => expect(s).toBeCloseTo(1, 6));
    expect(sel.scale[0]).not.toBeCloseTo(sel.scale[3], 3); // unit 0: rows 0 and 3
    expect(sel.scale[2]).toBe(1); // unit 2 has one copy
  });

  it('the first-copy split puts each unit\'s whole share on its first copy and zero on the others', () => {
    // unit 0 has 3 copies (rows 0, 2, 4), unit 1 has 2 (rows 1, 3)
    expect(rows(denseOf(firstSplit(splitSelection(5, 2))), 2)).toEqual([[1, 0], [0, 1], [0, 0], [0, 0], [0, 0]]);
    // 1.5x: units copied once keep their weight
    expect(Array.from(firstSplit(splitSelection(3, 2)).scale)).toEqual([1, 1, 0]);
  });

  it('copy selects unit i mod small; split divides each copy by its multiplicity', () => {
    expect(rows(copyMatrix(5, 2), 2)).toEqual([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0]]);
    // unit 0 has 3 copies, unit 1 has 2: columns of the split matrix sum to 1
    const split = rows(splitMatrix(5, 2), 2);
    expect(split.map((r) => r.map((v) => Number(v.toFixed(4))))).toEqual([[0.3333, 0], [0, 0.5], [0.3333, 0], [0, 0.5], [0.3333, 0]]);
  });

  it('stack and interlace pick source layers; preserve zeroes every repeat', () => {
    expect(rows(depthMatrix('stack', 5, 2, false), 2)).toEqual([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0]]);
    expect(rows(depthMatrix('interlace', 5, 2, false), 2)).toEqual([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1]]);
    expect(rows(depthMatrix('stack', 5, 2, true), 2)).toEqual([[1, 0], [0, 1], [0, 0], [0, 0], [0, 0]]);
    expect(rows(depthMatrix('interlace', 4, 2, true), 2)).toEqual([[1, 0], [0, 0], [0, 1], [0, 0]]);
  });
});

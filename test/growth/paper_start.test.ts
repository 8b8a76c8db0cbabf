import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/data/random.js';
import { depthSelection } from '../../src/growth/init.js';
import { initialValues } from '../../src/growth/initial_operator.js';
import { mixtureMatrix, noisyDepthMatrix } from '../../src/growth/paper_start.js';
import { goldenPlan } from './preservation_helpers.js';

const rowSums = (m: Float32Array, rows: number, cols: number): number[] =>
  Array.from({ length: rows }, (_, r) => m.subarray(r * cols, (r + 1) * cols).reduce((a, b) => a + b, 0));

describe("the paper's start (--start ligo-paper)", () => {
  it('keeps the source units as the first rows and starts every new unit as a random mixture summing to 1', () => {
    const m = mixtureMatrix(5, 3, createRng(1)); // [5, 3]
    expect(Array.from(m.subarray(0, 9))).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    for (const r of [3, 4]) {
      const row = Array.from(m.subarray(r * 3, r * 3 + 3));
      expect(row.every((x) => x > 0 && x < 1)).toBe(true);
    }
    rowSums(m, 5, 3).forEach((s) => expect(s).toBeCloseTo(1, 6));
  });

  it("noisy stacking: each layer's coefficients peak at its source layer, with U(0, 0.03) elsewhere, normalized", () => {
    const m = noisyDepthMatrix(depthSelection('stack', 4, 2, false), 0.03, createRng(2)); // [4, 2]
    rowSums(m, 4, 2).forEach((s) => expect(s).toBeCloseTo(1, 6));
    for (let l = 0; l < 4; l++) {
      const [own, other] = l % 2 === 0 ? [m[l * 2], m[l * 2 + 1]] : [m[l * 2 + 1], m[l * 2]];
      expect(own).toBeGreaterThan(0.97);
      expect(other).toBeGreaterThan(0);
      expect(other).toBeLessThan(0.03);
    }
  });

  it.each([
    ['gpt2-prefixed', { layers: 3, hiddenSize: 48 }],
    // Heads and a RoPE head_dim factor: mixtures per factor.
    ['llama-gqa-untied', { layers: 3, hiddenSize: 96, headDim: 32, heads: 6, kvHeads: 3 }],
  ] as const)('%s: seeded and reproducible (same seed, same operator bytes; another seed, others), both sides of an operator one draw', async (name, target) => {
    const { model, plan } = await goldenPlan(name, target, { method: 'ligo', start: 'ligo-paper' });
    try {
      expect(plan.start).toMatchObject({ rule: 'ligo-paper', exact: false, depth: 'noisy' });
      const values = (seed: number) => initialValues(plan, { depth: { pattern: 'stack', preserve: false, noise: 0.03 }, noise: 0, random: createRng(seed) }).values;
      const [a, b, c] = [values(7), values(7), values(8)];
      expect([...a.keys()]).toEqual(plan.operatorParameters.map((p) => p.name));
      for (const [name, { data }] of a) expect(Buffer.from(data.buffer).equals(Buffer.from(b.get(name)?.data.buffer ?? new ArrayBuffer(0))), name).toBe(true);
      const differs = [...a].filter(([name, { data }]) => !Buffer.from(data.buffer).equals(Buffer.from(c.get(name)?.data.buffer ?? new ArrayBuffer(0))));
      expect(differs.length).toBeGreaterThan(plan.operatorParameters.length / 2);
      for (const p of plan.operatorParameters.filter((q) => q.side === 'out')) {
        const inName = p.name.replace(/\.out(\.|$)/, '.in$1');
        expect(Array.from(a.get(inName)?.data ?? []), inName).toEqual(Array.from(a.get(p.name)?.data ?? []));
      }
    } finally {
      model.dispose();
    }
  });
});

/**
 * The LiGO paper's start, drawn (exact_start.ts `ligo-paper`, depth_start.ts `noisy`). As the
 * official code initializes its expansion operators (width scheme `rand`, depth `stackbert_noisy`,
 * the recipe its README trains with):
 *   - width: a [large, small] matrix whose first `small` rows are the identity (the source's units
 *     stay the first ones) and whose other rows are random mixtures of the source's units (uniform
 *     entries, each row normalized to sum to 1). The paper ties one operator's producing and
 *     consuming sides, so both start as the same draw; the consuming side is not split, which is
 *     what makes the start lossy;
 *   - depth: each large layer's coefficients are 1 on its source layer plus U(0, noise) on every
 *     source layer, the row normalized to sum to 1.
 * ligo's attention operators act on whole heads (M kron H, layout.ts), so the mixtures are drawn
 * per factor: new heads mix the source's heads, and where head_dim grows new head dims mix its
 * dims (under RoPE, rotary pairs mix with pairs). Everything is drawn from one seeded generator
 * in the plan's parameter order: the same seed gives the same bytes.
 */
import type { OperatorParameter } from './plan_types.js';
import { denseMatrix } from './init.js';
import type { Selection } from './selection.js';

/** Divides a row by its sum, in place (its entries are non-negative and not all zero). */
function normalize(row: Float32Array): void {
  const sum = row.reduce((a, b) => a + b, 0);
  for (let c = 0; c < row.length; c++) row[c] /= sum;
}

/** The first `small` rows the identity, the rest random mixtures of the `small` units; row-major [large, small]. */
export function mixtureMatrix(large: number, small: number, random: () => number): Float32Array {
  const m = new Float32Array(large * small);
  for (let r = 0; r < large; r++) {
    if (r < small) {
      m[r * small + r] = 1;
      continue;
    }
    const row = m.subarray(r * small, (r + 1) * small);
    for (let c = 0; c < small; c++) row[c] = random();
    normalize(row);
  }
  return m;
}

/** The depth selection (which source layer each large layer starts from) with U(0, noise) on every entry, each row normalized to sum to 1. */
export function noisyDepthMatrix(sel: Selection, noise: number, random: () => number): Float32Array {
  const m = denseMatrix(sel);
  const cols = sel.cols;
  for (let r = 0; r < sel.index.length; r++) {
    const row = m.subarray(r * cols, (r + 1) * cols);
    for (let c = 0; c < cols; c++) row[c] += noise * random();
    normalize(row);
  }
  return m;
}

/** Width parameters the paper's start draws: every width operator's main factor and head_dim factors (not a low-rank correction, which the paper's start does not take). */
export const drawnByPaper = (p: OperatorParameter): boolean => p.role === 'matrix' || p.role === 'headDim' || p.role === 'headDimPass';

/**
 * The paper's width matrices, by parameter name: one draw per operator and factor, shared by its
 * two sides (the paper's tied coefficients). Calls `random` in the order of `params`.
 */
export function paperWidthMatrices(params: readonly OperatorParameter[], random: () => number): Map<string, Float32Array> {
  const drawn = new Map<string, Float32Array>();
  const out = new Map<string, Float32Array>();
  for (const p of params) {
    if (!drawnByPaper(p)) continue;
    const key = `${p.operator}/${p.role}`;
    let m = drawn.get(key);
    if (!m) {
      m = mixtureMatrix(p.shape[0], p.shape[1], random);
      drawn.set(key, m);
    }
    out.set(p.name, p.side === 'in' ? m.slice() : m);
  }
  return out;
}

import type { LayerGroup } from '../arch/types.js';

/**
 * Width and depth initializations as plain number arrays (row-major), so they are testable
 * without tensors. Width copies use i mod small: every small unit is copied the same number of
 * times when large is a multiple of small, which is what makes LayerNorm/RMSNorm statistics,
 * and so the whole function, exactly preserved.
 */
export function copyMatrix(large: number, small: number): Float32Array {
  const m = new Float32Array(large * small);
  for (let i = 0; i < large; i++) m[i * small + (i % small)] = 1;
  return m;
}

/** The `in` side of a copy: each copy gets 1/count of the weight so sums over the axis are unchanged. */
export function splitMatrix(large: number, small: number): Float32Array {
  const m = copyMatrix(large, small);
  const counts = new Float32Array(small);
  for (let i = 0; i < large; i++) counts[i % small] += 1;
  for (let i = 0; i < large; i++) m[i * small + (i % small)] = 1 / counts[i % small];
  return m;
}

export type DepthInit = 'stack' | 'interlace' | 'identity';

/**
 * stack: large layer l copies small layer l mod L_small (StackBERT);
 * interlace: each small layer is repeated in place (l -> floor(l * L_small / L_large));
 * identity: the first L_small layers are the small model's and the new ones are all-zero, which
 * in a pre-norm network adds nothing to the residual stream (Net2Net's deeper identity).
 */
export function depthMatrix(init: DepthInit, large: number, small: number): Float32Array {
  const m = new Float32Array(large * small);
  for (let l = 0; l < large; l++) {
    if (init === 'stack') m[l * small + (l % small)] = 1;
    else if (init === 'interlace') m[l * small + Math.floor((l * small) / large)] = 1;
    else if (l < small) m[l * small + l] = 1;
  }
  return m;
}

export const DEPTH_GROUPS: readonly LayerGroup[] = ['attn', 'mlp', 'norm'];

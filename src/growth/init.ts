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

export type DepthPattern = 'stack' | 'interlace';

/**
 * Which small layer each large layer starts from, and whether repeats start as identities.
 * stack: large layer l copies small layer l mod L_small (StackBERT);
 * interlace: each small layer is repeated in place (l -> floor(l * L_small / L_large)).
 * preserve: every repeat of a small layer has its output projections (attn_out, mlp_out) zeroed,
 * so in a pre-norm network it adds nothing to the residual stream and the grown model computes
 * the small model's function exactly, while its other weights are real copies that train.
 */
export interface DepthInit {
  pattern: DepthPattern;
  preserve: boolean;
}

export function sourceLayer(pattern: DepthPattern, layer: number, large: number, small: number): number {
  return pattern === 'stack' ? layer % small : Math.floor((layer * small) / large);
}

export function depthMatrix(pattern: DepthPattern, large: number, small: number, zeroRepeats: boolean): Float32Array {
  const m = new Float32Array(large * small);
  const seen = new Set<number>();
  for (let l = 0; l < large; l++) {
    const j = sourceLayer(pattern, l, large, small);
    if (!(zeroRepeats && seen.has(j))) m[l * small + j] = 1;
    seen.add(j);
  }
  return m;
}

/** Depth groups whose repeated layers are zeroed by `preserve`. */
export const OUTPUT_GROUPS: readonly LayerGroup[] = ['attn_out', 'mlp_out'];

export function describeDepthInit(init: DepthInit): string {
  return init.preserve ? `${init.pattern}, repeated layers start as identities` : init.pattern;
}

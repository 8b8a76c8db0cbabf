import type { ArchitectureDescription } from '../arch/types.js';
import type { DepthInit } from './init.js';
import type { GrowthMethod } from './plan.js';

/** How each --method sets up the operator: all but `random` go through the same operator code. */
export interface MethodRecipe {
  /** Train the operator on data (only LiGO). */
  learns: boolean;
  /** Depth initialization; undefined for `random`, which initializes fresh tensors instead. */
  depth?: DepthInit;
}

/** Noise on operator entries at the start of learning, small next to the 0/1 copy entries. */
export const LIGO_INIT_NOISE = 1e-3;

export function methodRecipe(method: GrowthMethod, description: ArchitectureDescription, ligoDepthInit: DepthInit): MethodRecipe {
  switch (method) {
    case 'ligo':
      return { learns: true, depth: ligoDepthInit };
    case 'net2net':
      // All-zero new layers are an identity only when each sublayer adds to a residual stream
      // that is normalized later (pre-norm); post-norm BERT gets interlaced copies instead.
      return { learns: false, depth: description.preNorm ? 'identity' : 'interlace' };
    case 'stack':
      return { learns: false, depth: 'stack' };
    case 'interlace':
      return { learns: false, depth: 'interlace' };
    case 'random':
      return { learns: false };
  }
}

import type { ArchitectureDescription } from '../arch/types.js';
import { depthInit, resolveDepthStart, type DepthStart } from './depth_start.js';
import type { DepthInit, DepthPattern } from './init.js';

export const GROWTH_METHODS = ['ligo', 'net2net', 'stack', 'interlace', 'random'] as const;
export type GrowthMethod = (typeof GROWTH_METHODS)[number];

/** How each --method sets up the operator: all but `random` go through the same operator code. */
export interface MethodRecipe {
  /** Train the operator on data (only LiGO). */
  learns: boolean;
  /** Depth initialization; undefined for `random`, which initializes fresh tensors instead. */
  depth?: DepthInit;
}

/**
 * Noise on operator entries at the start of learning. 0: the first-copy split (init.ts SplitMode)
 * already lets copies train apart, so the start stays exactly function-preserving and --keep-best
 * never ends above the source. bench:downstream, 600 steps, seed 0: 1e-4 and 0 end within the
 * seeds' spread (GPT-2 2.3109 vs 2.3114, Llama 2.1079 vs 2.1117).
 */
export const LIGO_INIT_NOISE = 0;

/** `depthStart`: ligo's (depth_start.ts, resolved from --depth-start and --start); default its own. */
export function methodRecipe(method: GrowthMethod, description: ArchitectureDescription, ligoPattern: DepthPattern, depthStart?: DepthStart): MethodRecipe {
  // Repeats start as identities only where the family says that is exact (arch/types.ts Preservation).
  const preserve = description.preservation.identityRepeats;
  switch (method) {
    case 'ligo':
      return { learns: true, depth: depthInit(ligoPattern, depthStart ?? resolveDepthStart({ description, method })) };
    case 'net2net':
      return { learns: false, depth: { pattern: 'stack', preserve } };
    case 'stack':
      return { learns: false, depth: { pattern: 'stack', preserve: false } };
    case 'interlace':
      return { learns: false, depth: { pattern: 'interlace', preserve: false } };
    case 'random':
      return { learns: false };
  }
}

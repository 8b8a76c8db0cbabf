/**
 * How ligo's depth operator starts the grown model's layers (the pattern, --init, says which
 * source layer each large layer starts from; this says how it starts from it):
 *   - identity: every repeat of a source layer starts as an identity (its output projections
 *     zeroed), exact in pre-norm stacks (arch/types.ts Preservation.identityRepeats);
 *   - copy: every repeat is a plain copy of its source layer (G_stack, Du et al. 2024, "Stacking
 *     your transformers", which finds copies train faster than identities at LLM scale): lossy,
 *     since a copy adds its layer's update to the residual stream again;
 *   - noisy: the LiGO paper's noisy stacking (the official code's `stackbert_noisy`): each large
 *     layer's coefficients are its source layer's 1 plus U(0, PAPER_DEPTH_NOISE) on every source
 *     layer, normalized to sum to 1, so every layer starts as a mixture the learning phase tunes.
 */
import type { ArchitectureDescription } from '../arch/types.js';
import { UsageError } from '../errors.js';
import type { DepthInit, DepthPattern } from './init.js';
import type { GrowthMethod } from './methods.js';

export const DEPTH_STARTS = ['identity', 'copy', 'noisy'] as const;
export type DepthStart = (typeof DEPTH_STARTS)[number];

/** The official LiGO code's default `--fuse_init_noise` for its depth coefficients: U(0, 0.03) before normalizing. */
export const PAPER_DEPTH_NOISE = 0.03;

/** The depth start of a method: the fixed methods' are theirs (net2net's identities, stack's and interlace's copies); ligo's default follows its width start. */
function defaultDepthStart(method: GrowthMethod, description: ArchitectureDescription, paperStart: boolean): DepthStart {
  const identity: DepthStart = description.preservation.identityRepeats ? 'identity' : 'copy';
  if (method === 'ligo') return paperStart ? 'noisy' : identity;
  return method === 'net2net' ? identity : 'copy';
}

/**
 * The depth start a run uses: --depth-start where given (ligo only), else the method's default
 * (`noisy` with --start ligo-paper, as the paper starts). Refuses, naming the flag, a depth start
 * for a fixed method and an identity start where the family cannot make a repeat an identity.
 */
export function resolveDepthStart(options: {
  description: ArchitectureDescription;
  method: GrowthMethod;
  /** The start rule asked for (exact_start.ts StartRule); only whether it is the paper's matters. */
  start?: string;
  asked?: DepthStart;
}): DepthStart {
  const { description, method, asked } = options;
  const fallback = defaultDepthStart(method, description, options.start === 'ligo-paper');
  if (asked === undefined) return fallback;
  if (!DEPTH_STARTS.includes(asked)) throw new UsageError(`--depth-start: expected one of ${DEPTH_STARTS.join(', ')}, got "${String(asked)}"`, { flag: '--depth-start' });
  if (method !== 'ligo') {
    throw new UsageError(`--depth-start: only --method ligo takes a depth start (${method} starts new layers ${fallback === 'identity' ? 'as identities' : 'as copies'})`, { flag: '--depth-start' });
  }
  if (asked === 'identity' && !description.preservation.identityRepeats) {
    throw new UsageError(`--depth-start identity: ${description.family} normalizes after each residual add (post-norm), so a repeated layer cannot start as an identity`, {
      flag: '--depth-start',
      hint: 'use --depth-start copy or noisy',
    });
  }
  return asked;
}

/** The depth initialization (init.ts DepthInit) of a pattern and a depth start. */
export function depthInit(pattern: DepthPattern, start: DepthStart): DepthInit {
  return { pattern, preserve: start === 'identity', ...(start === 'noisy' ? { noise: PAPER_DEPTH_NOISE } : {}) };
}

import type { ArchitectureDescription } from '../arch/types.js';
import type { ModelDims } from '../arch/dims.js';
import { resolveSeqLen } from '../eval/index.js';
import { resolveDepthStart } from '../growth/depth_start.js';
import { startNeedsDense } from '../growth/exact_start.js';
import { methodRecipe, type MethodRecipe } from '../growth/methods.js';
import { UsageError } from '../errors.js';
import { DENSE_FORM, type OperatorForm } from '../growth/plan.js';
import type { ResolvedGrowOptions } from './options.js';

/**
 * What a run does, decided once from its options and its source and passed down: nothing below
 * works it out again.
 */
export interface RunSettings {
  /** How the method sets up its operator (growth/methods.ts). */
  recipe: MethodRecipe;
  /** The run has a learning phase: a method that learns, given steps to learn in. */
  learningPhase: boolean;
  /** How the width operators are parameterized: only a method that learns has anything to parameterize. */
  form: OperatorForm;
  /** Tokens per sequence: --seq-len capped at the model's positions (resolveSeqLen). */
  seqLen: number;
}

/**
 * A start that needs the dense form (the paper's mixtures) takes it by default; asked for the
 * low-rank form by name, it is refused in one line.
 */
function denseStart(o: ResolvedGrowOptions): boolean {
  if (!startNeedsDense(o.start)) return false;
  if (o.given.has('operator') && o.operator === 'lowrank') {
    throw new UsageError(`--operator lowrank: --start ${String(o.start)} starts every new unit as a mixture of all the source's, which a low-rank operator's fixed selection cannot hold`, {
      flag: '--operator',
      hint: 'leave --operator out (the paper\'s start takes the dense operator, as the paper does)',
    });
  }
  return true;
}

export function resolveRun(
  o: ResolvedGrowOptions,
  source: { description: ArchitectureDescription; dims: ModelDims },
  log?: (line: string) => void,
): RunSettings {
  const depthStart = resolveDepthStart({ description: source.description, method: o.method, start: o.start, asked: o.depthStart });
  const recipe = methodRecipe(o.method, source.description, o.init, depthStart);
  return {
    recipe,
    learningPhase: recipe.learns && o.steps > 0,
    form: recipe.learns && o.operator === 'lowrank' && !denseStart(o) ? { kind: 'lowrank', rank: o.rank } : DENSE_FORM,
    seqLen: resolveSeqLen(o.given.has('seqLen') ? o.seqLen : undefined, o.seqLen, source.dims, source.description.configFields.maxPositions, log),
  };
}

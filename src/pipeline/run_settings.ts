import type { ArchitectureDescription } from '../arch/types.js';
import type { ModelDims } from '../arch/dims.js';
import { resolveSeqLen } from '../eval/index.js';
import { methodRecipe, type MethodRecipe } from '../growth/methods.js';
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

export function resolveRun(
  o: ResolvedGrowOptions,
  source: { description: ArchitectureDescription; dims: ModelDims },
  log?: (line: string) => void,
): RunSettings {
  const recipe = methodRecipe(o.method, source.description, o.init);
  return {
    recipe,
    learningPhase: recipe.learns && o.steps > 0,
    form: recipe.learns && o.operator === 'lowrank' ? { kind: 'lowrank', rank: o.rank } : DENSE_FORM,
    seqLen: resolveSeqLen(o.given.has('seqLen') ? o.seqLen : undefined, o.seqLen, source.dims, source.description.configFields.maxPositions, log),
  };
}

import type { SplitMode } from '../growth/init.js';
import { DENSE_FORM, type OperatorForm } from '../growth/plan.js';
import type { LearnResult } from '../train/learn.js';
import { GROWN_WARMUP_FRACTION } from '../train/downstream.js';
import type { GroupAdvice, GrowthRunInfo } from '../output/report.js';

/** What a run knows about itself; whatever it did not do (learn, measure) is left out. */
export interface RunFacts {
  source: string;
  method: string;
  init: string;
  backend: string;
  seed?: number;
  seqLen?: number;
  batchSize?: number;
  lr?: number;
  data?: string;
  tokens?: number;
  /** The learning phase, when it ran: its steps and result. */
  learned?: { steps: number; result: LearnResult; depthLr?: number; keepBest?: boolean; split?: SplitMode; copyNoise?: number; operator?: OperatorForm; recompute?: boolean };
  heldOut?: { source?: number; grownAtInit?: number; grown?: number; tokens: number };
  /** The per-group recipe for training further (absent where nothing is inherited). */
  groups?: GroupAdvice;
}

/**
 * The run half of growth.json, built in one place for grow (in memory and streamed) and apply:
 * what did not happen is null (losses) or 0 (counts), in the order growth.json has always had.
 */
export function runReport(facts: RunFacts): Omit<GrowthRunInfo, 'wallSeconds'> {
  const losses = facts.learned?.result.losses;
  return {
    source: facts.source,
    method: facts.method,
    init: facts.init,
    steps: facts.learned?.steps ?? 0,
    data: facts.data ?? null,
    tokens: facts.tokens ?? 0,
    seed: facts.seed ?? 0,
    backend: facts.backend,
    seqLen: facts.seqLen ?? 0,
    batchSize: facts.batchSize ?? 0,
    lr: facts.lr ?? 0,
    lossFirstStep: losses?.[0] ?? null,
    lossLastStep: losses === undefined ? null : (losses[losses.length - 1] ?? null),
    heldOut: {
      source: facts.heldOut?.source ?? null,
      grownAtInit: facts.heldOut?.grownAtInit ?? null,
      grown: facts.heldOut?.grown ?? null,
      tokens: facts.heldOut?.tokens ?? 0,
    },
    learnTokensPerSecond: facts.learned?.result.tokensPerSecond ?? null,
    learning: facts.learned
      ? {
          depthLr: facts.learned.depthLr ?? null,
          keepBest: facts.learned.keepBest ?? false,
          split: facts.learned.split ?? 'even',
          copyNoise: facts.learned.copyNoise ?? 0,
          keptStep: facts.learned.result.keptStep,
          ...(facts.learned.result.divergedAt === undefined ? {} : { divergedAt: facts.learned.result.divergedAt }),
          selection: facts.learned.result.selection,
          operator: facts.learned.operator ?? DENSE_FORM,
          recompute: facts.learned.recompute ?? false,
          secondsPerStep: facts.learned.result.secondsPerStep,
          phases: facts.learned.result.phases,
          phaseSeconds: facts.learned.result.seconds,
        }
      : null,
    downstream: facts.groups ? { ...DOWNSTREAM_ADVICE, groups: facts.groups } : DOWNSTREAM_ADVICE,
  };
}

/** The downstream schedule growth.json and the model card recommend (measured by bench:downstream). */
export const DOWNSTREAM_ADVICE = {
  peakLrFraction: 1,
  warmupFraction: GROWN_WARMUP_FRACTION,
  schedule: 'linear warmup over the first third of the steps to the from-scratch peak, then cosine decay',
  note: 'keep the peak learning rate a model of this size would use from scratch but reach it over the first third of the run: the usual short warmup raises held-out loss above the grown model\'s for the first tens of steps (the re-warm bump), a lower peak avoids that but ends higher',
  convergedSource:
    'if the source model finished its own training at a decayed learning rate (converged), a from-scratch peak undoes what growth inherited even over a long warmup: start near the learning rate the source ended at (up to about twice it) instead',
};

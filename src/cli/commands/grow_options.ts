import type { Argv } from 'yargs';
import { parseDType } from '../../checkpoint/dtypes.js';
import { parseSize } from '../../checkpoint/size.js';
import { UsageError } from '../../errors.js';
import { DEPTH_PATTERNS, DEPTH_STARTS, GROWTH_METHODS, OPERATOR_KINDS, SPLIT_MODES, START_RULES } from '../../growth/index.js';
import type { TargetOptions } from '../../growth/index.js';
import { GROW_DEFAULTS, REPAIR_STEPS, type GrowOptions } from '../../pipeline/index.js';
import { numberArg, withDataOptions } from '../options.js';

const dtypeArg = (value: unknown) => {
  const dtype = typeof value === 'string' ? parseDType(value) : undefined;
  if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') {
    throw new UsageError(`--dtype expects f32, f16 or bf16, got ${JSON.stringify(value)}`, { flag: '--dtype' });
  }
  return dtype;
};

/** The grown model's dimensions; unspecified ones scale with --hidden-size (head_dim is kept). */
export function withTargetOptions<T>(y: Argv<T>) {
  const dim = (flag: string, describe: string) => ({ coerce: numberArg(flag), requiresArg: true, describe, group: 'Target:' });
  return y
    .option('layers', dim('--layers', 'number of layers'))
    .option('hidden-size', dim('--hidden-size', 'model width (residual stream)'))
    .option('heads', dim('--heads', 'attention heads [default: scaled with the width, head_dim kept]'))
    .option('kv-heads', dim('--kv-heads', 'key/value heads (GQA) [default: scaled with the heads]'))
    .option('head-dim', dim('--head-dim', 'per-head size (Llama family) [default: the source\'s]'))
    .option('intermediate-size', dim('--intermediate-size', 'FFN size [default: scaled with the width]'))
    .option('target-config', { type: 'string', requiresArg: true, group: 'Target:', describe: 'a config.json with the target dimensions (flags override it)' });
}

/** A learning-phase flag with a number and its default in --help. */
const learningNum = (flag: string, describe: string, value?: number) => ({
  coerce: numberArg(flag),
  requiresArg: true,
  describe: value === undefined ? describe : `${describe} [default: ${value}]`,
  group: 'Learning phase:',
});

/** How the operator is made and learned. */
export function withMethodOptions<T>(y: Argv<T>) {
  const methods = y.option('method', {
    type: 'string',
    choices: GROWTH_METHODS,
    default: GROW_DEFAULTS.method,
    group: 'Method:',
    describe: 'ligo: the exact start, learned with --steps N; net2net (function-preserving), stack, interlace and random are baselines without learning',
  });
  return withLearningKnobs(methods).option('steps', learningNum('--steps', `operator training steps on --data (0: write the start) [default: 0 where the start is exact; ${REPAIR_STEPS} where it is lossy and --data is given]`));
}

/** The learning-phase flags of commands that use --steps for something else (compare): its steps are --learn-steps. */
export function withLearningPhaseOptions<T>(y: Argv<T>) {
  return withLearningKnobs(y).option('learn-steps', learningNum('--learn-steps', `steps of ligo's learning phase (grow's --steps) [default: 0 where the start is exact; ${REPAIR_STEPS} where it is lossy]`));
}

/**
 * The options the flags of withLearningKnobs set one for one, for commands' option tables: a flag
 * added there is added here (test/cli/compare.test.ts checks the two agree). --data is left out:
 * commands give it defaults of their own.
 */
export const LEARNING_OPTION_KEYS = [
  'init', 'start', 'depthStart', 'split', 'operator', 'seqLen', 'maxTokens', 'batchSize', 'lr', 'depthLr', 'headsLr', 'noise', 'splitNoise', 'copyNoise', 'keepBest', 'selectEvery',
  'warmup', 'weightDecay', 'clip', 'gradAccum', 'recompute', 'rank', 'distill', 'seed', 'heldOut', 'sourceLr',
] as const satisfies readonly (keyof GrowOptions)[];

/** Every learning-phase flag but the number of steps: the operator's start, the data and the optimizer. */
function withLearningKnobs<T>(y: Argv<T>) {
  const init = y.option('init', { type: 'string', choices: DEPTH_PATTERNS, default: GROW_DEFAULTS.init, group: 'Method:', describe: 'depth initialization of the LiGO operator' });
  const data = withDataOptions(init, {
    data: 'training text: .txt, .jsonl (a "text" field per line) or .bin (uint16 token ids)',
    seqLen: `tokens per sequence (capped at the model's positions) [default: ${GROW_DEFAULTS.seqLen}]`,
    batchSize: `sequences per step [default: ${GROW_DEFAULTS.batchSize}]`,
    maxTokens: 'use only the first N tokens of --data',
    group: 'Learning phase:',
  });
  const num = learningNum;
  return data
    .option('lr', num('--lr', 'peak learning rate (AdamW) of the width matrices', GROW_DEFAULTS.lr))
    .option(
      'depth-lr',
      num('--depth-lr', 'peak learning rate of the depth coefficients (a few per layer, so they need larger steps than width entries to matter); 5e-2 when not given where added layers start as copies or noisy stacks (--depth-start copy, noisy)', GROW_DEFAULTS.depthLr),
    )
    .option(
      'heads-lr',
      num('--heads-lr', 'peak learning rate of the attention operators\' head and head_dim matrices (few entries of size ~1, like the depth coefficients) [default: --lr]'),
    )
    .option('noise', num('--noise', 'standard deviation of Gaussian noise on the starting operator entries (breaks the symmetry of copied units)', GROW_DEFAULTS.noise))
    .option(
      'split-noise',
      num('--split-noise', 'function-preserving symmetry breaking: each copy of a unit gets an unequal share (1 + e)/copies of its consuming weights, e ~ N(0, x) summing to 0 over the copies', GROW_DEFAULTS.splitNoise),
    )
    .option('start', {
      type: 'string',
      choices: START_RULES,
      group: 'Method:',
      describe:
        `where the operator starts: exact keeps the source's function at any width (past whole copies, new residual dims start as the mean of the old under LayerNorm, zero under RMSNorm, with norm gains and epsilon rescaled), copy (net2net's copies, exact only at integer width factors) or ligo-paper (the LiGO paper's start, lossy by design: new units are random mixtures of the old on both sides of every weight, layers start as noisy stacks; ligo only, drawn from --seed, takes the dense operator and --data, and learns ${REPAIR_STEPS} steps to repair it) [default: exact for ligo, copy for net2net/stack/interlace]`,
    })
    .option('depth-start', {
      type: 'string',
      choices: DEPTH_STARTS,
      group: 'Method:',
      describe:
        `how ligo's new layers start (--init says from which source layer): identity (every repeat's output projections zeroed, so it adds nothing and the function is kept; pre-norm families only), copy (plain copies of their source layers, as G_stack stacks: lossy, since each copy adds its update to the residual stream again, and repaired by ${REPAIR_STEPS} learning steps with --data) or noisy (the paper's: each layer its source plus U(0, 0.03) of every source layer, normalized; needs --data) [default: identity where the family allows it, copy for post-norm families, noisy with --start ligo-paper]`,
    })
    .option('split', {
      type: 'string',
      choices: SPLIT_MODES,
      group: 'Method:',
      describe:
        `how the copies of a unit share its consuming weights in the starting operator, both function-preserving: first (the first copy keeps the weight, the others start at 0, so copies train apart and the grown width gets used) or even (net2net's 1/copies each: copies stay bit-identical under any training, so the model never uses more than the source's width) [default: ${GROW_DEFAULTS.split} for ligo, even for net2net/stack/interlace]`,
    })
    .option(
      'copy-noise',
      num('--copy-noise', 'with --split first: each later copy of a unit starts as the unit plus x times a random mixture of all units (about one unit\'s norm), still function-preserving since nothing reads it yet (the residual stream\'s copies stay exact)', GROW_DEFAULTS.copyNoise),
    )
    .option('keep-best', {
      type: 'boolean',
      default: GROW_DEFAULTS.keepBest,
      group: 'Learning phase:',
      describe: 'measure the operator (the start, every --select-every steps, the end) on selection tokens cut from the end of the training split, and keep the lowest one whose gain over the start is clear of the windows\' noise (2 standard errors): learning does not end worse than its start by chance',
    })
    .option('select-every', num('--select-every', 'steps between --keep-best measurements (0 = start and end only)', GROW_DEFAULTS.selectEvery))
    .option('warmup', num('--warmup', 'linear warmup steps, then cosine decay', GROW_DEFAULTS.warmup))
    .option('weight-decay', num('--weight-decay', 'AdamW decoupled weight decay on the operator', GROW_DEFAULTS.weightDecay))
    .option('clip', num('--clip', 'max global gradient norm, 0 = off', GROW_DEFAULTS.clip))
    .option('grad-accum', num('--grad-accum', 'micro-batches per step', GROW_DEFAULTS.gradAccum))
    .option('recompute', {
      type: 'boolean',
      group: 'Learning phase:',
      describe:
        'recompute each layer (its grown weights included) in backpropagation instead of keeping it: a fraction of the memory, about 1/3 more compute [default: only when the learning phase would not fit in memory otherwise; --no-recompute refuses such a run instead]',
    })
    .option('operator', {
      type: 'string',
      choices: OPERATOR_KINDS,
      group: 'Method:',
      describe:
        `how ligo parameterizes each width operator: lowrank (the function-preserving starting selection plus a learned correction of rank --rank: a few MB to train at any size) or dense (one full large x small matrix per operator, as in the LiGO paper: larger than the model it builds at real sizes) [default: ${GROW_DEFAULTS.operator}; dense with --start ligo-paper]`,
    })
    .option('rank', num('--rank', 'rank of the low-rank operator\'s learned correction', GROW_DEFAULTS.rank))
    .option('distill', num('--distill', 'weight of a KL term to the small model\'s next-token distribution', GROW_DEFAULTS.distill))
    .option('seed', num('--seed', 'seed for batches, noise and masking (same seed, same bytes)', GROW_DEFAULTS.seed))
    .option('held-out', num('--held-out', 'fraction of the data held out for the loss before/after', GROW_DEFAULTS.heldOut))
    .option('source-lr', {
      coerce: numberArg('--source-lr'),
      requiresArg: true,
      group: 'Training after growth:',
      describe:
        "the learning rate the source ended its training at: the recommended training after growth holds the inherited weights there while new ones re-warm to the peak [default: the source's trainer_state.json, else a tenth of the peak]",
    });
}

/** Where and how the grown checkpoint is written. */
export function withWriteOptions<T>(y: Argv<T>) {
  return y
    .option('out', { type: 'string', demandOption: true, requiresArg: true, group: 'Output:', describe: 'output directory (written atomically)' })
    .option('dtype', { coerce: dtypeArg, requiresArg: true, group: 'Output:', describe: 'weight dtype: f32, f16 or bf16 [default: the source\'s]' })
    .option('max-shard-size', {
      coerce: (v: unknown) => parseSize(typeof v === 'number' ? v : String(v)),
      requiresArg: true,
      group: 'Output:',
      describe: 'largest safetensors shard, decimal units like Hugging Face [default: 5GB]',
    })
    .option('overwrite', { type: 'boolean', default: false, group: 'Output:', describe: 'replace an existing --out (only once the new one is complete)' });
}

const TARGET_KEYS: (keyof TargetOptions)[] = ['layers', 'hiddenSize', 'heads', 'kvHeads', 'headDim', 'intermediateSize'];

/**
 * The target flags given (withTargetOptions) as library options; a source of the user's own needs
 * a target size or --target-config (the bundled fixture has a default one).
 */
export function targetFromArgs(command: string, args: Partial<Record<keyof TargetOptions, number>> & { targetConfig?: string }, bundled: boolean): TargetOptions {
  const target = Object.fromEntries(TARGET_KEYS.map((k) => [k, args[k]]).filter(([, v]) => v !== undefined)) as TargetOptions;
  if (!bundled && Object.keys(target).length === 0 && !args.targetConfig) {
    throw new UsageError(`${command}: give the target size (--layers, --hidden-size, ...) or --target-config`, { flag: '--layers' });
  }
  return target;
}

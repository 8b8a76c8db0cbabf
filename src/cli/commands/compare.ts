import * as path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { BUNDLED_FIXTURE } from '../../fixture.js';
import { COMPARE_FILE, COMPARE_PLOT_FILE } from '../../output/index.js';
import { compare, COMPARE_DEFAULTS, type CompareOptions } from '../../pipeline/index.js';
import { DOWNSTREAM_RECIPES } from '../../pipeline/index.js';
import { createOutput, type CliIO } from '../output.js';
import { numberArg, optionsFrom, withBackendOption, withHubSourceOptions, withOutputOptions, type ArgsOf } from '../options.js';
import { localSource } from '../source.js';
import { renderCompare } from './compare_render.js';
import { LEARNING_OPTION_KEYS, targetFromArgs, withLearningPhaseOptions, withTargetOptions } from './grow_options.js';

const builder = (y: Argv) => {
  const num = (flag: string, describe: string) => ({ coerce: numberArg(flag), requiresArg: true, describe, group: 'Comparison:' });
  return withHubSourceOptions(withBackendOption(withOutputOptions(withLearningPhaseOptions(withTargetOptions(y)))))
    .positional('source', { type: 'string', describe: 'small model directory or Hub repo owner/name[@revision] [default: the bundled fixture model, on a text it has not seen]' })
    .option('methods', {
      type: 'string',
      requiresArg: true,
      group: 'Comparison:',
      describe: `growth methods to compare, comma-separated; random is a model of the target shape trained from scratch [default: ${COMPARE_DEFAULTS.methods.join(',')}]`,
    })
    .option('steps', num('--steps', `training steps of every method after growth, on the same batches [default: ${COMPARE_DEFAULTS.steps}]`))
    .option('train-batch-size', num('--train-batch-size', `sequences per training step (of --seq-len tokens) [default: ${COMPARE_DEFAULTS.trainBatchSize}]`))
    .option('train-lr', num('--train-lr', 'peak learning rate of the training [default: the from-scratch peak for the target width, 2e-3 at 128 falling as width^-0.8]'))
    .option('train-recipe', {
      type: 'string',
      choices: DOWNSTREAM_RECIPES,
      requiresArg: true,
      group: 'Comparison:',
      describe: `how grown models train: split (new weights re-warmed to the peak over the first third of the steps, inherited ones held at --source-lr), lemon (one schedule, the peak, cosine decay over the first half) or single (one schedule for every weight, the peak reached over the first third) [default: ${COMPARE_DEFAULTS.trainRecipe}]`,
    })
    .option('eval-every', num('--eval-every', 'steps between held-out measurements [default: a tenth of --steps]'))
    .option('out', { type: 'string', requiresArg: true, group: 'Comparison:', describe: `directory for ${COMPARE_FILE} (every curve and its FLOPs) and ${COMPARE_PLOT_FILE} (the curves)` })
    .example('$0 compare --out compare-out', 'the bundled fixture grown 2x, on a text it has not seen: ligo, net2net and scratch')
    .example('$0 compare ./gpt2 --layers 24 --data wiki.txt --steps 500 --out cmp', 'does growth pay on your data?')
    .epilogue(
      [
        'Grows the source with each method exactly as `ligo grow` does (ligo with the learning-phase flags;',
        'its steps are --learn-steps, none by default), trains every grown model for --steps',
        'on the same batches with --train-recipe (by default new weights re-warmed to the from-scratch peak',
        'over the first third of the steps, inherited ones held at the rate the source ended at; random',
        'warms up over a tenth), measures held-out loss along the way and',
        'prints the curves and the compute each method saves against the others, learning phase counted.',
        'Exit codes: 0 success, 1 runtime failure, 2 usage error.',
      ].join('\n'),
    );
};


/** The flags that set the library option of the same name, one for one (source, data, methods and the target size have defaults of their own). */
const COMPARE_OPTION_KEYS = ['targetConfig', 'steps', 'learnSteps', 'trainBatchSize', 'trainLr', 'trainRecipe', 'evalEvery', 'out', 'backend', 'threads', ...LEARNING_OPTION_KEYS] as const satisfies readonly (keyof CompareOptions)[];

/** --methods a,b,c as a list (the library checks the names). */
const methodList = (value: string | undefined): CompareOptions['methods'] =>
  value === undefined ? undefined : (value.split(',').map((m) => m.trim()).filter((m) => m !== '') as CompareOptions['methods']);

type CompareArgs = ArgumentsCamelCase<ArgsOf<typeof builder>>;

/** `ligo compare`: the flags mapped to the library call, its progress and result printed. */
async function runCompare(args: CompareArgs, io: CliIO): Promise<void> {
  const out = createOutput(args, io);
  const bundled = args.source === undefined;
  const target = targetFromArgs('compare', args, bundled);
  const data = args.data ?? (bundled ? BUNDLED_FIXTURE.unseenData : undefined);
  if (data === undefined) throw new UsageError('--data: compare trains on text; pass --data <file> (.txt, .jsonl or .bin)', { flag: '--data' });
  const options: CompareOptions = {
    ...(bundled && Object.keys(target).length === 0 ? BUNDLED_FIXTURE.target : target),
    source: bundled ? BUNDLED_FIXTURE.model : await localSource(args.source as string, args, io.env, out),
    sourceLabel: args.source,
    data,
    methods: methodList(args.methods),
    ...optionsFrom<CompareOptions, (typeof COMPARE_OPTION_KEYS)[number]>(args, COMPARE_OPTION_KEYS),
  };
  if (bundled) out.log(`no source given: comparing growth of the bundled fixture ${options.source} on ${data}, a text it has not seen`);
  const steps = out.progress('train', 'steps');
  const learning = out.progress('learn', 'steps');
  let result;
  try {
    result = await compare({
      ...options,
      onProgress: (e) => {
        if (e.phase === 'train') return steps.update(e.step, e.steps, `${e.method}, loss ${e.loss.toFixed(3)}`);
        if (e.phase === 'learn') return learning.update(e.step, e.steps, `ligo's operator, loss ${e.loss.toFixed(3)}`);
        if (e.phase === 'learn-layer') return;
        if (e.phase === 'heldOut') return void (e.step === 0 ? out.log(`${e.method}: held-out ${e.loss.toFixed(4)} after growth`) : undefined);
        steps.stop();
        learning.stop();
        if (e.phase === 'method') out.log(`[${e.index + 1}/${e.count}] ${e.method}`);
        else if (e.phase !== 'write') out.log(e.message);
      },
    });
  } finally {
    steps.stop();
    learning.stop();
  }
  const files = options.out === undefined ? [] : [path.join(options.out, COMPARE_FILE), path.join(options.out, COMPARE_PLOT_FILE)];
  const shown = result;
  out.result(shown, () => renderCompare(shown, files));
}

export const compareCommand = (io: CliIO): CommandModule<object, ArgsOf<typeof builder>> => ({
  command: 'compare [source]',
  describe: 'Does growth pay on your data? Grow with several methods, train each, compare loss curves and compute',
  builder,
  handler: (args) => runCompare(args, io),
});

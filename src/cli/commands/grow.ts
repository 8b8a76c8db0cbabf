import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { BUNDLED_FIXTURE } from '../../fixture.js';
import { grow, planGrow, type GrowOptions, type GrowthMethod, type GrowthReport, type TargetOptions } from '../../growth/index.js';
import { createOutput, type CliIO } from '../output.js';
import { withBackendOption, withOutputOptions, type ArgsOf } from '../options.js';
import { renderPlan, renderReport } from './grow_render.js';
import { withMethodOptions, withTargetOptions, withWriteOptions } from './grow_options.js';

const builder = (y: Argv) =>
  withBackendOption(withOutputOptions(withWriteOptions(withMethodOptions(withTargetOptions(y)))))
    .positional('source', { type: 'string', describe: 'small model directory [default: the bundled fixture model and text]' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'print the growth plan (shapes, parameters, operators) and exit' })
    .example('$0 grow --out grown', 'grow the bundled fixture (2x64 GPT-2) to 4 layers x 128 on the bundled text')
    .example('$0 grow ./gpt2 --layers 24 --hidden-size 1024 --data wiki.txt --out gpt2-grown', 'LiGO, 100 steps')
    .example('$0 grow ./llama --hidden-size 4096 --kv-heads 8 --data c4.jsonl --out big --dtype bf16', 'Llama with GQA')
    .example('$0 grow ./bert --target-config large.json --method net2net --out bert-large', 'a baseline, no data needed')
    .example('$0 grow ./gpt2 --layers 24 --dry-run', 'show the plan only')
    .epilogue(
      [
        'LiGO (Wang et al., ICLR 2023) writes every grown tensor as a learned linear map of the small ones:',
        'width operators per growth dimension (residual stream; per layer FFN and attention heads) and',
        'depth coefficients per layer group, trained for --steps on --data with the small model frozen.',
        'Exit codes: 0 success, 1 runtime failure, 2 usage error.',
      ].join('\n'),
    );

const TARGET_KEYS: (keyof TargetOptions)[] = ['layers', 'hiddenSize', 'heads', 'kvHeads', 'headDim', 'intermediateSize'];

export const growCommand = (io: CliIO): CommandModule<object, ArgsOf<typeof builder>> => ({
  command: 'grow [source]',
  describe: 'Grow a checkpoint into a larger one with a learned LiGO operator (or a baseline)',
  builder,
  handler: async (args) => {
    const out = createOutput(args, io);
    const bundled = args.source === undefined;
    const target = Object.fromEntries(TARGET_KEYS.map((k) => [k, args[k]]).filter(([, v]) => v !== undefined)) as TargetOptions;
    if (!bundled && Object.keys(target).length === 0 && !args.targetConfig) {
      throw new UsageError('grow: give the target size (--layers, --hidden-size, ...) or --target-config', { flag: '--layers' });
    }
    const options: GrowOptions = {
      ...(bundled && Object.keys(target).length === 0 ? BUNDLED_FIXTURE.target : target),
      source: args.source ?? BUNDLED_FIXTURE.model,
      data: args.data ?? (bundled ? BUNDLED_FIXTURE.data : undefined),
      out: args.out,
      targetConfig: args.targetConfig,
      method: args.method as GrowthMethod,
      init: args.init as 'stack' | 'interlace',
      steps: args.steps,
      lr: args.lr,
      warmup: args.warmup,
      weightDecay: args.weightDecay,
      clip: args.clip,
      batchSize: args.batchSize,
      seqLen: args.seqLen,
      gradAccum: args.gradAccum,
      distill: args.distill,
      seed: args.seed,
      maxTokens: args.maxTokens,
      heldOut: args.heldOut,
      dtype: args.dtype,
      maxShardSize: args.maxShardSize,
      overwrite: args.overwrite,
      backend: args.backend,
    };
    if (bundled) out.log(`no source given: growing the bundled fixture ${options.source} on ${options.data}`);
    if (args.dryRun) {
      const plan = await planGrow(options);
      out.result(plan, () => renderPlan(plan));
      return;
    }
    const steps = out.progress('learn', 'steps');
    const writing = out.progress('write', 'tensors');
    let report: GrowthReport;
    try {
      report = await grow({
        ...options,
        onProgress: (e) => {
          if (e.phase === 'learn') steps.update(e.step, e.steps, `loss ${e.loss.toFixed(3)}, ${Math.round(e.tokensPerSecond)} tok/s`);
          else if (e.phase === 'write') writing.update(e.done, e.total);
          else out.log(e.message);
        },
      });
    } finally {
      steps.stop();
      writing.stop();
    }
    out.result(report, () => renderReport(report));
  },
});

import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { BUNDLED_FIXTURE } from '../../fixture.js';
import { formatCommand, type GrowthReport } from '../../output/index.js';
import { grow, planGrow, REPAIR_STEPS, type GrowOptions } from '../../pipeline/index.js';
import { createOutput, type CliIO } from '../output.js';
import { formatSeconds, insideStep } from '../progress.js';
import { optionsFrom, withBackendOption, withHubSourceOptions, withOutputOptions, type ArgsOf } from '../options.js';
import { checkPushable, pushWithProgress } from '../push.js';
import { localSource } from '../source.js';
import { renderPlan, renderReport } from './grow_render.js';
import { targetFromArgs, withMethodOptions, withTargetOptions, withWriteOptions } from './grow_options.js';

const builder = (y: Argv) =>
  withHubSourceOptions(withBackendOption(withOutputOptions(withWriteOptions(withMethodOptions(withTargetOptions(y))))))
    .positional('source', { type: 'string', describe: 'small model directory or Hub repo owner/name[@revision] [default: the bundled fixture model and text]' })
    .option('push-to-hub', { type: 'string', requiresArg: true, group: 'Hub:', describe: 'upload the grown model to this Hub repo (owner/name), created when missing' })
    .option('private', { type: 'boolean', default: false, group: 'Hub:', describe: 'with --push-to-hub: create the repo private' })
    .option('branch', { type: 'string', requiresArg: true, group: 'Hub:', describe: 'with --push-to-hub: branch to commit to [default: main]' })
    .option('commit-message', { type: 'string', requiresArg: true, group: 'Hub:', describe: 'with --push-to-hub: commit title' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'print the growth plan (shapes, parameters, operators) and exit' })
    .example('$0 grow --out grown', 'grow the bundled fixture (2x64 GPT-2) to 4 layers x 128 on the bundled text')
    .example('$0 grow ./gpt2 --layers 24 --hidden-size 1024 --out gpt2-grown', 'the function-preserving start, streamed, no data needed')
    .example('$0 grow ./gpt2 --layers 24 --hidden-size 1024 --data wiki.txt --steps 20 --out g', 'learn the operator for 20 steps on your text')
    .example('$0 grow ./llama --hidden-size 4096 --kv-heads 8 --data c4.jsonl --out big --dtype bf16', 'Llama with GQA')
    .example('$0 grow ./bert --target-config large.json --method net2net --out bert-large', 'a baseline, no data needed')
    .example('$0 grow ./gpt2 --layers 24 --depth-start copy --data wiki.txt --out g', 'new layers as copies of the old (G_stack), repaired by learning')
    .example('$0 grow ./bert --target-config large.json --start ligo-paper --data wiki.txt --out g', "the LiGO paper's own random start, learned")
    .example('$0 grow ./gpt2 --layers 24 --dry-run', 'show the plan only')
    .example('$0 grow openai-community/gpt2 --layers 24 --data wiki.txt --out g --push-to-hub me/gpt2-24l', 'from the Hub and back')
    .epilogue(
      [
        'LiGO (Wang et al., ICLR 2023) writes every grown tensor as a linear map of the small ones: width',
        'operators per growth dimension (residual stream; per layer FFN and attention heads) and depth',
        'coefficients per layer group. ligo starts them where the grown model computes exactly what the',
        'source computes, at any width, and by default writes that start: in bench:downstream it saved',
        'more training compute than a learned operator, whose gain at growth did not last (docs/BENCHMARKS.md).',
        '--steps N learns the operator for N steps on --data with the small model frozen (2 x 128 tokens a',
        'step by default). Without --data every method streams the grown model from the source tensor by',
        'tensor, in about a tensor\'s memory; with --data grow also reports held-out loss, which needs the',
        'whole grown model in memory.',
        'Adam moves every entry by about its learning rate per step, so the few depth coefficients learn at',
        '--depth-lr 5e-3 while the width matrices (one entry per unit pair) move at --lr 3e-4. --keep-best',
        'measures the operator on selection tokens (the start, every --select-every steps, the end) and keeps',
        'a learned one only when it beats the start window by window by more than twice the standard error,',
        'so learning does not end worse than its function-preserving start by chance; the report prints the',
        'learned operator against that start. Train the grown model further with its new weights',
        '(ligo_new_parameters.json) re-warmed to the from-scratch peak over the first third of the steps',
        'and its inherited ones held at the rate the source ended at (--source-lr, or its trainer_state.json;',
        'else a tenth of the peak): re-warming every weight to the peak undoes the head start (growth.json:',
        'downstream; the model card has the PyTorch parameter groups).',
        'Lossy starts are what the learning phase repairs: --start copy at a non-integer width factor, new',
        'layers as plain copies (--depth-start copy: G_stack, "Stacking your transformers", 2024, found',
        'stacked copies train faster than fresh layers at LLM scale), and the paper\'s own start (--start',
        'ligo-paper: new units random mixtures of the old, layers noisy stacks, drawn from --seed). With',
        `--data a lossy start learns ${REPAIR_STEPS} steps by default, and the report gives its held-out gap to the source`,
        'before and after; docs/BENCHMARKS.md has how much of the gap each start gets back.',
        'Exit codes: 0 success, 1 runtime failure, 2 usage error.',
      ].join('\n'),
    );


/** The flags that set the library option of the same name, one for one (source, data and the target size have defaults of their own). */
const GROW_OPTION_KEYS = [
  'out', 'targetConfig', 'method', 'init', 'steps', 'lr', 'depthLr', 'headsLr', 'noise', 'splitNoise', 'split', 'start', 'depthStart', 'copyNoise', 'keepBest', 'selectEvery', 'warmup', 'weightDecay', 'clip', 'batchSize', 'seqLen', 'gradAccum',
  'recompute', 'operator', 'rank', 'distill', 'seed', 'maxTokens', 'heldOut', 'sourceLr', 'dtype', 'maxShardSize', 'overwrite', 'backend', 'threads',
] as const satisfies readonly (keyof GrowOptions)[];

type GrowArgs = ArgumentsCamelCase<ArgsOf<typeof builder>>;

/** `ligo grow`: the flags mapped to the library call, its progress and result printed. */
async function runGrow(args: GrowArgs, io: CliIO): Promise<void> {
  const out = createOutput(args, io);
  const bundled = args.source === undefined;
  const target = targetFromArgs('grow', args, bundled);
  // Check what a push needs before a long run, not after it.
  if (args.pushToHub !== undefined) await checkPushable(args.pushToHub, args, io);
  const options: GrowOptions = {
    ...(bundled && Object.keys(target).length === 0 ? BUNDLED_FIXTURE.target : target),
    source: args.source === undefined ? BUNDLED_FIXTURE.model : await localSource(args.source, args, io.env, out),
    sourceLabel: args.source,
    command: formatCommand(io.argv ?? []),
    data: args.data ?? (bundled ? BUNDLED_FIXTURE.data : undefined),
    ...optionsFrom<GrowOptions, (typeof GROW_OPTION_KEYS)[number]>(args, GROW_OPTION_KEYS),
  };
  if (bundled) out.log(`no source given: growing the bundled fixture ${options.source} on ${options.data}`);
  if (args.dryRun) {
    const plan = await planGrow(options);
    out.result(plan, () => renderPlan(plan));
    return;
  }
  const steps = out.progress('learn', 'steps');
  const inStep = insideStep(steps);
  const writing = out.progress('write', 'tensors');
  let report: GrowthReport;
  try {
    report = await grow({
      ...options,
      onProgress: (e) => {
        if (e.phase === 'learn') {
          steps.update(e.step, e.steps, `loss ${e.loss.toFixed(3)}, ${formatSeconds(e.stepSeconds)} per step`);
          return;
        }
        if (e.phase === 'learn-layer') {
          inStep.layer(e);
          return;
        }
        steps.stop(); // learning is over: log lines must not land inside its bar
        if (e.phase === 'write') writing.update(e.done, e.total);
        else out.log(e.message);
      },
    });
  } finally {
    steps.stop();
    writing.stop();
  }
  const push = args.pushToHub === undefined ? undefined : await pushWithProgress(report.out, args.pushToHub, args, io, out);
  const result = push ? { ...report, push: { repo: push.repo, commitUrl: push.commitUrl, files: push.files } } : report;
  out.result(result, () => renderReport(report) + (push ? `\npushed         ${push.commitUrl}` : ''));
}

export const growCommand = (io: CliIO): CommandModule<object, ArgsOf<typeof builder>> => ({
  command: 'grow [source]',
  describe: 'Grow a checkpoint into a larger one with a LiGO operator, function-preserving or learned (or a baseline)',
  builder,
  handler: (args) => runGrow(args, io),
});

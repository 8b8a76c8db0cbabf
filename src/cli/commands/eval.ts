import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { evaluate, type EvalResult, type EvaluateOptions } from '../../eval/index.js';
import { table, thousands } from '../format.js';
import { createOutput, type CliIO } from '../output.js';
import { numberArg, optionsFrom, withBackendOption, withDataOptions, withHubSourceOptions, withOutputOptions, type ArgsOf } from '../options.js';
import { localSource } from '../source.js';

const builder = (y: Argv) =>
  withHubSourceOptions(
    withDataOptions(withBackendOption(withOutputOptions(y)), {
      data: 'text file, .jsonl (a "text" field per line) or pre-tokenized .bin (uint16)',
      seqLen: "tokens per window [default: min(256, the model's positions)]",
      batchSize: 'windows per forward pass [default: 8, fewer for large vocabularies]',
      maxTokens: 'use only the first N tokens of the data',
      required: true,
    }).demandOption('data'),
  )
    .positional('dir', { type: 'string', demandOption: true, describe: 'model directory, or a Hub repo owner/name[@revision]' })
    .option('seed', { coerce: numberArg('--seed'), default: 0, describe: 'masking seed for BERT (masked-LM loss)' })
    .example('$0 eval ./gpt2 --data wiki.txt', 'loss and perplexity on a text file')
    .example('$0 eval ./gpt2 --data wiki.jsonl --seq-len 128', 'windows of 128 tokens')
    .example('$0 eval ./gpt2 --data val.bin --max-tokens 1e5', 'the first 100k pre-tokenized ids')
    .example('$0 eval ./grown --data val.txt --json | tail -n1', 'the result as one JSON line')
    .epilogue(
      [
        'Window i is tokens [i*T, (i+1)*T) for every full window; each window predicts its tokens',
        '1..T-1 from its own prefix, and loss is the mean cross-entropy (nats) over all of them.',
        'BERT models are scored with the masked-LM loss under seeded 15% masking (--seed, default 0).',
      ].join('\n'),
    );

/** The flags that set the library option of the same name, one for one. */
const EVAL_OPTION_KEYS = ['data', 'seqLen', 'maxTokens', 'batchSize', 'backend', 'threads', 'seed'] as const satisfies readonly (keyof EvaluateOptions)[];

type EvalArgs = ArgumentsCamelCase<ArgsOf<typeof builder>>;

/** `ligo eval`: the flags mapped to the library call, its progress and result printed. */
async function runEval(args: EvalArgs, io: CliIO): Promise<void> {
  const out = createOutput(args, io);
  const dir = await localSource(args.dir, args, io.env, out);
  const progress = out.progress('eval', 'windows');
  let result: EvalResult;
  try {
    result = await evaluate({
      model: dir,
      ...optionsFrom<EvaluateOptions, (typeof EVAL_OPTION_KEYS)[number]>(args, EVAL_OPTION_KEYS),
      log: out.log,
      onProgress: (done, total) => progress.update(done, total),
    });
  } finally {
    progress.stop();
  }
  out.result(result, () => render(result));
}

export const evalCommand = (io: CliIO): CommandModule<object, ArgsOf<typeof builder>> => ({
  command: 'eval <dir>',
  describe: 'Loss and perplexity of a checkpoint on a text, .jsonl or .bin file',
  builder,
  handler: (args) => runEval(args, io),
});

function render(r: EvalResult): string {
  const predicted = r.objective === 'mlm' ? 'masked positions predicted' : 'predicted';
  return table([
    ['loss', r.loss.toFixed(4)],
    ['perplexity', r.perplexity.toFixed(2)],
    ['tokens', `${thousands(r.tokens)} ${predicted} (${thousands(r.windows)} windows of ${r.seqLen})`],
    ['objective', r.objective === 'mlm' ? 'masked LM (BERT)' : 'causal LM'],
    ['backend', r.backend],
    ['throughput', `${thousands(Math.round(r.tokensPerSecond))} tokens/s (${r.seconds.toFixed(2)} s)`],
  ]);
}

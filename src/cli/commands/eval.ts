import type { Argv, CommandModule } from 'yargs';
import { evaluate, type EvalResult } from '../../eval/index.js';
import { table, thousands } from '../format.js';
import { createOutput, type CliIO } from '../output.js';
import { numberArg, withBackendOption, withDataOptions, withHubSourceOptions, withOutputOptions, type ArgsOf } from '../options.js';
import { localSource } from '../source.js';

const builder = (y: Argv) =>
  withHubSourceOptions(withDataOptions(withBackendOption(withOutputOptions(y))))
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

export const evalCommand = (io: CliIO): CommandModule<object, ArgsOf<typeof builder>> => ({
  command: 'eval <dir>',
  describe: 'Loss and perplexity of a checkpoint on a text, .jsonl or .bin file',
  builder,
  handler: async (args) => {
    const out = createOutput(args, io);
    const dir = await localSource(args.dir, args, io.env, out);
    const progress = out.progress('eval', 'windows');
    let result: EvalResult;
    try {
      result = await evaluate({
        model: dir,
        data: args.data,
        seqLen: args.seqLen,
        maxTokens: args.maxTokens,
        batchSize: args.batchSize,
        backend: args.backend,
        threads: args.threads,
        seed: args.seed,
        log: out.log,
        onProgress: (done, total) => progress.update(done, total),
      });
    } finally {
      progress.stop();
    }
    out.result(result, () => render(result));
  },
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

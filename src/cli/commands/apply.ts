import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { apply, type ApplyOptions } from '../../pipeline/index.js';
import { formatCommand, type GrowthReport } from '../../output/index.js';
import { createOutput, type CliIO } from '../output.js';
import { optionsFrom, withBackendOption, withHubSourceOptions, withOutputOptions, type ArgsOf } from '../options.js';
import { localSource } from '../source.js';
import { renderReport } from './grow_render.js';
import { withWriteOptions } from './grow_options.js';

const builder = (y: Argv) =>
  withHubSourceOptions(withBackendOption(withOutputOptions(withWriteOptions(y))))
    .positional('source', { type: 'string', demandOption: true, describe: 'small model directory the operator was learned for' })
    .option('operator', { type: 'string', demandOption: true, requiresArg: true, describe: 'ligo_operator.safetensors, or a grown directory holding one' })
    .example('$0 apply ./gpt2 --operator ./gpt2-grown --out ./again', 'rebuild a grown model from its operator')
    .example('$0 apply ./llama-ckpt-2 --operator op.safetensors --out big --dtype bf16', 'reuse an operator on another checkpoint of the same shape')
    .epilogue(
      'Streams: copy/scale operators (net2net, stack, interlace) are applied as gathers in 1 MB blocks written as they are built; a learned operator goes through tfjs one tensor at a time, holding only that tensor\'s operator parameters. Memory stays near one tensor kind of the small model, not the model or the operator.',
    );

/** The flags that set the library option of the same name, one for one. */
const APPLY_OPTION_KEYS = ['out', 'dtype', 'maxShardSize', 'overwrite', 'backend', 'threads'] as const satisfies readonly (keyof ApplyOptions)[];

type ApplyArgs = ArgumentsCamelCase<ArgsOf<typeof builder>>;

/** `ligo apply`: the flags mapped to the library call, its progress and result printed. */
async function runApply(args: ApplyArgs, io: CliIO): Promise<void> {
  const out = createOutput(args, io);
  const source = await localSource(args.source, args, io.env, out);
  const operator = args.operator.endsWith('.safetensors') ? args.operator : await localSource(args.operator, args, io.env, out);
  const writing = out.progress('write', 'tensors');
  let report: GrowthReport;
  try {
    report = await apply({
      source,
      sourceLabel: args.source,
      command: formatCommand(io.argv ?? []),
      operator,
      ...optionsFrom<ApplyOptions, (typeof APPLY_OPTION_KEYS)[number]>(args, APPLY_OPTION_KEYS),
      onProgress: (e) => {
        if (e.phase === 'write') writing.update(e.done, e.total);
        else if (e.phase === 'load' || e.phase === 'evaluate') out.log(e.message);
      },
    });
  } finally {
    writing.stop();
  }
  out.result(report, () => renderReport(report));
}

export const applyCommand = (io: CliIO): CommandModule<object, ArgsOf<typeof builder>> => ({
  command: 'apply <source>',
  describe: 'Materialize a saved growth operator onto a source checkpoint (no training)',
  builder,
  handler: (args) => runApply(args, io),
});

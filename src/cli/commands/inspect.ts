import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { rotaryDims } from '../../arch/dims.js';
import { inspectModel, type ModelInspection } from '../../inspect/index.js';
import { describeNewParameters, readNewParametersSummary, type NewParametersSummary } from '../../output/index.js';
import { bytes, grid, table, thousands } from '../format.js';
import { createOutput, type CliIO } from '../output.js';
import { withHubSourceOptions, withOutputOptions, type ArgsOf } from '../options.js';
import { localSource } from '../source.js';

const builder = (y: Argv) =>
  withHubSourceOptions(withOutputOptions(y))
    .positional('dir', { type: 'string', demandOption: true, describe: 'model directory, or a Hub repo owner/name[@revision]' })
    .option('tensors', { type: 'boolean', default: false, describe: 'also list every tensor: name, dtype, shape, file' })
    .example('$0 inspect ./gpt2', 'family, sizes, parameters, dtypes, shards')
    .example('$0 inspect ./gpt2 --tensors', 'the same, plus one line per tensor')
    .example('$0 inspect ./gpt2 --json | jq .parameters', 'the report as JSON for scripts');

type InspectArgs = ArgumentsCamelCase<ArgsOf<typeof builder>>;

/** `ligo inspect`: the flags mapped to the library call, its progress and result printed. */
async function runInspect(args: InspectArgs, io: CliIO): Promise<void> {
  const out = createOutput(args, io);
  const dir = await localSource(args.dir, args, io.env, out);
  const inspection = await inspectModel(dir, { tensors: args.tensors });
  // A directory ligo grew says which of its weights are new.
  const grown = await readNewParametersSummary(dir);
  if (grown !== undefined && 'error' in grown) out.log(`${grown.error}; not shown`);
  const report = grown !== undefined && !('error' in grown) ? { ...inspection, newParameters: grown } : inspection;
  out.result(report, () => render(report));
}

export const inspectCommand = (io: CliIO): CommandModule<object, ArgsOf<typeof builder>> => ({
  command: 'inspect <dir>',
  describe: 'Show a checkpoint\'s architecture, size and storage (reads headers only)',
  builder,
  handler: (args) => runInspect(args, io),
});

function family(r: ModelInspection): string {
  const details = [r.modelType === r.family ? '' : `model_type ${r.modelType}`, r.architectures.join(', ')].filter((s) => s !== '');
  return details.length === 0 ? r.family : `${r.family} (${details.join('; ')})`;
}

/** The activation that runs, and the config field that disagrees when one does (Gemma's hidden_act). */
function activation(r: ModelInspection): string {
  const act = r.dims.activation;
  return r.configActivation !== undefined && r.configActivation !== act ? `${act} (config.json hidden_act "${r.configActivation}" is not used)` : act;
}

function rope(r: ModelInspection): string {
  const s = r.dims.ropeScaling;
  const scaling = s === undefined ? '' : s.type === 'linear' ? `, linear scaling x${s.factor}` : `, llama3 scaling x${s.factor} (original ${s.originalMaxPositions} positions)`;
  return `theta ${r.dims.ropeTheta}${scaling}${r.dims.qkNorm ? ', q/k RMSNorm per head' : ''}`;
}

function render(r: ModelInspection & { newParameters?: NewParametersSummary }): string {
  const d = r.dims;
  const heads = d.numKvHeads === d.numHeads ? `${d.numHeads}` : `${d.numHeads} (${d.numKvHeads} key/value)`;
  const dtypes = Object.entries(r.dtypes).map(([dtype, n]) => `${dtype} x ${n}`).join(', ');
  const rows: [string, string][] = [
    ['model', r.dir],
    ['family', family(r)],
    ['layers', `${d.numLayers}`],
    ['hidden size', `${d.hiddenSize}`],
    ['heads', heads],
    ['head dim', `${d.headDim}`],
    ['ffn size', `${d.intermediateSize}`],
    ['activation', activation(r)],
    ...(d.rotary ? [['rope', rope(r)] as [string, string]] : []),
    ...(d.scaleEmbeddings ? [['scaling', `embeddings x sqrt(${d.hiddenSize}), norm gains applied as ${d.normGainOffset ?? 0} + w`] as [string, string]] : []),
    ['vocab', thousands(d.vocabSize)],
    ['positions', thousands(d.maxPositions)],
    ['parameters', thousands(r.parameters)],
    ['dtypes', dtypes],
    ['tied embeddings', r.tiedEmbeddings ? 'yes' : 'no'],
    ['size', `${bytes(r.totalBytes)} in ${r.files.length} file${r.files.length === 1 ? '' : 's'}`],
  ];
  if ((d.partialRotary ?? 1) < 1) rows.push(['rotary', `first ${rotaryDims(d)} of ${d.headDim} dims per head (${d.partialRotary})`]);
  if (d.parallelResidual) rows.push(['residual', 'parallel (attention and MLP read the same input)']);
  if (d.slidingWindow !== undefined) rows.push(['sliding window', thousands(d.slidingWindow)]);
  if (r.optionalTensors.length > 0) rows.push(['optional', r.optionalTensors.join(', ')]);
  if (r.newParameters) rows.push(['grown by ligo', `${describeNewParameters(r.newParameters)} (${r.newParameters.file})`]);
  if (r.ignoredTensors.length > 0) rows.push(['ignored', `${r.ignoredTensors.length} buffer(s), e.g. ${r.ignoredTensors[0]}`]);
  const sections = [table(rows)];
  if (r.files.length > 1) {
    sections.push(grid([['shard', 'size', 'tensors'], ...r.files.map((f) => [f.file, bytes(f.bytes), thousands(f.tensors)])]));
  }
  if (r.tensors) {
    sections.push(grid([['tensor', 'dtype', 'shape', 'file'], ...r.tensors.map((t) => [t.name, t.dtype, `[${t.shape.join(', ')}]`, t.file])]));
  }
  return sections.join('\n\n');
}

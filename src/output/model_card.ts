import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ModelDims } from '../arch/dims.js';
import { ARCHITECTURES } from '../arch/resolve.js';
import { parseRepoRef } from '../checkpoint/repo_id.js';
import { describeStart } from '../growth/exact_start.js';
import { NEW_PARAMETERS_FILE, README_FILE } from './files.js';
import { describeNewParameters } from './new_parameters_file.js';
import { trainingSnippet } from './training_snippet.js';
import { APPLIED_INIT, type GrowthReport } from './report.js';
import { isJsonObject } from '../util/json.js';

/** The parts of growth.json a model card shows; the rest are optional so older reports still render. */
export type ModelCardReport = Pick<GrowthReport, 'family' | 'sourceDims' | 'targetDims' | 'parameters' | 'method' | 'steps' | 'data' | 'heldOut'> &
  Partial<Pick<GrowthReport, 'source' | 'init' | 'tokens' | 'dtype' | 'seqLen' | 'batchSize' | 'lr' | 'seed' | 'downstream' | 'start' | 'newParameters'>>;

export interface ModelCardOptions {
  /** The source as the user named it: a repo id (`owner/name[@rev]`) or a local path. */
  baseModel: string;
  /**
   * The directory the source was read from (a Hub cache snapshot or a local directory): tells a
   * download from a local directory whose path happens to look like `owner/name`. Without it (a
   * card made from growth.json alone), a `baseModel` that reads as a repo id is taken as one.
   */
  sourceDir?: string;
  /** The source card's license (see readLicense). */
  license?: string;
  /** The exact command that reproduces the model (see formatCommand). */
  command?: string;
  /** Heading; default "<family> grown with ligo". */
  title?: string;
}


/** The repo id inside a Hugging Face cache path (…/models--owner--name/snapshots/<commit>), if it is one. */
export function repoIdFromCachePath(dir: string): string | undefined {
  const match = /(?:^|[\\/])models--([^\\/]+?)--([^\\/]+)[\\/]snapshots[\\/][0-9a-f]{40}[\\/]?$/.exec(dir);
  return match === null ? undefined : `${match[1]}/${match[2]}`;
}

/**
 * How a card names its source: the Hub id when the model came from the Hub (as the user gave it,
 * with its revision, or the repo of a Hub cache snapshot), else the directory's base name: a card
 * is published (push), and a local path would show the user's directories. base_model must be a
 * Hub model id (the Hub rejects a card with anything else), so only `hubId` goes there.
 */
export function cardSource(baseModel: string, sourceDir?: string): { name: string; hubId?: string } {
  const cached = repoIdFromCachePath(sourceDir ?? baseModel);
  const ref = parseRepoRef(baseModel);
  if (cached !== undefined) return { name: ref?.repo === cached ? baseModel : cached, hubId: cached };
  if (sourceDir === undefined && ref !== undefined) return { name: baseModel, hubId: ref.repo };
  return { name: path.basename(path.resolve(sourceDir ?? baseModel)) };
}

/** A YAML scalar: plain when unambiguous, else double-quoted (a JSON string is a valid YAML one). */
function yamlScalar(value: string): string {
  return /^[A-Za-z0-9][\w./-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|~|[\d.]+)$/i.test(value) ? value : JSON.stringify(value);
}

/** The README.md of a grown model: Hub metadata in YAML front matter, then the growth report. */
export function renderModelCard(report: ModelCardReport, options: ModelCardOptions): string {
  const source = cardSource(options.baseModel, options.sourceDir);
  const base = source.hubId;
  const meta: string[] = ['---'];
  if (base !== undefined) meta.push(`base_model: ${yamlScalar(base)}`);
  meta.push('library_name: transformers');
  if (options.license !== undefined && options.license.trim() !== '') meta.push(`license: ${yamlScalar(options.license.trim())}`);
  // What the Hub's widget and search call the family's task (a family fact, arch/); an unknown family (a hand-edited growth.json) gets none.
  const task = ARCHITECTURES.find((a) => a.family === report.family)?.pipelineTag;
  if (task !== undefined) meta.push(`pipeline_tag: ${task}`);
  meta.push('tags:', '- ligo', '- model-growth', '---');
  const sourceLink = base !== undefined ? `[\`${source.name}\`](https://huggingface.co/${base})` : `\`${source.name}\``;
  const body = [
    `# ${options.title ?? `${report.family} grown with ligo`}`,
    '',
    `Grown from ${sourceLink} with ligo (LiGO: learned linear growth operators), which maps the small model's weights into a larger model's${howMapped(report)}.`,
    '',
    '## Shapes',
    '',
    ...shapeTable(report.sourceDims, report.targetDims, report.parameters),
    '',
    '## Growth',
    '',
    ...growthLines(report),
    '',
    '## Held-out loss',
    '',
    ...lossTable(report),
    ...trainingSection(report),
  ];
  if (options.command !== undefined) body.push('', '## Reproduce', '', '```sh', options.command, '```');
  return `${meta.join('\n')}\n\n${body.join('\n')}\n`;
}

/** How to train it further: the recommended schedule, what is new, and the PyTorch parameter groups. */
function trainingSection(r: ModelCardReport): string[] {
  const d = r.downstream;
  if (!d) return [];
  const lines = ['', '## Training it further', ''];
  const groups = d.groups;
  if (groups && r.newParameters) {
    const source = groups.sourceLrFrom === 'default' ? ', a tenth of the peak: safe when the source finished its training at a decayed rate' : ` (from ${groups.sourceLrFrom})`;
    lines.push(
      `What is new: ${describeNewParameters(r.newParameters)}; \`${NEW_PARAMETERS_FILE}\` lists every tensor (inherited, new, or partly new with its new rows and columns).`,
      '',
      `Recommended: train new parameters with a peak of ${groups.peakLr.toPrecision(3)} reached over the first ${Math.round(groups.warmupFraction * 100)}% of the steps, then cosine decay; hold inherited ones at ${groups.sourceLr.toPrecision(3)}${source}. Re-warming everything to the peak undoes what growth inherited.`,
      ...(r.newParameters.tensors['partly new'] > 0
        ? ['', 'The width grew, so most tensors are partly new: whole-tensor groups train their inherited entries as new; `masked_step` below sets the rate per element.']
        : []),
      '',
      '```python',
      ...trainingSnippet(groups),
      '```',
    );
    return lines;
  }
  lines.push(`Recommended schedule: ${d.schedule}, ${d.note}.`);
  if (d.convergedSource) lines.push('', `A converged source: ${d.convergedSource}.`);
  return lines;
}

const count = (n: number): string => new Intl.NumberFormat('en-US').format(n);

const applied = (r: ModelCardReport): boolean => r.init === APPLIED_INIT;

/** How the map was made: applied from a file, learned, or a start that keeps the function (or not). */
function howMapped(r: ModelCardReport): string {
  if (applied(r)) return ' with a growth operator saved by an earlier run (`ligo apply`)';
  if (r.steps > 0) return ' and learns that map briefly before writing the result';
  return r.start?.exact ? ', starting from a map that keeps the small model\'s function' : '';
}

function shapeTable(s: ModelDims, t: ModelDims, parameters: ModelCardReport['parameters']): string[] {
  const heads = (d: ModelDims): string => (d.numKvHeads === d.numHeads ? `${d.numHeads}` : `${d.numHeads} (${d.numKvHeads} key/value)`);
  const rows: [string, string, string][] = [
    ['layers', `${s.numLayers}`, `${t.numLayers}`],
    ['hidden size', `${s.hiddenSize}`, `${t.hiddenSize}`],
    ['heads', heads(s), heads(t)],
    ['head dim', `${s.headDim}`, `${t.headDim}`],
    ['ffn size', `${s.intermediateSize}`, `${t.intermediateSize}`],
    ['vocab', count(s.vocabSize), count(t.vocabSize)],
    ['positions', count(s.maxPositions), count(t.maxPositions)],
    ['parameters', count(parameters.source), count(parameters.target)],
  ];
  return ['| | source | grown |', '|---|---:|---:|', ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function growthLines(r: ModelCardReport): string[] {
  const lines = [`- method: \`${r.method}\`${r.init !== undefined ? ` (depth init \`${r.init}\`)` : ''}`];
  if (r.start !== undefined) lines.push(`- start: ${describeStart(r.start)}`);
  if (r.steps > 0) {
    lines.push(`- operator-learning steps: ${r.steps}${r.lr !== undefined ? `, learning rate ${r.lr}` : ''}`);
    if (r.seqLen !== undefined && r.batchSize !== undefined) lines.push(`- batches: ${r.batchSize} windows of ${r.seqLen} tokens`);
  } else if (!applied(r)) lines.push('- operator-learning steps: none (the starting map as written)');
  const tokens = r.tokens !== undefined && r.tokens > 0 ? ` (${count(r.tokens)} tokens)` : '';
  lines.push(`- data: ${r.data === null ? 'none' : `\`${r.data}\``}${tokens}`);
  lines.push(`- growth operator parameters: ${count(r.parameters.operator)}`);
  if (r.dtype !== undefined) lines.push(`- weights dtype: ${r.dtype}`);
  if (r.seed !== undefined) lines.push(`- seed: ${r.seed}`);
  return lines;
}

function lossTable(r: ModelCardReport): string[] {
  const loss = (v: number | null): string => (v === null || !Number.isFinite(v) ? 'n/a' : v.toFixed(4));
  const tokens = r.heldOut.tokens > 0 ? `, on ${count(r.heldOut.tokens)} held-out tokens` : '';
  return [
    `Mean cross-entropy in nats per predicted token${tokens}.`,
    '',
    '| model | held-out loss |',
    '|---|---:|',
    `| source | ${loss(r.heldOut.source)} |`,
    ...(r.steps > 0
      ? [`| grown, before operator learning | ${loss(r.heldOut.grownAtInit)} |`, `| grown, after operator learning | ${loss(r.heldOut.grown)} |`]
      : [`| grown | ${loss(r.heldOut.grown)} |`]),
  ];
}

/** The `license:` of a README.md's YAML front matter, or undefined when there is none. */
export function licenseOfCard(text: string): string | undefined {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[0]?.trim() !== '---') return undefined;
  for (const line of lines.slice(1)) {
    if (line.trim() === '---') return undefined;
    const match = /^license:\s*(.*?)\s*(?:#.*)?$/.exec(line);
    if (match === null) continue;
    const value = match[1].replace(/^(["'])(.*)\1$/, '$2').trim();
    return value === '' ? undefined : value;
  }
  return undefined;
}

/** The license of the model in `dir` from its README.md front matter (undefined when unknown). */
export async function readLicense(dir: string): Promise<string | undefined> {
  try {
    return licenseOfCard(await readFile(path.join(dir, README_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Flags whose value is a secret: dropped from a reproduce command, which ends up public. */
const SECRET_FLAGS = ['--token'];

/** argv as one shell line (`ligo grow ...`), quoted where needed and without the token. */
export function formatCommand(argv: readonly string[], program = 'ligo'): string {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (SECRET_FLAGS.includes(arg)) {
      i++;
      continue;
    }
    if (SECRET_FLAGS.some((f) => arg.startsWith(`${f}=`))) continue;
    kept.push(arg);
  }
  const quote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return [program, ...kept.map(quote)].join(' ');
}

/** growth.json as a ModelCardReport when it has what a card shows; undefined for anything else. */
export function asModelCardReport(json: unknown): ModelCardReport | undefined {
  if (!isJsonObject(json)) return undefined;
  const { family, sourceDims, targetDims, parameters, heldOut, method, steps } = json;
  const ok =
    typeof family === 'string' &&
    isJsonObject(sourceDims) &&
    isJsonObject(targetDims) &&
    isJsonObject(parameters) &&
    typeof parameters.source === 'number' &&
    typeof parameters.target === 'number' &&
    isJsonObject(heldOut) &&
    typeof method === 'string' &&
    typeof steps === 'number';
  // A report ligo wrote itself; the checks above keep a hand-edited file from crashing a push.
  return ok ? (json as unknown as ModelCardReport) : undefined;
}

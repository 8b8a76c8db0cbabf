/**
 * How much of a lossy start's gap the learning phase repairs (`npm run bench:repair`): a small
 * source pretrained on fixtures/text/corpus.txt grown from starts that cannot keep its function,
 * learned for 5, 10 and 20 steps with grow's defaults (or the knobs a recipe sets), and the
 * held-out loss after each against the source's. The sources: the bundled fixture (a 2 x 64
 * byte-level GPT-2), and a Llama (RoPE) and a post-norm BERT of the same size pretrained here on
 * the first 90% of the same text (cached under bench/.cache/downstream/). The source's own text is
 * the default --data, so what is measured is repair, not adaptation to a new text.
 * Prints a table and writes bench/results/<--name, default repair>.json.
 * Options: --data FILE, --steps 5,10,20, --cases copy-1.5x,..., --recipes default,distill (see
 * RECIPES), --seeds 0,1,2 (grow's --seed: its batches and any drawn start), --name NAME.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { initBackend } from '../src/backend/index.js';
import { BUNDLED_FIXTURE } from '../src/fixture.js';
import type { GrowthReport } from '../src/output/index.js';
import { grow, type GrowOptions } from '../src/pipeline/index.js';
import { heldOutLoss } from '../src/pipeline/data.js';
import { BATCH, pretrainedSource, SEQ } from './lib/downstream_source.js';
import { argValue, fmt, printTable, writeResult } from './lib/report.js';

type Source = 'fixture' | 'llama' | 'bert';

/** Lossy starts: the source each grows, what it grows to, and why it cannot be exact. */
const CASES: Record<string, { source: Source; grow: Partial<GrowOptions> }> = {
  // Units copied unequally: every norm sees another mean and variance.
  'copy-1.5x': { source: 'fixture', grow: { layers: 3, hiddenSize: 96, heads: 6, start: 'copy' } },
  'copy-1.25x': { source: 'fixture', grow: { layers: 3, hiddenSize: 80, heads: 5, start: 'copy' } },
  // head_dim 16 -> 32 with copied dims: every attention score doubles.
  'head_dim-x2-copy': { source: 'fixture', grow: { layers: 4, hiddenSize: 128, heads: 4, start: 'copy' } },
  // The LiGO paper's start (new units random mixtures of the old, read unsplit; noisy stacking).
  'ligo-paper-1.5x': { source: 'fixture', grow: { layers: 3, hiddenSize: 96, heads: 6, start: 'ligo-paper' } },
  // Depth only, new layers plain copies (G_stack): each adds its update to the residual stream again.
  'stack-2x-depth': { source: 'fixture', grow: { layers: 4, depthStart: 'copy' } },
  // RoPE: head_dim 16 -> 32 with the exact start off (copied rotary dims rotate at other frequencies).
  'llama-head_dim-x2-copy': { source: 'llama', grow: { layers: 4, hiddenSize: 128, heads: 4, kvHeads: 4, headDim: 32, start: 'copy' } },
  // Post-norm: no start keeps a BERT's function at 1.5x (nor its new layers).
  'bert-1.5x': { source: 'bert', grow: { layers: 3, hiddenSize: 96, heads: 6 } },
};

/**
 * How the Llama and BERT sources are pretrained (8 x 64 tokens a step; the fixture GPT-2 had 2,000
 * steps of 8 x 128). A masked LM learns from the 15% of tokens it masks, and at 1,500 steps of
 * 3e-3 the BERT was near the byte unigram loss (2.86 nats), with no function a gap could be
 * measured against: it trains four times as long at 1e-3.
 */
const SOURCE_TRAINING: Record<Exclude<Source, 'fixture'>, { steps: number; lr?: number }> = {
  llama: { steps: 1500 },
  bert: { steps: 6000, lr: 1e-3 },
};

/** The sources' configs: the fixture's size (2 x 64, 4 heads of 16, byte-level vocabulary). */
const SOURCE_CONFIGS: Record<Exclude<Source, 'fixture'>, Record<string, unknown>> = {
  llama: {
    model_type: 'llama', architectures: ['LlamaForCausalLM'], vocab_size: 256, max_position_embeddings: 128, hidden_size: 64, intermediate_size: 176,
    num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 4, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true,
    bos_token_id: 10, eos_token_id: 10, torch_dtype: 'float32',
  },
  bert: {
    model_type: 'bert', architectures: ['BertForMaskedLM'], vocab_size: 256, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4,
    intermediate_size: 256, hidden_act: 'gelu', max_position_embeddings: 128, type_vocab_size: 2, layer_norm_eps: 1e-12, pad_token_id: 0,
    // Byte 0 never occurs in the text: the byte-level tokenizer has no [MASK], so it stands in.
    mask_token_id: 0, torch_dtype: 'float32',
  },
};

/** Each source's directory: the fixture, or a source pretrained (once, cached) on the first 90% of `data`'s bytes. */
async function sourceDir(source: Source, data: string): Promise<string> {
  if (source === 'fixture') return BUNDLED_FIXTURE.model;
  const bytes = Int32Array.from(await readFile(data));
  const cut = Math.floor(bytes.length * 0.9);
  const [train, heldOut] = [bytes.subarray(0, cut), bytes.subarray(cut)];
  const config = SOURCE_CONFIGS[source];
  const maskTokenId = typeof config.mask_token_id === 'number' ? config.mask_token_id : undefined;
  const evaluate = heldOutLoss({ tokens: bytes, train, selection: heldOut, heldOut, maskTokenId }, SEQ, BATCH);
  const { steps, lr } = SOURCE_TRAINING[source];
  const name = `repair-${source}-${path.basename(data, path.extname(data))}-${steps}${lr === undefined ? '' : `-lr${lr}`}`;
  const trained = await pretrainedSource({ name, label: source, config, steps, lr, train, evaluate, log: (m) => console.error(m), maskTokenId });
  console.error(`${source}: source ${trained.dir}, held-out ${trained.heldOut.toFixed(4)} (pretrained in ${trained.seconds.toFixed(0)} s)`);
  return trained.dir;
}

/** Learning-phase knobs a row may set over grow's defaults. */
const RECIPES: Record<string, Partial<GrowOptions>> = {
  default: {},
  distill: { distill: 1, lr: 1e-3 },
  batch8: { batchSize: 8 },
  // The depth coefficients ten times faster: a plain-copy start's error is a few coefficients per layer.
  'depth-lr-5e-2': { depthLr: 5e-2 },
};

const list = (name: string, fallback: string): string[] => argValue(name, fallback).split(',');

/** What a run measures, from its command line. */
interface Settings {
  data: string;
  steps: number[];
  cases: string[];
  recipes: string[];
  seeds: number[];
  name: string;
}

interface Row {
  case: string;
  recipe: string;
  seed: number;
  source: number;
  atStart: number;
  after: { steps: number; loss: number; recovered: number; seconds: number; keptStep: number }[];
}

interface Grown {
  source: string;
  name: string;
  recipe: string;
  seed: number;
}

async function growOnce(work: string, data: string, g: Grown, steps: number): Promise<GrowthReport> {
  const out = path.join(work, `${g.name}-${g.recipe}-${g.seed}-${steps}`);
  return grow({ source: g.source, data, ...CASES[g.name].grow, ...RECIPES[g.recipe], steps, seed: g.seed, out });
}

async function measure(work: string, s: Settings, g: Grown): Promise<Row> {
  const { name, recipe, seed } = g;
  const row: Row = { case: name, recipe, seed, source: Number.NaN, atStart: Number.NaN, after: [] };
  for (const steps of s.steps) {
    const r = await growOnce(work, s.data, g, steps);
    const { source, grownAtInit, grown } = r.heldOut;
    if (source === null || grownAtInit === null || grown === null) throw new Error(`${name}: held-out losses missing`);
    row.source = source;
    row.atStart = grownAtInit;
    const recovered = (grownAtInit - grown) / (grownAtInit - source);
    row.after.push({ steps, loss: grown, recovered, seconds: r.wallSeconds, keptStep: r.learning?.keptStep ?? 0 });
    console.error(`${name} ${recipe} seed ${seed} ${steps} steps: ${grownAtInit.toFixed(4)} -> ${grown.toFixed(4)} (source ${source.toFixed(4)}), ${(100 * recovered).toFixed(0)}% of the gap`);
  }
  return row;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** One line per row, then per case and recipe the mean over its seeds (gaps, shares repaired and seconds averaged). */
function printRows(rows: readonly Row[], steps: readonly number[]): void {
  const line = (r: Row): string[] => [r.case, r.recipe, String(r.seed), fmt(r.source, 4), fmt(r.atStart - r.source, 4), ...r.after.map((a) => `${fmt(a.loss - r.source, 4)} (${fmt(100 * a.recovered)}%)`), fmt(r.after.at(-1)?.seconds ?? 0, 1)];
  const groups = new Map<string, Row[]>();
  for (const r of rows) groups.set(`${r.case}/${r.recipe}`, [...(groups.get(`${r.case}/${r.recipe}`) ?? []), r]);
  const means = [...groups.values()].filter((g) => g.length > 1).map((g): string[] => [
    g[0].case,
    g[0].recipe,
    'mean',
    fmt(mean(g.map((r) => r.source)), 4),
    fmt(mean(g.map((r) => r.atStart - r.source)), 4),
    ...steps.map((_, i) => `${fmt(mean(g.map((r) => r.after[i].loss - r.source)), 4)} (${fmt(100 * mean(g.map((r) => r.after[i].recovered)))}%)`),
    fmt(mean(g.map((r) => r.after.at(-1)?.seconds ?? 0)), 1),
  ]);
  printTable([['start', 'recipe', 'seed', 'source', 'gap at start', ...steps.map((n) => `gap after ${n}`), `seconds (${steps.at(-1)})`], ...rows.map(line), ...means]);
}

async function main(): Promise<void> {
  const s: Settings = {
    data: argValue('--data', path.join('fixtures', 'text', 'corpus.txt')),
    steps: list('--steps', '5,10,20').map(Number),
    cases: list('--cases', Object.keys(CASES).join(',')),
    recipes: list('--recipes', 'default'),
    seeds: list('--seeds', '0').map(Number),
    name: argValue('--name', 'repair'),
  };
  const unknown = s.cases.filter((c) => !(c in CASES));
  if (unknown.length > 0) throw new Error(`--cases: unknown ${unknown.join(', ')} (expected some of ${Object.keys(CASES).join(', ')})`);
  // The sources pretrain before any grow starts a backend: start grow's default (blas where it loads) first.
  const backend = await initBackend({});
  console.error(`backend: ${backend.name}`);
  const work = await mkdtemp(path.join(os.tmpdir(), 'ligo-bench-repair-'));
  const rows: Row[] = [];
  const sources = new Map<Source, string>();
  try {
    for (const name of s.cases) {
      const kind = CASES[name].source;
      const source = sources.get(kind) ?? (await sourceDir(kind, s.data));
      sources.set(kind, source);
      for (const recipe of s.recipes) for (const seed of s.seeds) rows.push(await measure(work, s, { source, name, recipe, seed }));
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  printRows(rows, s.steps);
  console.log(`results: ${await writeResult(s.name, { data: s.data, steps: s.steps, seeds: s.seeds, sources: Object.fromEntries(sources), rows })}`);
}

await main();

/**
 * Eval throughput benchmark (`npm run bench`): a randomly initialized GPT-2-shaped model of a few
 * million parameters is written with the checkpoint writer, then `evaluate` runs on random
 * pre-tokenized data at a few window and batch sizes. Prints a table, writes bench/results/eval.json.
 * Backend: LIGO_BACKEND or the fastest installed, as for the CLI.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parameterCount, resolveArchitecture, tensorSpecs } from '../src/arch/index.js';
import { initBackend } from '../src/backend/index.js';
import { createCheckpointWriter } from '../src/checkpoint/index.js';
import { createRng } from '../src/data/index.js';
import { evaluate } from '../src/eval/index.js';

const LAYERS = 4;
const WIDTH = 256;
const HEADS = 4;
const VOCAB = 8192;
const POSITIONS = 256;
/** Tokens per run: enough windows for a steady rate, small enough to finish in well under a minute. */
const TOKENS_PER_RUN = 8192;
const RUNS: ReadonlyArray<{ seqLen: number; batchSize: number }> = [
  { seqLen: 64, batchSize: 8 },
  { seqLen: 256, batchSize: 1 },
  { seqLen: 256, batchSize: 8 },
];
const INIT_STD = 0.02;

const RESULTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'eval.json');

const config = {
  model_type: 'gpt2',
  architectures: ['GPT2LMHeadModel'],
  vocab_size: VOCAB,
  n_positions: POSITIONS,
  n_embd: WIDTH,
  n_layer: LAYERS,
  n_head: HEADS,
  n_inner: null,
  activation_function: 'gelu_new',
  layer_norm_epsilon: 1e-5,
  tie_word_embeddings: true,
};

/** Box-Muller over the seeded generator, so every run benchmarks the same weights. */
function normals(n: number, std: number, rng: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng())) * std;
    const theta = 2 * Math.PI * rng();
    out[i] = r * Math.cos(theta);
    if (i + 1 < n) out[i + 1] = r * Math.sin(theta);
  }
  return out;
}

async function writeModel(dir: string): Promise<number> {
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const { description, dims } = resolveArchitecture(config);
  const specs = tensorSpecs(description, dims);
  const writer = await createCheckpointWriter(
    dir,
    specs.map((s) => ({ name: s.name, dtype: 'F32' as const, shape: s.shape })),
  );
  const rng = createRng(0);
  for (const spec of specs) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const init = spec.template.init;
    await writer.write(spec.name, init === 'normal' ? normals(n, INIT_STD, rng) : new Float32Array(n).fill(init === 'ones' ? 1 : 0));
  }
  await writer.close();
  return parameterCount(specs);
}

async function writeTokens(file: string): Promise<void> {
  const rng = createRng(1);
  const ids = new Uint16Array(TOKENS_PER_RUN);
  for (let i = 0; i < ids.length; i++) ids[i] = Math.floor(rng() * VOCAB);
  await writeFile(file, ids);
}

const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

async function bench(): Promise<void> {
  const backend = await initBackend({ log: (m) => process.stderr.write(`${m}\n`) });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ligo-bench-'));
  try {
    const parameters = await writeModel(dir);
    const data = path.join(dir, 'tokens.bin');
    await writeTokens(data);
    const rssBefore = peakRssMb();
    const rows = [];
    for (const run of RUNS) {
      const r = await evaluate({ model: dir, data, ...run });
      rows.push({ ...run, windows: r.windows, tokens: r.tokens, seconds: r.seconds, tokensPerSecond: r.tokensPerSecond, loss: r.loss, peakRssMb: peakRssMb() });
    }
    const report = {
      benchmark: 'eval',
      date: new Date().toISOString(),
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
      cpu: `${os.cpus()[0]?.model ?? 'unknown'} x ${os.cpus().length}`,
      backend: backend.name,
      model: { family: 'gpt2', layers: LAYERS, width: WIDTH, heads: HEADS, vocab: VOCAB, positions: POSITIONS, parameters },
      peakRssMbBeforeEval: rssBefore,
      runs: rows,
    };
    await mkdir(path.dirname(RESULTS), { recursive: true });
    await writeFile(RESULTS, `${JSON.stringify(report, null, 2)}\n`);

    const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
    console.log(`eval on ${backend.name}: GPT-2 ${LAYERS} layers x ${WIDTH} wide, vocab ${fmt(VOCAB)}, ${fmt(parameters)} parameters`);
    const table = [
      ['seq len', 'batch', 'tokens', 'seconds', 'tokens/s', 'peak RSS MB'],
      ...rows.map((r) => [`${r.seqLen}`, `${r.batchSize}`, fmt(r.tokens), fmt(r.seconds, 2), fmt(r.tokensPerSecond), fmt(r.peakRssMb)]),
    ];
    const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
    for (const row of table) console.log(row.map((cell, c) => cell.padStart(widths[c])).join('  '));
    console.log(`wrote ${path.relative(process.cwd(), RESULTS)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await bench();

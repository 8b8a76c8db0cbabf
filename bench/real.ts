/**
 * LiGO at the sizes people grow (`npm run bench:real`): `ligo grow` with its defaults (no memory
 * flag) on random-weight checkpoints of real shapes, each in its own process, and beside it the
 * same LiGO growth written plainly in PyTorch (bench/peer/ligo_torch.py: the paper's dense
 * operator, autograd, no recomputation), run in the same invocation, one after the other.
 *
 * Rows (--rows, comma-separated; default all):
 *   small  GPT-2 4 x 128 -> 8 x 256, vocab 256, 16 x 128 tokens a step
 *   gpt2   GPT-2 124M (12 x 768) -> GPT-2 355M's shape (24 x 1024), 1 x 512 tokens
 *   qwen3  Qwen3-0.6B (28 x 1024, FFN 3072) -> Qwen3-1.7B's shape (28 x 2048, FFN 6144), 1 x 256 tokens
 * --steps N learning steps per run (default 3; the first also warms up, the rest are timed),
 * --no-peer skips PyTorch, --peer-only skips ligo, --work DIR keeps the sources there between runs,
 * --name NAME writes bench/results/NAME.json (default real).
 *
 * For each row: peak RSS, seconds per step (median of the steps after the first), the whole run, the
 * learning phase's wall time (every step and its selection passes) beside the peer's (its steps),
 * the peer's seconds per step and peak RSS and the ratio, the achieved GFLOP/s of a step against
 * the machine's sgemm rate measured in the same process, and ligo's per-phase profile of a step.
 * Writes bench/results/real.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveArchitecture } from '../src/arch/index.js';
import { GROW_DEFAULTS } from '../src/pipeline/options.js';
import { learningStepFlops } from '../src/train/step_cost.js';
import { planGrowth, withOperatorForm, type GrowthPlan } from '../src/growth/plan.js';
import { resolveTarget } from '../src/growth/target.js';
import { hasCheckpoint, writeRandomCheckpoint } from './lib/random_checkpoint.js';
import { argValue, fmt, GIB, hasFlag, machine, median, printTable, writeResult } from './lib/report.js';
import type { RealChildResult } from './real_child.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const log = (m: string): void => void process.stderr.write(`${m}\n`);

interface Row {
  name: string;
  label: string;
  config: Record<string, unknown>;
  target: { layers?: number; hiddenSize: number; intermediateSize?: number; heads?: number; kvHeads?: number };
  batchSize: number;
  seqLen: number;
  /** Whether the PyTorch peer runs this row (it implements GPT-2). */
  peer: boolean;
}

const gpt2 = (vocab: number, width: number, layers: number, heads: number, positions: number): Record<string, unknown> => ({
  model_type: 'gpt2',
  architectures: ['GPT2LMHeadModel'],
  vocab_size: vocab,
  n_positions: positions,
  n_embd: width,
  n_layer: layers,
  n_head: heads,
  n_inner: null,
  activation_function: 'gelu_new',
  layer_norm_epsilon: 1e-5,
  tie_word_embeddings: true,
});

const QWEN3_06B = {
  model_type: 'qwen3',
  architectures: ['Qwen3ForCausalLM'],
  vocab_size: 151936,
  hidden_size: 1024,
  intermediate_size: 3072,
  num_hidden_layers: 28,
  num_attention_heads: 16,
  num_key_value_heads: 8,
  head_dim: 128,
  hidden_act: 'silu',
  max_position_embeddings: 40960,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  tie_word_embeddings: true,
  attention_bias: false,
};

const ROWS: Row[] = [
  { name: 'small', label: 'GPT-2 4x128 -> 8x256, 16 x 128 tokens', config: gpt2(256, 128, 4, 4, 256), target: { layers: 8, hiddenSize: 256 }, batchSize: 16, seqLen: 128, peer: true },
  { name: 'gpt2', label: 'GPT-2 124M -> 355M shape, 1 x 512 tokens', config: gpt2(50257, 768, 12, 12, 1024), target: { layers: 24, hiddenSize: 1024 }, batchSize: 1, seqLen: 512, peer: true },
  { name: 'qwen3', label: 'Qwen3-0.6B -> 1.7B shape, 1 x 256 tokens', config: QWEN3_06B, target: { hiddenSize: 2048, intermediateSize: 6144, heads: 16, kvHeads: 8 }, batchSize: 1, seqLen: 256, peer: false },
];

const STEPS = Number(argValue('--steps', '3'));
const WORK = argValue('--work', path.join(os.tmpdir(), 'ligo-bench-real'));
const BACKEND = argValue('--backend', 'blas');

/** Random token ids (below the vocabulary and uint16's range) for the learning phase and the held-out losses. */
async function writeTokens(file: string, row: Row): Promise<void> {
  const vocab = Math.min(Number(row.config.vocab_size), 65536);
  // Enough windows for the steps and a few held-out windows (10% of the data is held out).
  const count = Math.max(40 * row.seqLen, 4 * (STEPS + 2) * row.batchSize * row.seqLen);
  let s = 12345;
  const ids = Uint16Array.from({ length: count }, () => (s = (s * 1103515245 + 12345) >>> 0) % vocab);
  await writeFile(file, new Uint8Array(ids.buffer));
}

function planOf(row: Row): GrowthPlan {
  const { description, dims } = resolveArchitecture(row.config);
  const target = resolveTarget(dims, row.target, description);
  return planGrowth({ description, source: dims, target, method: 'ligo', optionalPresent: new Set() });
}

function runLigo(row: Row, dir: string): RealChildResult | { error: string } {
  const options = { source: path.join(dir, 'source'), data: path.join(dir, 'tokens.bin'), out: path.join(dir, 'grown'), overwrite: true, steps: STEPS, batchSize: row.batchSize, seqLen: row.seqLen, backend: BACKEND, ...row.target };
  const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, 'real_child.ts'), JSON.stringify(options)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  return child.status === 0 ? (JSON.parse(line) as RealChildResult) : { error: `exit ${child.status ?? child.signal}` };
}

interface PeerResult {
  stepSeconds: number[];
  maxRssBytes: number;
  operatorParameters: number;
  sgemmFlops: number;
}

function runPeer(row: Row): PeerResult | { error: string } {
  const args = [path.join(here, 'peer', 'ligo_torch.py'), '--source', JSON.stringify(row.config), '--layers', String(row.target.layers ?? row.config.n_layer), '--width', String(row.target.hiddenSize), '--batch-size', String(row.batchSize), '--seq-len', String(row.seqLen), '--steps', String(STEPS)];
  // Debian's python3-torch is for the system python (apt-get install python3-torch).
  const child = spawnSync('/usr/bin/python3', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  return child.status === 0 ? (JSON.parse(line) as PeerResult) : { error: child.error ? child.error.message : `exit ${child.status ?? child.signal}` };
}

const timedSteps = (s: readonly number[]): number => median(s.length > 1 ? s.slice(1) : s);

async function main(): Promise<void> {
  const names = argValue('--rows', ROWS.map((r) => r.name).join(',')).split(',');
  const results: Record<string, unknown>[] = [];
  const table: string[][] = [['row', 'peak RSS', 's/step', 'whole run', 'learning phase', 'peer phase', 'peer s/step', 'peer RSS', 'peer / ligo', 'GFLOP/s (sgemm)']];
  for (const row of ROWS.filter((r) => names.includes(r.name))) {
    const dir = path.join(WORK, row.name);
    await mkdir(dir, { recursive: true });
    if (!(await hasCheckpoint(path.join(dir, 'source')))) {
      log(`${row.name}: writing a random ${row.label.split(' ->')[0]} checkpoint`);
      await writeRandomCheckpoint(path.join(dir, 'source'), row.config);
    }
    await writeTokens(path.join(dir, 'tokens.bin'), row);
    const plan = planOf(row);
    log(`${row.name}: ${row.label}`);
    const ligo = hasFlag('--peer-only') ? { error: 'skipped' } : runLigo(row, dir);
    const peer = row.peer && !hasFlag('--no-peer') ? runPeer(row) : { error: row.peer ? 'skipped' : 'no PyTorch peer for this family' };
    const ours = 'error' in ligo ? undefined : ligo;
    const theirs = 'error' in peer ? undefined : peer;
    const perStep = ours ? timedSteps(ours.stepSeconds) : Number.NaN;
    const peerStep = theirs ? timedSteps(theirs.stepSeconds) : Number.NaN;
    const flops = learningStepFlops(withOperatorForm(plan, { kind: GROW_DEFAULTS.operator, rank: GROW_DEFAULTS.rank }), { batchSize: row.batchSize, seqLen: row.seqLen, gradAccum: 1, recompute: ours?.recompute ?? false });
    const achieved = flops / perStep;
    table.push([
      row.name,
      ours ? `${fmt(ours.maxRssBytes / GIB, 2)} GiB` : 'error' in ligo ? ligo.error : '-',
      ours ? fmt(perStep, 2) : '-',
      ours ? `${fmt(ours.wallSeconds, 0)} s` : '-',
      ours ? `${fmt(ours.phaseSeconds, 1)} s` : '-',
      theirs ? `${fmt(theirs.stepSeconds.reduce((a, b) => a + b, 0), 1)} s` : '-',
      theirs ? fmt(peerStep, 2) : 'error' in peer ? peer.error : '-',
      theirs ? `${fmt(theirs.maxRssBytes / GIB, 2)} GiB` : '-',
      ours && theirs ? `${fmt(peerStep / perStep, 2)}x` : '-',
      ours ? `${fmt(achieved / 1e9, 1)} (${fmt(ours.sgemmFlops / 1e9, 0)})` : '-',
    ]);
    results.push({ row: row.name, label: row.label, plan: { source: plan.parameters.source, target: plan.parameters.target }, ligo, peer, secondsPerStep: perStep, peerSecondsPerStep: peerStep, stepFlops: flops });
    if (ours) log(`${row.name} phases (s, over ${ours.stepSeconds.length} steps): ${Object.entries(ours.phases).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', ')}`);
  }
  printTable(table);
  log(`written ${await writeResult(argValue('--name', 'real'), { machine: machine(), steps: STEPS, backend: BACKEND, rows: results })}`);
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});

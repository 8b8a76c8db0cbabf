/**
 * bench:downstream's data and source models: nlp-corpus cut into training, selection and
 * held-out documents, and the small models the benchmark pretrains on it (cached).
 */
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { resolveArchitecture, tensorSpecs, type ModelDims } from '../../src/arch/index.js';
import { createCheckpointWriter } from '../../src/checkpoint/index.js';
import { BatchSampler } from '../../src/data/index.js';
import { freshTensor } from '../../src/growth/random_init.js';
import type { Weights } from '../../src/models/index.js';
import { toVariables, trainModel, type TrainOptions } from '../../src/train/full.js';

const CACHE = path.join('bench', '.cache', 'downstream');
/** Tokens per sequence of the source's pretraining and of the downstream training. */
export const SEQ = 64;
export const BATCH = 8;

export type Family = 'gpt2' | 'gpt2-96' | 'llama';

// The bundled fixture's architecture (2 x 64, byte-level), pretrained here on a different corpus.
const FIXTURE_GPT2 = JSON.parse(readFileSync(path.join('fixtures', 'tiny-gpt2', 'config.json'), 'utf8')) as Record<string, unknown>;

export const SOURCES: Record<Family, Record<string, unknown>> = {
  gpt2: FIXTURE_GPT2,
  // 6 heads of 16: grown to 8 heads it is GPT-2 124M -> 355M's width factor (12 -> 16 heads, 4/3).
  'gpt2-96': { ...FIXTURE_GPT2, n_embd: 96, n_head: 6 },
  llama: {
    model_type: 'llama', architectures: ['LlamaForCausalLM'], vocab_size: 256, max_position_embeddings: 128, hidden_size: 64, intermediate_size: 176,
    num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 4, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true,
    bos_token_id: 10, eos_token_id: 10, torch_dtype: 'float32',
  },
};

/**
 * Held-out documents of nlp-corpus; every other document trains. Each document lists its
 * sentences grouped by source (film reviews, UN text, lyrics, ...), so held-out and selection
 * windows are spread evenly over their documents, never one contiguous stretch of one source.
 */
export const TEST_DOCS = [95, 96, 97, 98, 99];
/** Where the learning phase picks its operator (--keep-best): documents neither trained on nor tested on. */
export const SELECT_DOCS = [90, 91, 92, 93, 94];

export const sourceSchedule = (steps: number): TrainOptions => ({ steps, lr: 3e-3, warmup: Math.round(steps / 10), weightDecay: 0, clip: 1, seed: 1 });

/** `limit / seqLen` windows of seqLen tokens at evenly spaced starts over all of `tokens`. */
export function spreadWindows(tokens: Int32Array, limit: number, seqLen: number): Int32Array {
  const count = Math.floor(limit / seqLen);
  const out = new Int32Array(count * seqLen);
  for (let i = 0; i < count; i++) {
    const start = Math.floor((i * (tokens.length - seqLen)) / Math.max(1, count - 1));
    out.set(tokens.subarray(start, start + seqLen), i * seqLen);
  }
  return out;
}

export interface Corpus {
  train: Int32Array;
  heldOut: Int32Array;
  select: Int32Array;
  bytes: number;
}

export async function corpus(): Promise<Corpus> {
  const dir = path.join(path.dirname(createRequire(import.meta.url).resolve('nlp-corpus')), '..', '..', 'builds');
  const parts: { train: string[]; heldOut: string[]; select: string[] } = { train: [], heldOut: [], select: [] };
  for (let i = 0; i < 100; i++) {
    const sentences = JSON.parse(await readFile(path.join(dir, `doc-${i}.json`), 'utf8')) as string[];
    parts[TEST_DOCS.includes(i) ? 'heldOut' : SELECT_DOCS.includes(i) ? 'select' : 'train'].push(sentences.join('\n'));
  }
  // Byte-level: the fixture tokenizer maps each UTF-8 byte to the id of the same value.
  const bytes = (texts: string[]): Int32Array => Int32Array.from(Buffer.from(texts.join('\n'), 'utf8'));
  const [train, heldOut, select] = [bytes(parts.train), bytes(parts.heldOut), bytes(parts.select)];
  return { train, heldOut, select, bytes: train.length + heldOut.length + select.length };
}

async function writeSource(dir: string, config: Record<string, unknown>, dims: ModelDims, vars: ReadonlyMap<string, tf.Variable>): Promise<void> {
  const { description } = resolveArchitecture(config);
  await mkdir(dir, { recursive: true });
  const specs = tensorSpecs(description, dims);
  const writer = await createCheckpointWriter(dir, specs.map((s) => ({ name: s.name, dtype: 'F32' as const, shape: s.shape })));
  for (const s of specs) await writer.write(s.name, (await (vars.get(s.name) as tf.Tensor).data()) as Float32Array);
  await writer.close();
  await writeFile(path.join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  await copyFile(path.join('fixtures', 'tiny-gpt2', 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
}

/** Pretrains (or loads the cached) source model of bench:downstream; returns its directory. */
export async function sourceModel(args: {
  family: Family;
  steps: number;
  quick: boolean;
  train: Int32Array;
  evaluate: (dims: ModelDims, weights: Weights) => Promise<number>;
  log: (message: string) => void;
}): Promise<{ dir: string; heldOut: number; seconds: number }> {
  const name = `source-${args.family}${args.quick ? '-quick' : ''}${args.steps === 250 ? '' : `-${args.steps}`}`;
  return pretrainedSource({ ...args, name, label: args.family, config: SOURCES[args.family] });
}

/**
 * A small model of `config` pretrained on `train` for `steps` steps of sourceSchedule (seeded),
 * written under bench/.cache/downstream/<name> and reused while its config and schedule are the
 * same. Masked-LM families take `maskTokenId`.
 */
export async function pretrainedSource(args: {
  name: string;
  label: string;
  config: Record<string, unknown>;
  steps: number;
  train: Int32Array;
  evaluate: (dims: ModelDims, weights: Weights) => Promise<number>;
  log: (message: string) => void;
  maskTokenId?: number;
  /** Peak learning rate, where not sourceSchedule's. */
  lr?: number;
}): Promise<{ dir: string; heldOut: number; seconds: number }> {
  const { config, log } = args;
  const schedule = { ...sourceSchedule(args.steps), ...(args.lr === undefined ? {} : { lr: args.lr }) };
  const key = JSON.stringify({ config, SOURCE_SCHEDULE: schedule, SEQ, BATCH, version: 1 });
  const dir = path.join(CACHE, args.name);
  const meta = path.join(dir, 'training.json');
  if (existsSync(meta)) {
    const saved = JSON.parse(await readFile(meta, 'utf8')) as { key: string; heldOutLoss: number; seconds: number };
    if (saved.key === key) return { dir, heldOut: saved.heldOutLoss, seconds: saved.seconds };
  }
  const { description, dims } = resolveArchitecture(config);
  // The source's own init (seed 1), kept as it was so cached sources stay valid.
  const init = new Map(tensorSpecs(description, dims).map((spec, i) => [spec.name, freshTensor(spec.template.init, spec.shape, 7919 + i + 1)]));
  const vars = toVariables(init);
  tf.dispose([...init.values()]);
  const sampler = new BatchSampler(args.train, { batchSize: BATCH, seqLen: SEQ, seed: 11 });
  log(`${args.label}: pretraining the source model for ${schedule.steps} steps`);
  const result = await trainModel({
    dims,
    weights: vars,
    nextBatch: () => tf.tensor2d(sampler.next(), [BATCH, SEQ], 'int32'),
    options: schedule,
    evalEvery: schedule.steps,
    evaluate: (w) => args.evaluate(dims, w),
    maskTokenId: args.maskTokenId,
  });
  const heldOutLoss = result.curve[result.curve.length - 1].loss;
  await writeSource(dir, config, dims, vars);
  tf.dispose([...vars.values()]);
  await writeFile(meta, `${JSON.stringify({ key, heldOutLoss, seconds: result.seconds }, null, 2)}\n`);
  return { dir, heldOut: heldOutLoss, seconds: result.seconds };
}

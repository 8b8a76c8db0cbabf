import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach } from 'vitest';
import { serializeSafetensors } from '../../src/checkpoint/index.js';
import { renderModelCard, type ModelCardReport } from '../../src/output/index.js';
import { GPT2_DIR } from '../cli/helpers.js';

/** Tokens the fake Hub knows: alice writes to alice/*, bob to bob/* only. */
export const TOKEN = 'hf_aliceWriteToken0123456789SECRET';
export const BOB_TOKEN = 'hf_bobToken0123456789SECRET';
export const TOKENS = { [TOKEN]: ['alice'], [BOB_TOKEN]: ['bob'] };

/** Retries without waiting, so failure tests stay fast. */
export const FAST_RETRY = { retries: 2, baseDelayMs: 1 };

const dirs: string[] = [];

export async function tempDir(prefix = 'ligo-hub-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/**
 * An environment that reads nothing of the machine's Hugging Face setup: HF_HOME is a fresh
 * temp dir (no token file, empty cache) and every HF_* variable is set explicitly.
 */
export async function hermeticEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const home = await tempDir('ligo-hf-home-');
  return {
    HF_HOME: home,
    HF_HUB_CACHE: '',
    HUGGINGFACE_HUB_CACHE: '',
    HF_TOKEN: '',
    HF_TOKEN_PATH: '',
    HF_ENDPOINT: '',
    HF_HUB_OFFLINE: '',
    LIGO_HUB_RETRIES: '2',
    LIGO_HUB_RETRY_DELAY_MS: '1',
    ...extra,
  };
}

export const REPORT = {
  source: 'openai-community/gpt2',
  family: 'gpt2',
  method: 'ligo',
  init: 'stack',
  steps: 100,
  data: 'fixtures/text.txt',
  tokens: 12345,
  seed: 0,
  seqLen: 64,
  batchSize: 4,
  lr: 0.001,
  dtype: 'F32',
  heldOut: { source: 3.2109, grownAtInit: 3.3456, grown: 2.9876, tokens: 1234 },
  parameters: { source: 124_439_808, target: 354_823_168, operator: 1_234_567 },
  sourceDims: dims(12, 768, 12, 3072),
  targetDims: dims(24, 1024, 16, 4096),
} satisfies ModelCardReport;

function dims(numLayers: number, hiddenSize: number, numHeads: number, intermediateSize: number): ModelCardReport['sourceDims'] {
  return {
    family: 'gpt2',
    modelType: 'gpt2',
    vocabSize: 50257,
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads: numHeads,
    headDim: hiddenSize / numHeads,
    intermediateSize,
    maxPositions: 1024,
    typeVocabSize: 0,
    normEps: 1e-5,
    activation: 'gelu_new',
    ropeTheta: 10000,
    tiedEmbeddings: true,
    qkvBias: true,
    oBias: true,
    mlpBias: true,
    objective: 'causal',
    rotary: false,
  };
}

/** A grown-like model directory: config, safetensors weights, tokenizer, growth.json, README. */
export async function makeGrownDir(options: { readme?: boolean } = {}): Promise<string> {
  const dir = await tempDir('ligo-grown-');
  await copyFile(path.join(GPT2_DIR, 'config.json'), path.join(dir, 'config.json'));
  await copyFile(path.join(GPT2_DIR, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  const values = Float32Array.from({ length: 4 * 48 }, (_, i) => Math.sin(i));
  const weights = serializeSafetensors(
    [
      { name: 'wte.weight', dtype: 'F32', shape: [4, 48], data: new Uint8Array(values.buffer) },
      { name: 'ln_f.bias', dtype: 'F32', shape: [3], data: new Uint8Array(new Float32Array([1, 2, 3]).buffer) },
    ],
    { format: 'pt' },
  );
  await writeFile(path.join(dir, 'model.safetensors'), weights);
  await writeFile(path.join(dir, 'growth.json'), `${JSON.stringify(REPORT, null, 2)}\n`);
  if (options.readme !== false) await writeFile(path.join(dir, 'README.md'), renderModelCard(REPORT, { baseModel: REPORT.source, license: 'mit' }));
  return dir;
}

/** Every file under dir (following links) by relative path, for byte comparisons. */
export async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const name of (await readdir(dir)).sort()) out.set(name, await readFile(path.join(dir, name)));
  return out;
}

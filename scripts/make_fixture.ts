/**
 * Pretrains the bundled fixture model (a tiny byte-level GPT-2) on the fixture text, so that
 * growth experiments start from a model that has learned something. Run once; the result is
 * committed under fixtures/. Usage: node --import tsx scripts/make_fixture.ts [--steps N]
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { resolveArchitecture, tensorSpecs } from '../src/arch/index.js';
import { initBackend } from '../src/backend/index.js';
import { createCheckpointWriter } from '../src/checkpoint/index.js';
import { BatchSampler, heldOutSplit, loadTokenizer, loadTokens } from '../src/data/index.js';
import { evaluateTokens } from '../src/eval/index.js';
import { causalLmLoss, forward } from '../src/models/index.js';
import { AdamW } from '../src/train/adamw.js';
import { learningRate } from '../src/train/schedule.js';

const OUT = 'fixtures/tiny-gpt2';
const CORPUS = 'fixtures/text/corpus.txt';
const TOKENIZER_DIR = 'test/data/golden/gpt2-prefixed';
const STEPS = Number(process.argv[process.argv.indexOf('--steps') + 1]) || 2000;
const BATCH = 8;
const SEQ = 128;

const config = {
  model_type: 'gpt2',
  architectures: ['GPT2LMHeadModel'],
  vocab_size: 256,
  n_positions: 128,
  n_embd: 64,
  n_layer: 2,
  n_head: 4,
  n_inner: null,
  activation_function: 'gelu_new',
  layer_norm_epsilon: 1e-5,
  tie_word_embeddings: true,
  bos_token_id: 10,
  eos_token_id: 10,
  torch_dtype: 'float32',
};

async function main(): Promise<void> {
  const backend = await initBackend({});
  const { description, dims } = resolveArchitecture(config);
  const specs = tensorSpecs(description, dims);
  const residualScale = 1 / Math.sqrt(2 * dims.numLayers); // GPT-2's scaled init of residual projections
  const weights = new Map<string, tf.Variable>(
    specs.map((s, i) => {
      const init =
        s.template.init === 'ones'
          ? tf.ones(s.shape)
          : s.template.init === 'zeros'
            ? tf.zeros(s.shape)
            : tf.truncatedNormal(s.shape, 0, 0.02 * (s.name.endsWith('c_proj.weight') ? residualScale : 1), 'float32', 1000 + i);
      return [s.name, tf.variable(init, true, s.name)];
    }),
  );
  const w = (name: string): tf.Tensor => {
    const t = weights.get(name);
    if (!t) throw new Error(name);
    return t;
  };
  const tokenizer = await loadTokenizer(TOKENIZER_DIR);
  const tokens = await loadTokens({ file: CORPUS, tokenizer });
  const { train, heldOut } = heldOutSplit(tokens, 0.1, SEQ);
  const sampler = new BatchSampler(train, { batchSize: BATCH, seqLen: SEQ, seed: 1 });
  const optimizer = new AdamW([...weights.values()], { beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.01 });
  const started = performance.now();
  for (let step = 0; step < STEPS; step++) {
    const ids = tf.tensor2d(sampler.next(), [BATCH, SEQ], 'int32');
    const { value, grads } = tf.variableGrads(() => causalLmLoss(forward(dims, w, { ids }), ids), [...weights.values()]);
    optimizer.step(grads, learningRate(step, { lr: 3e-3, warmup: 100, steps: STEPS }));
    if (step % 100 === 0 || step === STEPS - 1) {
      const seconds = ((performance.now() - started) / 1000).toFixed(0);
      console.error(`step ${step + 1}/${STEPS} loss ${(await value.data())[0].toFixed(3)} (${seconds}s, ${backend.name})`);
    }
    tf.dispose([ids, value, ...Object.values(grads)]);
  }
  const heldOutLoss = (await evaluateTokens({ dims, weights: w, tokens: heldOut, seqLen: SEQ })).loss;
  console.error(`held-out loss ${heldOutLoss.toFixed(4)} on ${heldOut.length} tokens`);

  await mkdir(OUT, { recursive: true });
  const writer = await createCheckpointWriter(OUT, specs.map((s) => ({ name: s.name, dtype: 'F32' as const, shape: s.shape })));
  for (const s of specs) await writer.write(s.name, (await w(s.name).data()) as Float32Array);
  await writer.close();
  await writeFile(path.join(OUT, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  await copyFile(path.join(TOKENIZER_DIR, 'tokenizer.json'), path.join(OUT, 'tokenizer.json'));
  await writeFile(
    path.join(OUT, 'training.json'),
    `${JSON.stringify({ corpus: CORPUS, steps: STEPS, batchSize: BATCH, seqLen: SEQ, heldOutLoss, backend: backend.name }, null, 2)}\n`,
  );
}

await main();

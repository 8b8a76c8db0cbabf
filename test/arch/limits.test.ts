import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARCHITECTURES, resolveArchitecture, tensorSpecs } from '../../src/arch/index.js';
import { MAX_HIDDEN_SIZE, MAX_LAYERS, MAX_MODEL_BYTES, MAX_VOCAB_SIZE, modelSize } from '../../src/arch/limits.js';
import * as limits from '../../src/arch/limits.js';
import { parameterCount } from '../../src/arch/spec.js';
import { readConfig } from '../../src/checkpoint/index.js';
import { CheckpointError } from '../../src/errors.js';
import { GOLDEN_CASES, GOLDEN_DIR } from '../models/helpers.js';

const gpt2 = { model_type: 'gpt2', n_embd: 48, n_layer: 2, n_head: 4, n_inner: null, n_positions: 64, vocab_size: 256 };
const llama = { model_type: 'llama', hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 96, vocab_size: 256, max_position_embeddings: 64 };

describe('modelSize', () => {
  it.each(GOLDEN_CASES.map((c) => [c]))('%s: tensors and parameters by arithmetic equal the listed specs, at its depth and at 300 layers', async (name) => {
    const { description, dims } = resolveArchitecture(await readConfig(path.join(GOLDEN_DIR, name)));
    const optional = new Set(description.tensors.filter((t) => t.optional).map((t) => t.name));
    for (const d of [dims, { ...dims, numLayers: 300 }]) {
      for (const present of [new Set<string>(), optional]) {
        const specs = tensorSpecs(description, d, present);
        expect(modelSize(description, d, present)).toEqual({ tensors: specs.length, parameters: parameterCount(specs), bytes: 4 * parameterCount(specs) });
      }
    }
  });

  it('sizes a model of a billion layers without listing them', () => {
    const { description, dims } = resolveArchitecture(gpt2);
    const size = modelSize(description, { ...dims, numLayers: 1e9 });
    const perLayer = modelSize(description, { ...dims, numLayers: 2 }).tensors - modelSize(description, { ...dims, numLayers: 1 }).tensors;
    expect(size.tensors).toBe(1e9 * perLayer + (modelSize(description, { ...dims, numLayers: 1 }).tensors - perLayer));
  });
});

describe('config.json past the limits', () => {
  it('is refused naming the field and the limit, in each family\'s own field names', () => {
    const refused = (config: Record<string, unknown>) => () => resolveArchitecture(config, 'config.json');
    expect(refused({ ...gpt2, n_layer: 1e9 })).toThrow(CheckpointError);
    expect(refused({ ...gpt2, n_layer: 1e9 })).toThrow(/^config\.json: field "n_layer" is 1000000000, more than ligo's limit of 1,024 layers$/);
    expect(refused({ ...llama, num_hidden_layers: MAX_LAYERS + 1 })).toThrow(/field "num_hidden_layers" is 1025, more than ligo's limit of 1,024 layers$/);
    expect(refused({ ...llama, hidden_size: MAX_HIDDEN_SIZE * 2, num_attention_heads: 4 })).toThrow(/field "hidden_size" is 262144, more than ligo's limit of 131,072 units$/);
    expect(refused({ ...gpt2, vocab_size: MAX_VOCAB_SIZE + 1 })).toThrow(/field "vocab_size" is 4194305, more than ligo's limit of 4,194,304 tokens$/);
    expect(refused({ ...gpt2, n_positions: 2 ** 31 })).toThrow(/field "n_positions" is 2147483648, more than ligo's limit of 16,777,216 positions$/);
    expect(refused({ ...llama, num_attention_heads: 8192, num_key_value_heads: 8192, hidden_size: 8192 })).toThrow(/field "num_attention_heads" is 8192, more than ligo's limit of 4,096 heads$/);
  });

  it('at the limits a config is read; a model of every dimension within its limit but too large in all is refused in bytes', () => {
    expect(resolveArchitecture({ ...gpt2, n_layer: MAX_LAYERS }).dims.numLayers).toBe(MAX_LAYERS);
    const huge = { ...llama, num_hidden_layers: MAX_LAYERS, hidden_size: MAX_HIDDEN_SIZE, num_attention_heads: 1024, num_key_value_heads: 1024, intermediate_size: 4 * MAX_HIDDEN_SIZE };
    const { description } = resolveArchitecture(llama);
    const bytes = modelSize(description, { ...resolveArchitecture(llama).dims, numLayers: MAX_LAYERS, hiddenSize: MAX_HIDDEN_SIZE, numHeads: 1024, numKvHeads: 1024, headDim: 128, intermediateSize: 4 * MAX_HIDDEN_SIZE }).bytes;
    expect(bytes).toBeGreaterThan(MAX_MODEL_BYTES);
    expect(() => resolveArchitecture(huge, 'config.json')).toThrow(/^config\.json: 2\.\d\de\+14 parameters \([\d.]+ TiB at float32\), more than ligo's limit of 64\.0 TiB$/);
  });

  it('every family names its own fields (no family reads a size without a config field name)', () => {
    for (const a of ARCHITECTURES) {
      for (const key of ['numLayers', 'hiddenSize', 'vocabSize', 'intermediateSize', 'numHeads'] as const) expect(a.configFields[key], `${a.family} ${key}`).toBeDefined();
    }
  });
});

describe('the limits as the README states them', () => {
  it('every limit in arch/limits.ts appears in README.md with its value', async () => {
    const readme = await readFile(path.join(GOLDEN_DIR, '../../../README.md'), 'utf8');
    for (const [name, value] of Object.entries(limits)) {
      if (typeof value !== 'number') continue;
      const shown = name === 'MAX_MODEL_BYTES' ? `${value / 2 ** 40} TiB` : value.toLocaleString('en-US');
      expect(readme.replace(/\s+/g, ' '), name).toContain(shown);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { resolveArchitecture } from '../../src/arch/resolve.js';
import { decodeToFloat32, encodeFromFloat32 } from '../../src/checkpoint/dtypes.js';
import { operatorShapes } from '../../src/growth/layout.js';
import { planGrowth, type GrowthPlan } from '../../src/growth/plan.js';
import { BufferPool } from '../../src/checkpoint/chunks.js';
import { materializeBySelection, SelectionOperator } from '../../src/growth/stream/selection.js';
import { rowChunks } from '../../src/growth/stream/row_chunks.js';
import { materializeBitsBySelection, planBitsGather } from '../../src/growth/stream/selection_bits.js';
import { resolveTarget } from '../../src/growth/target.js';

/** Deterministic uniform numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// vocab * hidden = 65536: the embedding holds every 16-bit word once.
const CONFIG = {
  model_type: 'llama',
  architectures: ['LlamaForCausalLM'],
  hidden_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  intermediate_size: 96,
  vocab_size: 1024,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-6,
  hidden_act: 'silu',
  tie_word_embeddings: false,
};

function plan(): GrowthPlan {
  const { description, dims } = resolveArchitecture(CONFIG);
  const target = resolveTarget(dims, { hiddenSize: 128, layers: 3, intermediateSize: 200 }, description);
  return planGrowth({ description, source: dims, target, method: 'net2net', optionalPresent: new Set() });
}

const SPECIAL = {
  BF16: [0x0000, 0x8000, 0x0001, 0x807f, 0x0080, 0x8100, 0x0180, 0x7f80, 0xff80, 0x7f81, 0xffc1, 0x7fff, 0xff00, 0x7f7f],
  F16: [0x0000, 0x8000, 0x0001, 0x83ff, 0x0400, 0x8800, 0x0c00, 0x7c00, 0xfc00, 0x7c01, 0xfe01, 0x7fff, 0xfbff, 0x7bff],
} as const;

/** Random words (every one in the embedding), with zeros, subnormals, Inf and NaN payloads mixed in. */
function sources(p: GrowthPlan, dtype: 'BF16' | 'F16', random: () => number, specialRate: number): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const t of p.tensors) {
    const n = t.smallShape.reduce((a, b) => a * b, 1);
    for (const name of t.sources) {
      if (out.has(name)) continue;
      const words = new Uint16Array(n);
      if (n === 65536) {
        for (let i = 0; i < n; i++) words[i] = i;
        for (let i = n - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1));
          [words[i], words[j]] = [words[j], words[i]];
        }
      } else {
        const special = SPECIAL[dtype];
        // Mostly normal numbers (exponent fields away from 0 and the top) when specials are rare.
        const normal = (): number => {
          const w = Math.floor(random() * 65536);
          if (specialRate >= 0.1) return w;
          return dtype === 'BF16' ? (w & 0x807f) | ((100 + Math.floor(random() * 40)) << 7) : (w & 0x83ff) | ((5 + Math.floor(random() * 20)) << 10);
        };
        for (let i = 0; i < n; i++) words[i] = random() < specialRate ? special[Math.floor(random() * special.length)] : normal();
      }
      out.set(name, new Uint8Array(words.buffer));
    }
  }
  return out;
}

/** Selection matrices with copies, powers-of-two splits, other scales, zero rows and negative scales. */
function operator(p: GrowthPlan, random: () => number, scales: readonly number[], structured: boolean): Map<string, { data: Float32Array; shape: number[] }> {
  const m = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const [name, [rows, cols]] of operatorShapes(p)) {
    const data = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      // Structured: row r copies column r % cols, the scale constant over stretches of rows (runs).
      const s = structured ? scales[Math.floor(r / 37) % scales.length] : scales[Math.floor(random() * scales.length)];
      if (s !== 0) data[r * cols + (structured ? r % cols : Math.floor(random() * cols))] = s;
    }
    m.set(name, { data, shape: [rows, cols] });
  }
  return m;
}

async function check(dtype: 'BF16' | 'F16', seed: number, scales: readonly number[], structured = false, specialRate = 0.2): Promise<number> {
  const p = plan();
  const random = rng(seed);
  const bytes = sources(p, dtype, random, specialRate);
  const matrices = operator(p, random, scales, structured);
  const selection = new SelectionOperator(p, async (name) => {
    const a = matrices.get(name);
    if (!a) throw new Error(`no operator tensor ${name}`);
    return { data: a.data.slice(), shape: a.shape };
  });
  const readBytes = async (name: string): Promise<Uint8Array> => {
    const b = bytes.get(name);
    if (!b) throw new Error(`no source tensor ${name}`);
    return b.slice();
  };
  let checked = 0;
  let repeatedBlocks = 0;
  for (const t of p.tensors) {
    const viaFloat = await materializeBySelection(t, selection, async (name) => decodeToFloat32(await readBytes(name), dtype));
    const viaBits = await materializeBitsBySelection(t, selection, dtype, { dtypeOf: () => dtype, readBytes });
    expect(viaBits === undefined, t.name).toBe(viaFloat === undefined);
    if (!viaFloat || !viaBits) continue;
    const expected = encodeFromFloat32(viaFloat, dtype);
    expect(viaBits.byteLength, t.name).toBe(expected.byteLength);
    const a = new Uint16Array(viaBits.buffer, viaBits.byteOffset, viaBits.byteLength / 2);
    const b = new Uint16Array(expected.buffer, expected.byteOffset, expected.byteLength / 2);
    let firstDiff = -1;
    for (let i = 0; i < a.length && firstDiff < 0; i++) if (a[i] !== b[i]) firstDiff = i;
    expect(firstDiff, `${t.name} ${dtype}: first differing word`).toBe(-1);
    // Streamed in blocks of rows (odd sizes, so blocks split the repeated rows unevenly): the same bytes.
    const gather = await planBitsGather(t, selection, dtype, { dtypeOf: () => dtype, readBytes });
    if (!gather) throw new Error(`${t.name}: no gather plan`);
    const rowBytes = gather.rowBytes;
    const chunkBytes = rowBytes * (1 + (checked % 7)) + 2;
    const pool = new BufferPool(2, chunkBytes);
    const assembled = new Uint8Array(viaBits.byteLength);
    const writes = new Uint8Array(viaBits.byteLength);
    for await (const chunk of rowChunks(gather, pool, chunkBytes)) {
      expect(chunk.bytes.byteLength % rowBytes, t.name).toBe(0);
      for (const at of chunk.offsets ?? []) {
        assembled.set(chunk.bytes, at);
        for (let i = at; i < at + chunk.bytes.byteLength; i++) writes[i]++;
      }
      if ((chunk.offsets?.length ?? 1) > 1) repeatedBlocks++;
      chunk.release?.();
    }
    expect(writes.every((w) => w === 1), `${t.name}: every byte written once`).toBe(true);
    expect(Buffer.compare(assembled, viaBits), `${t.name} ${dtype}: streamed bytes`).toBe(0);
    checked++;
  }
  expect(checked).toBe(p.tensors.length);
  return repeatedBlocks;
}

describe('bit-level (16-bit word) selection materialization is bit-identical to decode -> gather -> encode', () => {
  for (const dtype of ['BF16', 'F16'] as const) {
    it(`${dtype}: net2net-like scales (1, 1/2, 1/4)`, async () => {
      await check(dtype, 11, [1, 1, 0.5, 0.25]);
    });
    it(`${dtype}: arbitrary scales (1/3, 0, 2, negative, tiny powers of two)`, async () => {
      await check(dtype, 23, [1, 0.5, 1 / 3, 0, 2, -0.5, -1, 2 ** -20, 2 ** -100, 0.7, 3]);
    });
    for (const specialRate of [0, 0.0005, 0.2]) {
      it(`${dtype}: structured copies and splits in runs (bulk copy and pair shift), specials at rate ${specialRate}`, async () => {
        await check(dtype, 31, [1, 0.5, 0.25, 1, 2 ** -20, 1 / 3], true, specialRate);
      });
    }
    for (const scale of [1, 0.5]) {
      it(`${dtype}: exact doubling at scale ${scale} (repeated rows and column runs are copies), specials at rate 0.2`, async () => {
        // Blocks of rows built once and written at each place they repeat.
        expect(await check(dtype, 47, [scale], true, 0.2)).toBeGreaterThan(0);
      });
    }
  }

  it('falls back (undefined) when the source is stored in another dtype', async () => {
    const p = plan();
    const selection = new SelectionOperator(p, async (name) => {
      const shape = operatorShapes(p).get(name);
      if (!shape) throw new Error(name);
      const data = new Float32Array(shape[0] * shape[1]);
      for (let r = 0; r < shape[0]; r++) data[r * shape[1] + (r % shape[1])] = 1;
      return { data, shape };
    });
    const t = p.tensors[0];
    const source = { dtypeOf: () => 'F32' as const, readBytes: async () => new Uint8Array(0) };
    expect(await materializeBitsBySelection(t, selection, 'BF16', source)).toBeUndefined();
    expect(await materializeBitsBySelection(t, selection, 'F32', { ...source, dtypeOf: () => 'BF16' as const })).toBeUndefined();
  });
});

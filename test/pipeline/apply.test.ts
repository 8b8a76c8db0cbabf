import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsFile, serializeSafetensors } from '../../src/checkpoint/index.js';
import { OPERATOR_FILE } from '../../src/output/files.js';
import { apply, grow } from '../../src/pipeline/index.js';
import { GPT2_DIR } from '../cli/helpers.js';

describe('apply of a hostile operator file', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ligo-apply-'));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  /** The grown operator file with its recorded target dims changed (as a damaged or hostile file would say). */
  async function withTarget(change: Record<string, number>): Promise<string> {
    const grown = await grow({ source: GPT2_DIR, out: path.join(work, 'grown'), method: 'stack', layers: 3, backend: 'wasm', overwrite: true });
    const st = await SafetensorsFile.open(path.join(grown.out, OPERATOR_FILE));
    const tensors = [];
    for (const name of st.entries.keys()) tensors.push({ name, dtype: st.entry(name).dtype, shape: st.entry(name).shape, data: await st.readBytes(name) });
    const metadata = { ...(st.metadata ?? {}) };
    await st.close();
    metadata.ligo_target = JSON.stringify({ ...(JSON.parse(metadata.ligo_target) as object), ...change });
    const file = path.join(work, 'hostile.safetensors');
    await writeFile(file, serializeSafetensors(tensors, metadata));
    return file;
  }

  it('a target past the limits is refused in one line naming --operator, before any plan or write', async () => {
    const operator = await withTarget({ numLayers: 1e9 });
    const out = path.join(work, 'applied');
    await expect(apply({ source: GPT2_DIR, operator, out, backend: 'wasm' })).rejects.toMatchObject({
      name: 'CheckpointError',
      message: `--operator: ${operator} describes a target of 1000000000 layers, more than ligo's limit of 1,024 layers`,
    });
    const wide = await withTarget({ numLayers: 1024, hiddenSize: 131072, numHeads: 1024, intermediateSize: 524288 });
    await expect(apply({ source: GPT2_DIR, operator: wide, out, backend: 'wasm' })).rejects.toThrow(/describes a target of [\d.]+ TiB of float32 weights, more than ligo's limit of 64\.0 TiB$/);
    expect((await readdir(work)).sort()).toEqual(['grown', 'hostile.safetensors']);
  });
});

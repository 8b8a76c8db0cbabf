/**
 * Every path a run names is checked before a model is loaded: the source here has unreadable
 * weights, so an error naming the input (and not the checkpoint) shows the input came first.
 */
import { cp, mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply, compare, grow } from '../../src/pipeline/index.js';
import { checkInputs } from '../../src/pipeline/inputs.js';
import { GPT2_DIR } from '../cli/helpers.js';

describe('inputs checked before the model', () => {
  let root: string;
  let broken: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'ligo-inputs-'));
    broken = path.join(root, 'broken');
    await cp(GPT2_DIR, broken, { recursive: true });
    await writeFile(path.join(broken, 'model.safetensors'), 'not a safetensors file');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  const missing = () => path.join(root, 'missing.txt');
  const usage = (message: string) => ({ name: 'UsageError', message });

  it('grow: a missing --data, a --data that is a directory, a missing --target-config', async () => {
    const out = path.join(root, 'out');
    await expect(grow({ source: broken, layers: 3, data: missing(), steps: 2, out })).rejects.toMatchObject(usage(`--data: cannot read ${missing()}: no such file or directory`));
    const dir = path.join(root, 'texts');
    await mkdir(dir);
    await expect(grow({ source: broken, layers: 3, data: dir, out })).rejects.toMatchObject(usage(`--data: ${dir} is not a file`));
    await expect(grow({ source: broken, targetConfig: missing(), out })).rejects.toMatchObject(usage(`--target-config: cannot read ${missing()}: no such file or directory`));
    await rm(dir, { recursive: true });
  });

  it('apply: a missing --operator; compare: a missing --data', async () => {
    const operator = path.join(root, 'op.safetensors');
    await expect(apply({ source: broken, operator, out: path.join(root, 'out') })).rejects.toMatchObject(usage(`--operator: cannot read ${operator}: no such file or directory`));
    await expect(compare({ source: broken, layers: 3, data: missing() })).rejects.toMatchObject(usage(`--data: cannot read ${missing()}: no such file or directory`));
  });

  it('a path through a file is named as such; present inputs pass and nothing is left behind', async () => {
    const file = path.join(root, 'notes.txt');
    await writeFile(file, 'text');
    await expect(checkInputs({ data: path.join(file, 'x.txt') })).rejects.toMatchObject(usage(`--data: cannot read ${path.join(file, 'x.txt')}: a part of the path is not a directory`));
    await expect(checkInputs({ data: file, operator: GPT2_DIR, targetConfig: path.join(GPT2_DIR, 'config.json'), out: path.join(root, 'new', 'out') })).resolves.toBeUndefined();
    await rm(file);
    expect(await readdir(root)).toEqual(['broken']);
  });
});

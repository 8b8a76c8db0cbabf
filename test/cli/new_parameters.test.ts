import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEW_PARAMETERS_FILE, OPERATOR_FILE, README_FILE, REPORT_FILE } from '../../src/output/files.js';
import { GPT2_DIR, lastJson, ligo } from './helpers.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ligo-new-params-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('a grown directory says which weights are new', () => {
  it('grow writes the listing and its summary in growth.json; inspect shows it; the card has the groups snippet', async () => {
    const out = path.join(work, 'grown');
    const run = await ligo(['grow', GPT2_DIR, '--out', out, '--hidden-size', '96', '--layers', '4', '--method', 'net2net']);
    expect(run.code, run.stderr).toBe(0);
    const listing = JSON.parse(await readFile(path.join(out, NEW_PARAMETERS_FILE), 'utf8')) as { format: string; newLayers: number[]; tensors: Record<string, { status: string; new?: number[][][] }> };
    expect(listing.format).toBe('ligo-new-parameters/1');
    expect(listing.newLayers).toEqual([2, 3]);
    expect(listing.tensors['transformer.h.0.mlp.c_fc.weight']).toEqual({ status: 'partly new', shape: [96, 160], new: [[[48, 96]], [[80, 160]]] });
    const report = JSON.parse(await readFile(path.join(out, REPORT_FILE), 'utf8')) as Record<string, { file?: string; tensors?: object; groups?: { sourceLrFrom: string } }>;
    expect(report.newParameters.file).toBe(NEW_PARAMETERS_FILE);
    expect(report.downstream.groups?.sourceLrFrom).toBe('default');
    const card = await readFile(path.join(out, README_FILE), 'utf8');
    expect(card).toContain(NEW_PARAMETERS_FILE);
    expect(card).toContain('torch.optim.AdamW([{"params": new');

    const shown = await ligo(['inspect', out]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/grown by ligo .*new layers 2, 3.*inherited, .*partly new/);
    const json = lastJson(await ligo(['inspect', out, '--json']));
    expect(json.newParameters).toMatchObject({ newLayers: [2, 3], file: NEW_PARAMETERS_FILE });
  });

  it('apply from a grown directory writes the same listing; from a bare operator file, none', async () => {
    const out = path.join(work, 'grown');
    const again = path.join(work, 'again');
    const run = await ligo(['apply', GPT2_DIR, '--operator', out, '--out', again]);
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(path.join(again, NEW_PARAMETERS_FILE), 'utf8')).toBe(await readFile(path.join(out, NEW_PARAMETERS_FILE), 'utf8'));
    const bare = path.join(work, 'bare');
    await mkdir(bare);
    await copyFile(path.join(out, OPERATOR_FILE), path.join(bare, OPERATOR_FILE));
    const plain = await ligo(['apply', GPT2_DIR, '--operator', path.join(bare, OPERATOR_FILE), '--out', path.join(work, 'plain')]);
    expect(plain.code, plain.stderr).toBe(0);
    await expect(readFile(path.join(work, 'plain', NEW_PARAMETERS_FILE))).rejects.toThrow();
  });

  it('inspect says in one line that a malformed listing is not shown, and still reports the model', async () => {
    const out = path.join(work, 'grown');
    await writeFile(path.join(out, NEW_PARAMETERS_FILE), '{ not json');
    const shown = await ligo(['inspect', out]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stderr).toContain(`${NEW_PARAMETERS_FILE}: not valid JSON; not shown`);
    expect(shown.stdout).not.toContain('grown by ligo');
  });

  it('a --source-lr that is not a positive number is refused naming the flag', async () => {
    const run = await ligo(['grow', GPT2_DIR, '--out', path.join(work, 'refused'), '--hidden-size', '96', '--source-lr', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--source-lr: expected a positive number, got 0');
    const named = await ligo(['compare', GPT2_DIR, '--data', path.join(work, 'none.txt'), '--source-lr', 'fast']);
    expect(named.code).toBe(2);
    expect(named.stderr).toContain('--source-lr');
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveGrowOptions } from '../../src/pipeline/options.js';
import { groupAdvice, sourceLearningRate, TRAINER_STATE_FILE } from '../../src/pipeline/source_lr.js';
import { scratchPeakLr } from '../../src/train/downstream.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ligo-source-lr-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withState(text: string): Promise<{ found: Awaited<ReturnType<typeof sourceLearningRate>>; lines: string[] }> {
  await writeFile(path.join(dir, TRAINER_STATE_FILE), text);
  const lines: string[] = [];
  return { found: await sourceLearningRate(dir, undefined, (m) => lines.push(m)), lines };
}

describe('the rate the source ended at', () => {
  it('reads the last logged learning_rate of trainer_state.json', async () => {
    const state = { log_history: [{ step: 10, learning_rate: 3e-4, loss: 2 }, { step: 20, learning_rate: 6e-5, loss: 1.9 }, { step: 20, eval_loss: 1.8 }] };
    expect(await withState(JSON.stringify(state))).toEqual({ found: { lr: 6e-5, from: TRAINER_STATE_FILE }, lines: [] });
  });

  it.each([
    ['{ not json', 'not valid JSON'],
    ['{"log_history": 3}', 'no log_history list'],
    ['{"log_history": [{"learning_rate": 0}, {"loss": 1}]}', 'no positive learning_rate in log_history'],
  ])('a malformed trainer_state.json (%s) is ignored with one line', async (text, why) => {
    const { found, lines } = await withState(text);
    expect(found).toBeUndefined();
    expect(lines).toEqual([`${path.join(dir, TRAINER_STATE_FILE)}: ${why}; ignored (the source's final learning rate is taken as unknown)`]);
  });

  it('--source-lr wins over the file; no file is no rate, silently', async () => {
    const lines: string[] = [];
    expect(await sourceLearningRate(dir, 1e-5, (m) => lines.push(m))).toEqual({ lr: 1e-5, from: '--source-lr' });
    expect(await sourceLearningRate(path.join(dir, 'absent'), undefined, (m) => lines.push(m))).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it('unknown: inherited weights held at a tenth of the from-scratch peak', () => {
    expect(groupAdvice(192, undefined)).toMatchObject({ peakLr: scratchPeakLr(192), sourceLr: scratchPeakLr(192) / 10, sourceLrFrom: 'default' });
    expect(groupAdvice(192, { lr: 3e-4, from: '--source-lr' })).toMatchObject({ sourceLr: 3e-4, sourceLrFrom: '--source-lr' });
  });

  it.each([0, -1e-4, Number.NaN])('--source-lr %s is refused naming the flag', (lr) => {
    expect(() => resolveGrowOptions({ source: 's', out: 'o', sourceLr: lr })).toThrow(/^--source-lr: expected a positive number/);
  });
});

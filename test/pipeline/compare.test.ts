import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPARE_FILE, COMPARE_PLOT_FILE } from '../../src/output/index.js';
import { compare, type CompareResult } from '../../src/pipeline/index.js';
import { errorLines, lastJson, ligo } from '../cli/helpers.js';

const FIXTURE = 'fixtures/tiny-gpt2';
// One wasm thread: the test machine is shared, and oversubscribed threads run several times slower.
let work: string;
let data: string;
let result: CompareResult;

/** Every tag closed in order: enough to tell a well-formed SVG from a broken one without an XML parser. */
function checkWellFormed(xml: string): void {
  const stack: string[] = [];
  for (const [, close, name, selfClosing] of xml.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    if (selfClosing === '/') continue;
    if (close === '/') expect(stack.pop(), `</${name}>`).toBe(name);
    else stack.push(name);
  }
  expect(stack).toEqual([]);
}

describe('compare', () => {
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'ligo-compare-'));
    data = path.join(work, 'text.txt');
    await writeFile(data, (await readFile('fixtures/text/persuasion.txt', 'utf8')).slice(0, 12_000));
    result = await compare({
      source: FIXTURE, data, layers: 3, hiddenSize: 128, threads: 1, methods: ['ligo', 'net2net', 'random'],
      steps: 4, evalEvery: 2, learnSteps: 2, batchSize: 2, seqLen: 32, trainBatchSize: 2, out: path.join(work, 'out'),
    });
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('writes compare.json: per method its name, [step, loss] curve from step 0 and FLOPs', async () => {
    const saved = JSON.parse(await readFile(path.join(work, 'out', COMPARE_FILE), 'utf8')) as CompareResult;
    expect(saved.methods.map((m) => m.name)).toEqual(['ligo', 'net2net', 'random']);
    for (const m of saved.methods) {
      expect(m.curve.map(([step]) => step)).toEqual([0, 2, 4]);
      expect(m.curve.every(([, loss]) => Number.isFinite(loss) && loss > 0)).toBe(true);
      expect(m.flops).toBeGreaterThan(0);
      expect(m.flops).toBeCloseTo(m.learnFlops + 4 * m.stepFlops, -3);
    }
    const [ligoRun, net2net, random] = saved.methods;
    // Without a learning phase a curve starts at the model as grown.
    expect(net2net.curve[0][1]).toBeCloseTo(net2net.grownAtInit, 6);
    expect(random.curve[0][1]).toBeCloseTo(random.grownAtInit, 6);
    // Function-preserving starts equal the source; scratch starts near ln(256).
    expect(ligoRun.grownAtInit).toBeCloseTo(saved.source.heldOut, 4);
    expect(net2net.grownAtInit).toBeCloseTo(saved.source.heldOut, 4);
    expect(random.curve[0][1]).toBeGreaterThan(saved.source.heldOut + 1);
    // The learning phase is counted: same steps, more compute.
    expect(ligoRun.learnFlops).toBeGreaterThan(0);
    expect(ligoRun.flops).toBeGreaterThan(net2net.flops);
    expect(Object.keys(saved.saved.ligo).sort()).toEqual(['net2net', 'random']);
  });

  it('writes compare.svg: well-formed, one path per method, a legend entry each', async () => {
    const svg = await readFile(path.join(work, 'out', COMPARE_PLOT_FILE), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    checkWellFormed(svg);
    expect(svg.match(/<path /g)).toHaveLength(3);
    for (const name of ['ligo', 'net2net', 'random']) expect(svg).toContain(`>${name}</text>`);
    expect(svg).toContain('held-out loss');
    expect(result.methods).toHaveLength(3);
  });

  it('ligo compare --json: ligo without a learning phase starts at the source\'s loss', async () => {
    const run = await ligo(['compare', FIXTURE, '--layers', '3', '--hidden-size', '128', '--threads', '1', '--data', data, '--methods', 'ligo,net2net', '--steps', '2', '--eval-every', '2',
      '--learn-steps', '0', '--seq-len', '32', '--train-batch-size', '2', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const json = lastJson(run) as unknown as CompareResult;
    expect(json.methods.map((m) => m.name)).toEqual(['ligo', 'net2net']);
    expect(json.methods[0].curve[0][1]).toBeCloseTo(json.source.heldOut, 4);
    expect(json.methods[0].learnFlops).toBe(0);
  });

  it('refuses a bad --methods in one line naming the flag', async () => {
    for (const methods of ['ligo,bogus', 'ligo,ligo', ',']) {
      const run = await ligo(['compare', FIXTURE, '--layers', '3', '--data', data, '--methods', methods]);
      expect(run.code).toBe(2);
      expect(errorLines(run)[0]).toMatch(/^ligo: --methods: /);
    }
    const steps = await ligo(['compare', FIXTURE, '--layers', '3', '--data', data, '--steps', '0']);
    expect(steps.code).toBe(2);
    expect(errorLines(steps)[0]).toMatch(/^ligo: --steps: /);
  });
});

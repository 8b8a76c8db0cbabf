/**
 * Seeded fuzz of what a user types and what a config.json holds: every config field of every
 * golden family, and every numeric flag of grow, apply, compare and eval, set to 0, -1, 1.5, 2^31,
 * 1e12, a string, null and a list. Each run ends in one clear line: exit 0 (a value ligo accepts
 * there), or exit 1 or 2 with at most three lines on stderr, never "a bug in ligo", and nothing
 * written. Runs are in-process (helpers' ligo(): main() on captured streams, no node start per
 * case) except the one marked SPAWNED, which checks a real process under a 1 GiB heap.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import yargs from 'yargs';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHITECTURES } from '../../src/arch/index.js';
import { DIM_LIMITS } from '../../src/arch/limits.js';
import type { ModelDims } from '../../src/arch/dims.js';
import { applyCommand } from '../../src/cli/commands/apply.js';
import { compareCommand } from '../../src/cli/commands/compare.js';
import { evalCommand } from '../../src/cli/commands/eval.js';
import { growCommand } from '../../src/cli/commands/grow.js';
import type { CliIO } from '../../src/cli/output.js';
import { report } from '../../src/cli/main.js';
import { createRng } from '../../src/data/random.js';
import { inspectModel } from '../../src/inspect/index.js';
import { planGrow } from '../../src/pipeline/index.js';
import { GOLDEN, GPT2_DIR, ligo, ligoProcess, type CliRun } from './helpers.js';

const SEED = 26;
const GIB = 2 ** 30;

/** The eight values, as JSON (config fields) and as typed on a command line (a list: the flag twice). */
const VALUES: { name: string; json: unknown; argv: string[] | 'twice' }[] = [
  { name: '0', json: 0, argv: ['0'] },
  { name: '-1', json: -1, argv: ['-1'] },
  { name: '1.5', json: 1.5, argv: ['1.5'] },
  { name: '2^31', json: 2 ** 31, argv: ['2147483648'] },
  { name: '1e12', json: 1e12, argv: ['1e12'] },
  { name: 'a string', json: 'abc', argv: ['abc'] },
  { name: 'null', json: null, argv: ['null'] },
  { name: 'a list', json: [4, 8], argv: 'twice' },
];

/** The contract of every run: a result, or a refusal of at most three lines that is not a crash. */
function expectClear(run: CliRun, label: string): void {
  expect([0, 1, 2], `${label}: exit ${run.code}\n${run.stderr}`).toContain(run.code);
  if (run.code === 0) return;
  const lines = run.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('backend: '));
  expect(lines.length, `${label}:\n${run.stderr}`).toBeLessThanOrEqual(3);
  expect(lines[0], label).toMatch(/^ligo: /);
  expect(run.stderr, label).not.toMatch(/bug in ligo|RangeError|TypeError|heap/);
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'ligo-fuzz-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Field paths of a config: top-level keys and the keys of nested objects (rope_scaling.factor). */
function fieldPaths(config: Record<string, unknown>): string[][] {
  return Object.entries(config).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? [[k], ...Object.keys(v).map((sub) => [k, sub])] : [[k]],
  );
}

function mutated(config: Record<string, unknown>, field: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(config);
  const parent = field.length === 1 ? copy : (copy[field[0]] as Record<string, unknown>);
  parent[field[field.length - 1]] = value;
  return copy;
}

/** Config fields that set a size DIM_LIMITS bounds, per model_type: any value but null is refused there. */
function sizeFields(modelType: string): Set<string> {
  const description = ARCHITECTURES.find((a) => a.modelTypes.includes(modelType));
  const fields = description?.configFields ?? {};
  return new Set((Object.keys(DIM_LIMITS) as (keyof ModelDims)[]).flatMap((k) => (fields[k] === undefined ? [] : [fields[k]])));
}

/**
 * A library call as the CLI ends it: 0 on success, else what cli/main.ts's report writes and
 * returns. Thousands of cases at a millisecond each, where main() spends several on yargs alone.
 */
async function asCli(call: () => Promise<unknown>): Promise<CliRun> {
  let stderr = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      stderr += chunk.toString();
      done();
    },
  });
  try {
    await call();
    return { code: 0, stdout: '', stderr };
  } catch (error) {
    return { code: report(error, sink, {}), stdout: '', stderr };
  }
}

describe('fuzzed config.json fields', () => {
  it('every field of every golden family, each value: inspect, and seeded samples of grow --dry-run and of the whole CLI, end clearly', async () => {
    const rng = createRng(SEED);
    const families = (await readdir(GOLDEN, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(families.length).toBeGreaterThanOrEqual(6);
    const never = path.join(root, 'never');
    let refusedSizes = 0;
    for (const family of families) {
      const dir = path.join(root, family);
      await cp(path.join(GOLDEN, family), dir, { recursive: true });
      const original = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
      const sizes = sizeFields(String(original.model_type));
      for (const field of fieldPaths(original)) {
        const size = field.length === 1 && sizes.has(field[0]);
        for (const value of VALUES) {
          // Every size field, every value; of the other fields a seeded quarter (most are read as plain numbers or not at all).
          const draw = rng();
          if (!size && draw >= 0.25) continue;
          await writeFile(path.join(dir, 'config.json'), JSON.stringify(mutated(original, field, value.json)));
          const label = `${family} ${field.join('.')} = ${value.name}`;
          const inspect = await asCli(() => inspectModel(dir));
          expectClear(inspect, `inspect ${label}`);
          if (size && value.json !== null) {
            expect(inspect.code, `inspect ${label} must be refused`).not.toBe(0);
            refusedSizes++;
          }
          if (draw < 0.1) expectClear(await asCli(() => planGrow({ source: dir, out: never, layers: 9, method: 'stack' })), `grow --dry-run ${label}`);
          if (draw < 0.03) expectClear(await ligo(['inspect', dir]), `ligo inspect ${label}`);
        }
      }
      expect(process.memoryUsage().rss).toBeLessThan(4 * GIB);
      await rm(dir, { recursive: true });
    }
    expect(refusedSizes).toBeGreaterThan(100);
    expect(await readdir(root)).toEqual([]);
  });
});

/** The flags a command's builder defines with no type of their own (numbers, read by a coerce), as yargs records them. */
function untypedFlags(command: { builder?: unknown }): string[] {
  // getOptions() is yargs' own record of the options (untyped in @types/yargs).
  const build = command.builder as (y: ReturnType<typeof yargs>) => { getOptions(): unknown };
  const o = build(yargs([])).getOptions() as { key: Record<string, unknown>; boolean: string[]; string: string[]; choices: Record<string, unknown> };
  const typed = new Set([...o.boolean, ...o.string, ...Object.keys(o.choices)]);
  return Object.keys(o.key).filter((k) => !typed.has(k));
}

type Domain = 'size' | 'positive' | 'nonNegative' | 'positiveNumber' | 'nonNegativeNumber' | 'fraction' | 'seed' | 'threads' | 'bytes';

/** Which of VALUES each domain accepts (the rest must be refused naming the flag). */
const ACCEPTS: Record<Domain, string[]> = {
  size: [], // a target size: 2^31 and 1e12 are past arch/limits.ts
  positive: ['2^31', '1e12'],
  nonNegative: ['0', '2^31', '1e12'],
  positiveNumber: ['1.5', '2^31', '1e12'],
  nonNegativeNumber: ['0', '1.5', '2^31', '1e12'],
  fraction: [],
  seed: ['0', '2^31'],
  threads: [],
  bytes: ['2^31', '1e12'],
};

const TARGET: Record<string, Domain> = { layers: 'size', 'hidden-size': 'size', heads: 'size', 'kv-heads': 'size', 'head-dim': 'size', 'intermediate-size': 'size' };
const LEARNING: Record<string, Domain> = {
  'seq-len': 'positive', 'max-tokens': 'positive', 'batch-size': 'positive', lr: 'positiveNumber', 'depth-lr': 'nonNegativeNumber', 'heads-lr': 'nonNegativeNumber', noise: 'nonNegativeNumber',
  'split-noise': 'nonNegativeNumber', 'copy-noise': 'nonNegativeNumber', 'select-every': 'nonNegative', warmup: 'nonNegative', 'weight-decay': 'nonNegativeNumber',
  clip: 'nonNegativeNumber', 'grad-accum': 'positive', rank: 'positive', distill: 'nonNegativeNumber', seed: 'seed', 'held-out': 'fraction', threads: 'threads', 'source-lr': 'positiveNumber',
};

/**
 * Per command: a base command line that every accepted value reaches the end of as a refusal
 * naming `sentinel` (an --out that exists, a missing input), so nothing runs and nothing is written.
 */
interface FlagFuzz {
  name: string;
  command: { builder?: unknown };
  base: (fuzzed: string) => string[];
  sentinel: string;
  flags: Record<string, Domain>;
  /** Untyped flags that are not numbers. */
  notNumeric: string[];
}

function cases(): FlagFuzz[] {
  const taken = path.join(root, 'taken');
  const missing = path.join(root, 'missing.txt');
  const target = (fuzzed: string) => (fuzzed in TARGET ? [] : ['--layers', '3']);
  return [
    {
      name: 'grow',
      command: growCommand({} as CliIO),
      base: (f) => ['grow', GPT2_DIR, ...target(f), '--out', taken],
      sentinel: '--out',
      flags: { ...TARGET, ...LEARNING, steps: 'nonNegative', 'max-shard-size': 'bytes' },
      notNumeric: ['dtype'],
    },
    {
      name: 'apply',
      command: applyCommand({} as CliIO),
      base: () => ['apply', GPT2_DIR, '--operator', path.join(root, 'missing.safetensors'), '--out', path.join(root, 'new')],
      sentinel: '--operator',
      flags: { 'max-shard-size': 'bytes', threads: 'threads' },
      notNumeric: ['dtype'],
    },
    {
      name: 'compare',
      command: compareCommand({} as CliIO),
      base: (f) => ['compare', GPT2_DIR, ...target(f), '--data', missing],
      sentinel: '--data',
      flags: { ...TARGET, ...LEARNING, 'learn-steps': 'nonNegative', steps: 'positive', 'train-batch-size': 'positive', 'train-lr': 'positiveNumber', 'eval-every': 'positive' },
      notNumeric: [],
    },
    {
      name: 'eval',
      command: evalCommand({} as CliIO),
      // --seq-len 2^31 is past the model's positions: refused, like the sizes.
      base: () => ['eval', GPT2_DIR, '--data', missing],
      sentinel: 'missing.txt',
      flags: { 'seq-len': 'size', 'max-tokens': 'positive', 'batch-size': 'positive', seed: 'seed', threads: 'threads' },
      notNumeric: [],
    },
  ];
}

describe('fuzzed numeric flags', () => {
  it('each command fuzzes every coerced flag it defines', () => {
    for (const c of cases()) {
      const numeric = untypedFlags(c.command).filter((k) => !c.notNumeric.includes(k));
      expect(numeric.sort(), c.name).toEqual(Object.keys(c.flags).sort());
    }
  });

  it('grow, apply, compare and eval: every numeric flag, each value, refused naming the flag or accepted up to the sentinel', async () => {
    await mkdir(path.join(root, 'taken'));
    await writeFile(path.join(root, 'taken', 'keep'), 'an earlier run');
    const before = await readdir(root);
    for (const c of cases()) {
      for (const [flag, domain] of Object.entries(c.flags)) {
        for (const value of VALUES) {
          const given = value.argv === 'twice' ? [`--${flag}`, '4', `--${flag}`, '8'] : [`--${flag}`, ...value.argv];
          const run = await ligo([...c.base(flag), ...given], { LIGO_BACKEND: 'wasm' });
          const label = `${c.name} --${flag} ${value.name}`;
          expectClear(run, label);
          expect(run.code, label).not.toBe(0);
          const first = run.stderr.split('\n').find((l) => l.startsWith('ligo: ')) ?? '';
          expect(first, label).toContain(ACCEPTS[domain].includes(value.name) ? c.sentinel : `--${flag}`);
        }
      }
    }
    expect(await readdir(root)).toEqual(before);
  });
});

describe('the issue\'s cases in a real process (SPAWNED)', () => {
  it('grow --layers 1000000000: one line, exit 2, no heap abort (SPAWNED)', async () => {
    const run = await ligoProcess(['grow', GPT2_DIR, '--layers', '1000000000', '--out', path.join(root, 'o')], { NODE_OPTIONS: '--max-old-space-size=1024' });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr.trim()).toBe("ligo: --layers: 1000000000 is more than ligo's limit of 1,024 layers");
  });
});
